/**
 * The `class-id` filter every nvdsanalytics rule has.
 *
 * @module
 */

import { appliesToAllClasses } from "./config.ts";

/** Decides whether a rule applies to an object's class, as the library's `CheckValidClass`. */
export class ClassFilter {
  private readonly all: boolean;
  private readonly ids: readonly number[];

  /** @param classIds the rule's `class-id` list; empty, or containing -1, means every class */
  constructor(classIds: readonly number[]) {
    this.all = appliesToAllClasses(classIds);
    this.ids = [...classIds];
  }

  /** Whether the rule applies to `classId`. */
  accepts(classId: number): boolean {
    return this.all || this.ids.includes(classId);
  }
}
