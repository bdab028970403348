/**
 * Direction detection: is an object moving the way of a configured arrow? Is it
 * standing still?
 *
 * A `direction-<label>` key is an arrow `x1;y1;x2;y2`; only its direction matters, not
 * where it is drawn. For each object the library walks the direction rules of its class
 * in config order:
 *
 * - If the object has been seen in more frames than its history holds and it hardly
 *   moved over that history — variance of the centre x at most 400 px² (a standard
 *   deviation of 20 px) and variance of the centre y at most 1 % of its mean box height
 *   — it is "STOPPED": the status gets ` STOPPED ` once and no direction is tested.
 * - Otherwise, when it moved enough (squared bottom-centre displacement over 3000 px²,
 *   about 55 px) and has been seen in more than 10 frames, its movement from the
 *   previous position to now is compared with the arrow: a cosine of at least 0.5
 *   (within 60° of the arrow) matches, and ` DIR:<label> ` is added.
 *
 * ```
 *            arrow ──────►
 *      ╲ 60°
 *   prev ●────────────● now      cos θ ≥ 0.5: matches
 *      ╱ 60°
 * ```
 *
 * Both positions are the box centre moved down by half the mean box height, so the
 * movement is the centre's. The `mode` key is read but has no effect here.
 *
 * @module
 */

import type { ObjectMotion } from "./_motion.ts";
import { ClassFilter } from "./_classes.ts";
import type { DirectionConfig } from "./config.ts";
import { f32, movesAlong, type Point, scaleCoordinate, unitVector } from "./geometry.ts";

const MIN_DISPLACEMENT_SQ = 3000;
const MIN_FRAMES = 10;
const MIN_COSINE = f32(0.5);
const MAX_STOPPED_VARIANCE_X = 400;
const MAX_STOPPED_VARIANCE_Y_RATIO = 0.01;

/** One `direction-<label>`, scaled to the frame and ready to evaluate. */
export class DirectionRule {
  readonly label: string;
  readonly enabled: boolean;
  readonly classes: ClassFilter;
  /** Unit vector of the arrow in frame pixels; (0, 0) when it scales to a point. */
  readonly arrow: Point;

  constructor(config: DirectionConfig, scaleX: number, scaleY: number) {
    this.label = config.label;
    this.enabled = config.enabled;
    this.classes = new ClassFilter(config.classIds);
    const x1 = scaleCoordinate(config.from.x, scaleX);
    const y1 = scaleCoordinate(config.from.y, scaleY);
    const x2 = scaleCoordinate(config.to.x, scaleX);
    const y2 = scaleCoordinate(config.to.y, scaleY);
    this.arrow = unitVector(x1, y1, x2, y2);
  }

  /** Whether the object moved enough, and along this arrow. */
  matches(m: ObjectMotion): boolean {
    if (!(m.displacementSq > MIN_DISPLACEMENT_SQ && m.frames > MIN_FRAMES)) return false;
    return movesAlong(
      this.arrow,
      m.previousX,
      (m.previousY + m.halfMeanHeight) | 0,
      m.x,
      (m.y + m.halfMeanHeight) | 0,
      MIN_COSINE,
    );
  }
}

/**
 * Whether an object counts as standing still, from the variances over its history.
 *
 * @param frames frames the object has been seen in
 * @param historyLength frames its history holds
 * @param varianceX variance of the centre x, C `float`
 * @param varianceY variance of the centre y, C `float`
 * @param meanHeight mean box height, C `float`
 */
export function isStopped(
  frames: number,
  historyLength: number,
  varianceX: number,
  varianceY: number,
  meanHeight: number,
): boolean {
  return frames > historyLength && varianceX <= MAX_STOPPED_VARIANCE_X &&
    f32(varianceY / meanHeight) <= MAX_STOPPED_VARIANCE_Y_RATIO;
}
