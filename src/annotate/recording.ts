/**
 * The boxes, track ids and cumulative line-crossing counts of one stream, frame by
 * frame, kept in growable typed arrays so that a long run stays small: an object costs
 * 24 bytes and a frame 9 bytes plus 4 per line label. A 10-minute video at 30 fps with
 * 20 objects per frame takes about 9 MB.
 *
 * @module
 */

import { UNTRACKED } from "../../ffi/constants.ts";

/** One recorded box in the pixels of the processed frame. */
export interface RecordedObject {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Track id, or `null` for a box no tracker has assigned. */
  trackId: bigint | null;
}

/** The objects of one frame and the running totals of each line label after it. */
export interface RecordedFrame {
  objects: RecordedObject[];
  /** Cumulative crossings, in the order of {@linkcode AnnotationRecording.labels}. */
  counts: number[];
}

/** A box as {@linkcode AnnotationRecording.add} takes it. */
export interface BoxInput {
  left: number;
  top: number;
  width: number;
  height: number;
  trackId: bigint | null;
}

const INITIAL_FRAMES = 1024;
const INITIAL_OBJECTS = 8192;

/**
 * Per-frame boxes and counts of one stream, indexed by one-based frame number.
 *
 * @example Record two frames and read one back
 * ```ts
 * import { AnnotationRecording } from "./recording.ts";
 *
 * const recording = new AnnotationRecording(["Up", "Down"]);
 * recording.add(1, 0n, 640, 360, [{ left: 10, top: 20, width: 30, height: 40, trackId: 7n }], { Up: 0 });
 * recording.add(2, 40_000_000n, 640, 360, [], { Up: 1, Down: 2 });
 * console.assert(recording.frame(1)?.objects[0].trackId === 7n);
 * console.assert(recording.frame(2)?.counts.join() === "1,2");
 * ```
 */
export class AnnotationRecording {
  /** Line labels whose counts are recorded, in panel order. */
  readonly labels: readonly string[];
  /** Processed frame size of the first recorded frame: the boxes' coordinate space. */
  frameWidth = 0;
  frameHeight = 0;
  /** Highest frame number recorded; 0 before the first frame. */
  lastFrameNumber = 0;
  /** Number of frames recorded. */
  frameCount = 0;
  /** Presentation times of the first and last recorded frames, in nanoseconds. */
  firstPtsNs = 0n;
  lastPtsNs = 0n;

  #recorded = new Uint8Array(INITIAL_FRAMES);
  #objectStart = new Uint32Array(INITIAL_FRAMES);
  #objectCount = new Uint32Array(INITIAL_FRAMES);
  #counts: Uint32Array;
  #boxes = new Float32Array(INITIAL_OBJECTS * 4);
  #trackIds = new BigUint64Array(INITIAL_OBJECTS);
  #objects = 0;

  constructor(labels: readonly string[]) {
    this.labels = [...labels];
    this.#counts = new Uint32Array(INITIAL_FRAMES * Math.max(1, this.labels.length));
  }

  /**
   * Records frame `frameNumber` (one-based). Counts of labels missing from `cumulative`
   * are recorded as 0; a frame recorded twice keeps its first objects.
   */
  add(
    frameNumber: number,
    ptsNs: bigint,
    frameWidth: number,
    frameHeight: number,
    boxes: readonly BoxInput[],
    cumulative: Readonly<Record<string, number>>,
  ): void {
    if (!Number.isInteger(frameNumber) || frameNumber < 1) {
      throw new RangeError(`frame number ${frameNumber} is invalid: frame numbers start at 1`);
    }
    const index = frameNumber - 1;
    this.#ensureFrames(frameNumber);
    if (this.#recorded[index]) return;

    if (this.frameCount === 0) {
      this.frameWidth = frameWidth;
      this.frameHeight = frameHeight;
      this.firstPtsNs = ptsNs;
    }
    this.#ensureObjects(this.#objects + boxes.length);
    this.#objectStart[index] = this.#objects;
    this.#objectCount[index] = boxes.length;
    for (const box of boxes) {
      this.#boxes.set([box.left, box.top, box.width, box.height], this.#objects * 4);
      this.#trackIds[this.#objects] = box.trackId ?? UNTRACKED;
      this.#objects++;
    }

    const stride = Math.max(1, this.labels.length);
    this.labels.forEach((label, i) => {
      this.#counts[index * stride + i] = cumulative[label] ?? 0;
    });
    this.#recorded[index] = 1;
    this.frameCount++;
    if (frameNumber > this.lastFrameNumber) {
      this.lastFrameNumber = frameNumber;
      this.lastPtsNs = ptsNs;
    }
  }

  /** Returns the record of frame `frameNumber`, or `undefined` when it was not recorded. */
  frame(frameNumber: number): RecordedFrame | undefined {
    const index = frameNumber - 1;
    if (index < 0 || index >= this.lastFrameNumber || !this.#recorded[index]) return undefined;

    const objects: RecordedObject[] = [];
    const start = this.#objectStart[index];
    for (let i = start; i < start + this.#objectCount[index]; i++) {
      const id = this.#trackIds[i];
      objects.push({
        left: this.#boxes[i * 4],
        top: this.#boxes[i * 4 + 1],
        width: this.#boxes[i * 4 + 2],
        height: this.#boxes[i * 4 + 3],
        trackId: id === UNTRACKED ? null : id,
      });
    }
    const stride = Math.max(1, this.labels.length);
    const counts = this.labels.map((_, i) => this.#counts[index * stride + i]);
    return { objects, counts };
  }

  /**
   * Returns the mean frame rate of the recorded frames as a fraction with denominator
   * 1000, or `undefined` when fewer than two frames span no time.
   */
  frameRate(): { numerator: number; denominator: number } | undefined {
    const spanNs = Number(this.lastPtsNs - this.firstPtsNs);
    const intervals = this.lastFrameNumber - 1;
    if (intervals < 1 || spanNs <= 0) return undefined;

    const numerator = Math.round((intervals * 1e12) / spanNs);
    if (numerator < 1) return undefined;
    const divisor = greatestCommonDivisor(numerator, 1000);
    return { numerator: numerator / divisor, denominator: 1000 / divisor };
  }

  #ensureFrames(frameNumber: number): void {
    if (frameNumber <= this.#recorded.length) return;

    let length = this.#recorded.length;
    while (length < frameNumber) length *= 2;
    this.#recorded = grow(this.#recorded, new Uint8Array(length));
    this.#objectStart = grow(this.#objectStart, new Uint32Array(length));
    this.#objectCount = grow(this.#objectCount, new Uint32Array(length));
    this.#counts = grow(this.#counts, new Uint32Array(length * Math.max(1, this.labels.length)));
  }

  #ensureObjects(objects: number): void {
    if (objects <= this.#trackIds.length) return;

    let length = this.#trackIds.length;
    while (length < objects) length *= 2;
    this.#boxes = grow(this.#boxes, new Float32Array(length * 4));
    this.#trackIds = grow(this.#trackIds, new BigUint64Array(length));
  }
}

function grow<T extends Uint8Array | Uint32Array | Float32Array | BigUint64Array>(
  from: T,
  to: T,
): T {
  // deno-lint-ignore no-explicit-any
  (to as any).set(from);
  return to;
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
