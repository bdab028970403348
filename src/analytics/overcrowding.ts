/**
 * Overcrowding: how many objects stand in a region, and whether that reaches the
 * region's `object-threshold`.
 *
 * Objects are tested with the same point as ROI filtering (see `roi.ts`). A region is
 * overcrowded in a frame when at least one object is inside and the count reaches the
 * threshold; the library sets the flag while counting, so a threshold of 0 still needs
 * one object. `time-threshold` is read from the config but the library never uses it:
 * the status is per frame.
 *
 * @module
 */

import { ClassFilter } from "./_classes.ts";
import type { OvercrowdingConfig } from "./config.ts";
import { FramePolygon } from "./roi.ts";

/** One `roi-<label>` of an `[overcrowding-stream-N]` group, ready to evaluate. */
export class OvercrowdingRegion {
  readonly label: string;
  readonly enabled: boolean;
  readonly classes: ClassFilter;
  readonly polygon: FramePolygon;
  readonly objectThreshold: number;

  constructor(config: OvercrowdingConfig, scaleX: number, scaleY: number) {
    this.label = config.label;
    this.enabled = config.enabled;
    this.classes = new ClassFilter(config.classIds);
    this.polygon = new FramePolygon(config.polygon, scaleX, scaleY);
    this.objectThreshold = config.objectThreshold;
  }

  /**
   * Whether `count` objects inside reach the threshold. The engine asks each time an
   * object is added to the count, so a region with no object inside is never
   * overcrowded, whatever its threshold.
   */
  reaches(count: number): boolean {
    return count >= this.objectThreshold;
  }
}
