/**
 * What nvdsanalytics remembers about one tracked object: a short history of its box,
 * running sums over that history, and the labels of the lines it has already crossed.
 *
 * The history is a ring of the last `length` boxes (box centre, width, height), where
 * `length` is the plugin's `obj-cnt-win-in-ms` value used as a frame count (50 frames
 * when the key is absent). From it the library derives, each frame:
 *
 * - the mean box height over the ring, which moves the object's reference point from
 *   the box centre down towards its bottom edge (`centre y + mean height / 2`);
 * - the variance of the centre's x and y over the ring, which marks an object that
 *   stands still ("STOPPED");
 * - a "previous position" to compare with the current one: while the ring is not yet
 *   full, the mean of the first two boxes ever seen; once it is full, the mean of the
 *   four oldest boxes in the ring, about `length` frames ago.
 *
 * Sums are exact integers (the library keeps them in 64-bit integers); means and
 * variances are computed in C `float`, step by step, as the library does.
 *
 * @module
 */

import { f32 } from "./geometry.ts";

const TWO_POW_64 = 18446744073709551616;

/** A tracking id as a map key: a number when exact, otherwise the bigint itself. */
export type TrackKey = number | bigint;

/** Turns a tracking id into a {@linkcode TrackKey}. */
export function trackKey(id: bigint): TrackKey {
  return id <= 0x1fffffffffffffn ? Number(id) : id;
}

/**
 * The key nvdsanalytics actually erases when it expires the object `id`: it collects
 * expired ids in a `std::vector<int>`, so the id is cut to its low 32 bits, read as a
 * signed int, and widened back to 64 bits. Ids below 2^31 erase themselves; 2^32 + 1
 * erases id 1; 2^31 + 5 erases 2^64 − 2^31 + 5, which no tracker uses.
 */
export function expiryKey(id: bigint): TrackKey {
  if (id < 0x80000000n) return Number(id);
  return trackKey(BigInt.asUintN(64, BigInt.asIntN(32, id)));
}

/** C `(float)` of a `uint64_t` sum that may have wrapped below zero. */
function u64ToFloat(sum: number): number {
  return f32(sum < 0 ? sum + TWO_POW_64 : sum);
}

/** One tracked object's state. */
export class TrackHistory {
  /** Timestamp (ns) of the last frame the object was in. */
  lastSeenPts: number;
  /** Number of frames the object has been seen in (`frmCnt`). */
  frames = 0;
  /** Mean box height over the ring, C `float`. */
  meanHeight = 0;
  /** Variance of the centre x over the ring, C `float` (the library calls it `stdX`). */
  varianceX = 0;
  /** Variance of the centre y over the ring, C `float`. */
  varianceY = 0;
  /** "Previous position" centre x, see the module note; 0 until the 4th frame. */
  previousX = 0;
  /** "Previous position" centre y. */
  previousY = 0;
  /** "Previous position" box width. */
  previousWidth = 0;
  /** "Previous position" box height. */
  previousHeight = 0;
  /** Labels of the lines this object has been counted for (each at most once). */
  crossed: Set<string> | undefined;
  /** The key erased when this object expires, see {@linkcode expiryKey}. */
  readonly expiryKey: TrackKey;

  /** Ring capacity: the history length. */
  private readonly length: number;
  /** Next ring slot to write (`frmIdx`). */
  private next = 0;
  private xs: Int32Array;
  private ys: Int32Array;
  private ws: Int32Array;
  private hs: Int32Array;
  private sumX = 0;
  private sumY = 0;
  private sumSqX = 0;
  private sumSqY = 0;
  private sumW = 0;
  private sumH = 0;

  constructor(length: number, pts: number, expiry: TrackKey) {
    this.length = length;
    this.lastSeenPts = pts;
    this.expiryKey = expiry;
    // The ring grows to `length` as frames arrive: `obj-cnt-win-in-ms` may be large.
    const initial = Math.min(length, 16);
    this.xs = new Int32Array(initial);
    this.ys = new Int32Array(initial);
    this.ws = new Int32Array(initial);
    this.hs = new Int32Array(initial);
  }

