/**
 * Line crossing: has an object just moved across a line, in the direction of its arrow?
 *
 * A `line-crossing-<label>` key gives an arrow (the direction that counts) and a line
 * segment:
 *
 * ```
 *                    L1
 *                    │
 *          D1 ───────┼──────► D2        arrow D1 → D2: objects moving this way count
 *                    │
 *                    L2                 the line through L1 and L2
 * ```
 *
 * Each frame the library compares the object's previous position with its current one
 * (see `_history.ts` and `_motion.ts`). A crossing counts when all of these hold:
 *
 * 1. the object moved enough: squared bottom-centre displacement above a threshold,
 *    and it has been seen in more than a minimum number of frames (both per `mode`);
 * 2. it moved the arrow's way: the cosine between its movement and the arrow is at
 *    least the mode's threshold, and the two positions lie on opposite sides of the
 *    line, each at least one pixel away (the signed distances are truncated to `int`,
 *    so a position within a pixel of the line is "on" it and never counts). In `loose`
 *    mode the arrow's start side decides instead: the movement only has to go from the
 *    start side to the other side (a position exactly on the line counts as arrived);
 * 3. with `extended=0`, the movement also passes through the segment itself: the
 *    segment between the two positions, or the same segment shifted left or right by
 *    half the box width, meets the line strictly between L1 and L2.
 *
 * The previous position's reference point is its centre moved down by half the mean box
 * height; the current one's by half the current box height.
 *
 * An object counts at most once per label while the library keeps its state (until it
 * has been unseen for more than 8 s).
 *
 * @module
 */

import type { ObjectMotion } from "./_motion.ts";
import { ClassFilter } from "./_classes.ts";
import type { LineCrossingConfig, LineCrossingMode } from "./config.ts";
import {
  f32,
  intersectLines,
  lineEquation,
  movesAlong,
  type Point,
  scaleCoordinate,
  sideOfLine,
  toInt32,
  unitVector,
} from "./geometry.ts";

/** Thresholds of one `mode`. */
interface ModeThresholds {
  /** Squared displacement (pixels²) that must be exceeded. */
  minDisplacementSq: number;
  /** Minimum cosine between the movement and the arrow, a C `float`. */
  minCosine: number;
  /** Frames the object must have been seen in, exceeded. */
  minFrames: number;
}

const THRESHOLDS: Record<LineCrossingMode, ModeThresholds> = {
  strict: { minDisplacementSq: 6000, minCosine: f32(0.8), minFrames: 20 },
  balanced: { minDisplacementSq: 3000, minCosine: f32(0.5), minFrames: 10 },
  loose: { minDisplacementSq: 1000, minCosine: f32(0.1), minFrames: 3 },
};

/**
 * Which way across the line counts in `loose` mode, from the side the arrow starts on.
 * `"arrow"` when that cannot be told (the arrow starts on the line and ends on it, or
 * is parallel to it); loose mode then uses the arrow test of the other modes.
 */
export type SideRule = "arrow" | "positive-to-negative" | "negative-to-positive";

/** One `line-crossing-<label>`, scaled to the frame and ready to evaluate. */
export class LineCrossing {
  readonly label: string;
  readonly enabled: boolean;
  readonly classes: ClassFilter;
  readonly extended: boolean;
  readonly mode: LineCrossingMode;
  /** Unit vector of the arrow, in frame pixels. */
  readonly arrow: Point;
  /** Line ends L1, L2 in frame pixels (C `int`). */
  readonly segment: readonly [Point, Point];
  /** Which crossing direction counts in loose mode. */
  readonly sideRule: SideRule;
  /**
   * The line as a normalised `a·x + b·y + c = 0` (see `lineEquation`). Kept mutable:
   * the library renormalises it in place at every segment test, which can change its
   * last bit, and results on the line itself depend on that bit.
   */
  private readonly equation: Float64Array;
  private readonly thresholds: ModeThresholds;

  constructor(config: LineCrossingConfig, scaleX: number, scaleY: number) {
    this.label = config.label;
    this.enabled = config.enabled;
    this.classes = new ClassFilter(config.classIds);
    this.extended = config.extended;
    this.mode = config.mode;
    this.thresholds = THRESHOLDS[config.mode];

    const scale = (p: { x: number; y: number }): Point => ({
      x: scaleCoordinate(p.x, scaleX),
      y: scaleCoordinate(p.y, scaleY),
    });
    const d1 = scale(config.direction[0]);
    const d2 = scale(config.direction[1]);
    const l1 = scale(config.segment[0]);
    const l2 = scale(config.segment[1]);
    this.segment = [l1, l2];
    this.arrow = unitVector(d1.x, d1.y, d2.x, d2.y);
    this.equation = lineEquation(l1.x, l1.y, l2.x, l2.y);
    this.sideRule = sideRuleOf(d1, d2, l1, l2, this.arrow);
  }

