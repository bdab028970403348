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

/** Ring slots allocated up front; the default history (50 frames) fits. */
const INITIAL_SLOTS = 64;

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
  /** The ring: slot i holds centre x, centre y, width, height at 4i … 4i + 3. */
  private ring: Int32Array;
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
    this.ring = new Int32Array(4 * Math.min(length, INITIAL_SLOTS));
  }

  /**
   * Adds this frame's box (centre `cx, cy`, size `w × h`, all C `int`) and updates the
   * means, variances and previous position.
   */
  add(cx: number, cy: number, w: number, h: number): void {
    const length = this.length;
    const slot = this.next;
    const at = 4 * slot;
    if (this.frames >= length) {
      // The ring is full: the oldest box leaves the sums.
      const ring = this.ring;
      const ox = ring[at];
      const oy = ring[at + 1];
      this.sumX -= ox;
      this.sumY -= oy;
      this.sumSqX -= Math.imul(ox, ox);
      this.sumSqY -= Math.imul(oy, oy);
      this.sumW -= ring[at + 2];
      this.sumH -= ring[at + 3];
    } else if (at >= this.ring.length) {
      this.grow();
    }
    const ring = this.ring;
    ring[at] = cx;
    ring[at + 1] = cy;
    ring[at + 2] = w;
    ring[at + 3] = h;
    this.next = slot + 1 === length ? 0 : slot + 1;

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
    const ring = this.ring;
    if (this.frames < this.length) {
      // Young object: the mean of its first two boxes.
      this.previousX = ((ring[0] + ring[4]) | 0) / 2 | 0;
      this.previousY = ((ring[1] + ring[5]) | 0) / 2 | 0;
      this.previousWidth = ((ring[2] + ring[6]) | 0) / 2 | 0;
      this.previousHeight = ((ring[3] + ring[7]) | 0) / 2 | 0;
      return;
    }
    // Full ring: the mean of the four oldest boxes, starting at the next slot to write.
    const length = this.length;
    const a = 4 * this.next;
    const b = 4 * ((this.next + 1) % length);
    const c = 4 * ((this.next + 2) % length);
    const d = 4 * ((this.next + 3) % length);
    this.previousX = ((ring[a] + ring[b] + ring[c] + ring[d]) | 0) / 4 | 0;
    this.previousY = ((ring[a + 1] + ring[b + 1] + ring[c + 1] + ring[d + 1]) | 0) / 4 | 0;
    this.previousWidth = ((ring[a + 2] + ring[b + 2] + ring[c + 2] + ring[d + 2]) | 0) / 4 | 0;
    this.previousHeight = ((ring[a + 3] + ring[b + 3] + ring[c + 3] + ring[d + 3]) | 0) / 4 | 0;
  }

  private grow(): void {
    const slots = Math.min(this.length, (this.ring.length / 4) * 2);
    const ring = new Int32Array(4 * slots);
    ring.set(this.ring);
    this.ring = ring;
  }
}