  /**
   * Adds this frame's box (centre `cx, cy`, size `w × h`, all C `int`) and updates the
   * means, variances and previous position.
   */
  add(cx: number, cy: number, w: number, h: number): void {
    const length = this.length;
    const slot = this.next;
    if (this.frames >= length) {
      // The ring is full: the oldest box leaves the sums.
      const ox = this.xs[slot];
      const oy = this.ys[slot];
      this.sumX -= ox;
      this.sumY -= oy;
      this.sumSqX -= Math.imul(ox, ox);
      this.sumSqY -= Math.imul(oy, oy);
      this.sumW -= this.ws[slot];
      this.sumH -= this.hs[slot];
    } else if (slot >= this.xs.length) {
      this.grow();
    }
    this.xs[slot] = cx;
    this.ys[slot] = cy;
    this.ws[slot] = w;
    this.hs[slot] = h;
    this.next = (slot + 1) % length;

    this.sumX += cx;
    this.sumY += cy;
    this.sumW += w;
    this.sumH += h;
    this.sumSqX += Math.imul(cx, cx);
    this.sumSqY += Math.imul(cy, cy);

    // Mean and variance over the boxes in the ring (float, as the library computes
    // them: E[x²] − E[x]², each step rounded to float).
    const window = f32(this.frames < length ? this.frames + 1 : length);
    this.meanHeight = f32(u64ToFloat(this.sumH) / window);
    const meanX = f32(u64ToFloat(this.sumX) / window);
    const meanY = f32(u64ToFloat(this.sumY) / window);
    this.varianceX = f32(f32(u64ToFloat(this.sumSqX) / window) - f32(meanX * meanX));
    this.varianceY = f32(f32(u64ToFloat(this.sumSqY) / window) - f32(meanY * meanY));

    this.frames++;
    this.updatePrevious();
  }

  /** Whether the object has been counted for a line label. */
  hasCrossed(label: string): boolean {
    return this.crossed !== undefined && this.crossed.has(label);
  }

  /** Records that the object has been counted for a line label. */
  markCrossed(label: string): void {
    (this.crossed ??= new Set()).add(label);
  }

  private updatePrevious(): void {
    if (this.frames <= 3) {
      this.previousX =
        this.previousY =
        this.previousWidth =
        this.previousHeight =
          0;
      return;
    }
    const { xs, ys, ws, hs } = this;
    if (this.frames < this.length) {
      // Young object: the mean of its first two boxes.
      this.previousX = ((xs[0] + xs[1]) | 0) / 2 | 0;
      this.previousY = ((ys[0] + ys[1]) | 0) / 2 | 0;
      this.previousWidth = ((ws[0] + ws[1]) | 0) / 2 | 0;
      this.previousHeight = ((hs[0] + hs[1]) | 0) / 2 | 0;
      return;
    }
    // Full ring: the mean of the four oldest boxes, starting at the next slot to write.
    const length = this.length;
    const i0 = this.next;
    const i1 = (i0 + 1) % length;
    const i2 = (i0 + 2) % length;
    const i3 = (i0 + 3) % length;
    this.previousX = ((xs[i0] + xs[i1] + xs[i2] + xs[i3]) | 0) / 4 | 0;
    this.previousY = ((ys[i0] + ys[i1] + ys[i2] + ys[i3]) | 0) / 4 | 0;
    this.previousWidth = ((ws[i0] + ws[i1] + ws[i2] + ws[i3]) | 0) / 4 | 0;
    this.previousHeight = ((hs[i0] + hs[i1] + hs[i2] + hs[i3]) | 0) / 4 | 0;
  }

  private grow(): void {
    const capacity = Math.min(this.length, this.xs.length * 2);
    const widen = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    this.xs = widen(this.xs);
    this.ys = widen(this.ys);
    this.ws = widen(this.ws);
    this.hs = widen(this.hs);
  }
}
