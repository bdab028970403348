/**
 * ROI filtering: is an object inside a polygon (or, with `inverse-roi`, outside it)?
 *
 * The object is represented by one point: the centre of its box in x, and in y the
 * centre moved down by half the object's mean height over its history, which is the
 * bottom edge for an object whose height does not change. That is where a person's
 * feet or a car's wheels touch the ground, so an ROI drawn on the ground plane
 * contains the objects standing on it:
 *
 * ```
 *   ┌───────┐
 *   │       │
 *   │   +   │  centre (cx, cy)
 *   │       │
 *   └───●───┘  test point (cx, cy + ⌊mean height⌋ / 2)
 * ```
 *
 * The same point is used for overcrowding regions.
 *
 * @module
 */

import { ClassFilter } from "./_classes.ts";
import type { RoiFilterConfig } from "./config.ts";
import { insidePolygon, scaleCoordinate } from "./geometry.ts";

/** A polygon in frame pixels, scaled from config pixels as the library does. */
export class FramePolygon {
  readonly xs: Int32Array;
  readonly ys: Int32Array;

  constructor(points: readonly { x: number; y: number }[], scaleX: number, scaleY: number) {
    this.xs = Int32Array.from(points, (p) => scaleCoordinate(p.x, scaleX));
    this.ys = Int32Array.from(points, (p) => scaleCoordinate(p.y, scaleY));
  }

  /** Whether the frame point `(x, y)` (C `int`) is inside, by the library's ray casting. */
  contains(x: number, y: number): boolean {
    return insidePolygon(this.xs, this.ys, x, y);
  }
}

/** One `roi-<label>` of a `[roi-filtering-stream-N]` group, ready to evaluate. */
export class RoiFilter {
  readonly label: string;
  readonly enabled: boolean;
  readonly classes: ClassFilter;
  readonly polygon: FramePolygon;
  readonly inverse: boolean;

  constructor(config: RoiFilterConfig, scaleX: number, scaleY: number) {
    this.label = config.label;
    this.enabled = config.enabled;
    this.classes = new ClassFilter(config.classIds);
    this.polygon = new FramePolygon(config.polygon, scaleX, scaleY);
    this.inverse = config.inverse;
  }

  /**
   * Whether an object with its test point at `(x, y)` counts for this ROI: inside the
   * polygon, or outside it for an inverse ROI.
   */
  matches(x: number, y: number): boolean {
    return this.polygon.contains(x, y) !== this.inverse;
  }
}