  /**
   * Whether the object's movement this frame is a crossing (rules 1-3 of the module
   * note). The caller has checked `enabled`, the class and the counted-once rule.
   */
  crossedBy(m: ObjectMotion): boolean {
    const t = this.thresholds;
    if (!(m.displacementSq > t.minDisplacementSq && m.frames > t.minFrames)) return false;

    const currentY = (m.y + ((m.height / 2) | 0)) | 0;
    let crossed: boolean;
    if (this.sideRule === "arrow" || this.mode !== "loose") {
      const previousY = (m.previousY + m.halfMeanHeight) | 0;
      crossed = movesAlong(this.arrow, m.previousX, previousY, m.x, currentY, t.minCosine) &&
        this.changesSide(m.previousX, previousY, m.x, currentY);
    } else {
      // Loose mode: only the side change from the arrow's start side counts. The
      // previous point's y is a float sum here (int + mean height / 2).
      const now = sideOfLine(this.equation, m.x, currentY);
      const before = sideOfLine(
        this.equation,
        m.previousX,
        f32(m.previousY + f32(m.meanHeight / 2)),
      );
      crossed = (now >= 0 && this.sideRule === "negative-to-positive" && before < 0) ||
        (now <= 0 && this.sideRule === "positive-to-negative" && before > 0);
    }

    if (crossed && !this.extended) crossed = this.passesThroughSegment(m);
    return crossed;
  }

  /** Opposite sides, each at least a pixel away: signed distances truncated to `int`. */
  private changesSide(px: number, py: number, cx: number, cy: number): boolean {
    const before = toInt32(sideOfLine(this.equation, px, py));
    const now = toInt32(sideOfLine(this.equation, cx, cy));
    return (now > 0 && before < 0) || (now < 0 && before > 0);
  }

  /**
   * Rule 3: the movement, or the movement shifted sideways by half the box width, meets
   * the line strictly between its two ends.
   *
   * ```
   *        L1
   *   ○────┼────►●     centre path
   *  ○─────┼────►●     left edge path (x − w/2)   any of the three inside L1‥L2 counts
   *    ○───┼─────►●    right edge path (x + w/2)
   *        L2
   * ```
   */
  private passesThroughSegment(m: ObjectMotion): boolean {
    const xp = m.previousX;
    const yp = m.previousY + m.meanHeight / 2;
    const xc = m.x;
    const yc = m.y + m.height / 2;
    const halfPrevious = (m.previousWidth / 2) | 0;
    const halfCurrent = (m.width / 2) | 0;
    return this.meetsSegment(xp, yp, xc, yc) ||
      this.meetsSegment(xp + halfPrevious, yp, xc + halfCurrent, yc) ||
      this.meetsSegment(xp - halfPrevious, yp, xc - halfCurrent, yc);
  }

  /**
   * Whether the infinite line through the movement meets the configured line at a point
   * I strictly between L1 and L2: `(I − L1)·(L2 − L1) > 0` and `|L2 − L1|² > |I − L1|²`.
   */
  private meetsSegment(xp: number, yp: number, xc: number, yc: number): boolean {
    const hit = intersectLines(lineEquation(xp, yp, xc, yc), this.equation);
    if (hit === null) return false;
    const [l1, l2] = this.segment;
    const ux = hit.x - l1.x;
    const uy = hit.y - l1.y;
    const vx = l2.x - l1.x;
    const vy = l2.y - l1.y;
    return ux * vx + uy * vy > 0 && vx * vx + vy * vy > ux * ux + uy * uy;
  }
}

/**
 * Finds which side of the line the arrow starts on, for loose mode.
 *
 * The arrow's own line meets the configured line at a point I. If the arrow points
 * towards I (its tail-to-I vector is along the arrow, cosine > 0.99) the tail's side is
 * where objects come from; if it points away, they come from the other side. The
 * tail's side is the sign of its distance to the line (with a 1e-5 margin); when the
 * tail lies on the line, the head decides the same way.
 */
function sideRuleOf(d1: Point, d2: Point, l1: Point, l2: Point, arrow: Point): SideRule {
  const arrowLine = lineEquation(d1.x, d1.y, d2.x, d2.y);
  const line = lineEquation(l1.x, l1.y, l2.x, l2.y);
  const hit = intersectLines(arrowLine, line);
  if (hit === null) return "arrow";

  const fromTail = unitVector(d1.x, d1.y, hit.x, hit.y);
  const fromHead = unitVector(d2.x, d2.y, hit.x, hit.y);
  const tailAlong = fromTail.x * arrow.x + fromTail.y * arrow.y;
  const headAlong = fromHead.x * arrow.x + fromHead.y * arrow.y;
  const tailSide = sideOfLine(line, d1.x, d1.y);
  const headSide = sideOfLine(line, d2.x, d2.y);

  if ((tailAlong > 0.99 && tailSide > 1e-5) || (tailAlong < -0.99 && tailSide < 1e-5)) {
    return "positive-to-negative";
  }
  if ((tailAlong < -0.99 && tailSide > 1e-5) || (tailAlong > 0.99 && tailSide < 1e-5)) {
    return "negative-to-positive";
  }
  if ((headAlong > 0.99 && headSide > 0) || (headAlong < -0.99 && headSide < 0)) {
    return "positive-to-negative";
  }
  if ((headAlong < -0.99 && headSide > 0) || (headAlong > 0.99 && headSide < 0)) {
    return "negative-to-positive";
  }
  return "arrow";
}
