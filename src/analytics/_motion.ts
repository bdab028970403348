/**
 * The movement of one object in the current frame, as line crossing and direction
 * detection see it.
 *
 * Both compare where the object is now with its "previous position" from the history
 * (see `_history.ts`). The displacement that decides whether the object moved enough
 * is measured between the bottom centres of the two boxes:
 *
 * ```
 *   previous box          current box
 *   ┌─────┐               ┌─────┐
 *   │  +  │               │  +  │
 *   └──●──┘ ─────────────►└──●──┘
 *   (px, py + ph/2)        (cx, cy + h/2)       displacement² = dx² + dy², in float
 * ```
 *
 * @module
 */

import type { TrackHistory } from "./_history.ts";
import { f32, toInt32 } from "./geometry.ts";

/** Current box and history-derived values of one object, all C `int` unless noted. */
export class ObjectMotion {
  /** Box centre x now. */
  x = 0;
  /** Box centre y now. */
  y = 0;
  width = 0;
  height = 0;
  /** Previous position: box centre and size (0 before the object's 4th frame). */
  previousX = 0;
  previousY = 0;
  previousWidth = 0;
  previousHeight = 0;
  /** Mean box height over the history, C `float`. */
  meanHeight = 0;
  /** `(int) meanHeight / 2`: how far below the centre the reference point lies. */
  halfMeanHeight = 0;
  /** Frames the object has been seen in, this one included. */
  frames = 0;
  /** Squared bottom-centre displacement, converted to `int` as the library does. */
  displacementSq = 0;

  /** Fills in this frame's values for an object whose history already has this frame. */
  load(history: TrackHistory, x: number, y: number, width: number, height: number): void {
    this.x = x;
    this.y = y;
    this.width = width;
    this.height = height;
    this.previousX = history.previousX;
    this.previousY = history.previousY;
    this.previousWidth = history.previousWidth;
    this.previousHeight = history.previousHeight;
    this.meanHeight = history.meanHeight;
    this.halfMeanHeight = (toInt32(history.meanHeight) / 2) | 0;
    this.frames = history.frames;

    const dx = f32((x - this.previousX) | 0);
    const dy = f32(
      ((y + ((height / 2) | 0)) | 0) - ((this.previousY + ((this.previousHeight / 2) | 0)) | 0) | 0,
    );
    this.displacementSq = toInt32(f32(f32(dx * dx) + f32(dy * dy)));
  }
}
