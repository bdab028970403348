/**
 * A multi-object tracker for detector-only boxes (the CPU backend's motion detector and
 * replayed detections without ids). It gives each object a track id that stays the same
 * from frame to frame, including while the object stands still, which line crossing
 * needs: nvdsanalytics counts a track, not a box.
 *
 * Each frame runs four steps:
 *
 * 1. predict: every track's box moves by its smoothed velocity;
 * 2. associate: every (track, box) pair gets a score, overlap (IoU) with the predicted
 *    box first, centre distance as a fallback for small or fast objects whose boxes no
 *    longer overlap; pairs are matched greedily, best score first;
 * 3. update: a matched track takes the detector's box and updates its velocity; an
 *    unmatched track coasts and is deleted after `maxAgeFrames` frames without a match;
 * 4. birth: an unmatched box starts a tentative track, confirmed after `minHits`
 *    consecutive matches.
 *
 * Only confirmed tracks get an id in the output, so that a one-frame flicker of the
 * detector never becomes a counted crossing. Ids start at 1 per tracker and only grow.
 *
 * @module
 */

import type { Frame, FrameObject } from "../frame.ts";

/** Tracker parameters. */
export interface TrackerOptions {
  /** Minimum IoU between a predicted track box and a detection to match them. @default 0.1 */
  minIou?: number;
  /**
   * Maximum centre distance for a match when the boxes do not overlap enough, as a
   * multiple of the track box's diagonal. @default 0.75
   */
  maxDistanceFactor?: number;
  /** Frames a track survives without a matching detection before it is deleted. @default 15 */
  maxAgeFrames?: number;
  /** Consecutive matches before a track is confirmed and gets an id. @default 2 */
  minHits?: number;
  /** Weight of the newest displacement in the smoothed velocity, in (0, 1]. @default 0.5 */
  velocitySmoothing?: number;
}

interface Track {
  id: bigint | null; // null while tentative
  left: number;
  top: number;
  width: number;
  height: number;
  vx: number; // pixels per frame
  vy: number;
  hits: number;
  missed: number;
  classId: number;
}

const DEFAULTS: Required<TrackerOptions> = {
  minIou: 0.1,
  maxDistanceFactor: 0.75,
  maxAgeFrames: 15,
  minHits: 2,
  velocitySmoothing: 0.5,
};

/** Score of a distance-only match; always below any IoU match at `minIou`. */
const DISTANCE_SCORE_CEILING = 0.05;

/**
 * Assigns track ids to the untracked boxes of one stream.
 *
 * @example Track a box that moves right
 * ```ts
 * import { Tracker } from "./tracker.ts";
 *
 * const tracker = new Tracker();
 * const box = (left: number) => ({
 *   trackId: null, classId: 0, confidence: 1, left, top: 10, width: 20, height: 40,
 * });
 * const frame = (n: number, left: number) => ({
 *   streamId: 0, frameNumber: n, ptsNs: 0n, width: 640, height: 360, objects: [box(left)],
 * });
 * tracker.update(frame(1, 100));
 * const second = tracker.update(frame(2, 104));
 * console.assert(second.objects[0].trackId === 1n);
 * ```
 */
export class Tracker {
  readonly #options: Required<TrackerOptions>;
  #tracks: Track[] = [];
  #nextId = 1n;

  constructor(options: TrackerOptions = {}) {
    this.#options = { ...DEFAULTS, ...options };
    validate(this.#options);
  }

  /** Number of tracks alive (tentative ones included). */
  get size(): number {
    return this.#tracks.length;
  }

  /**
   * Returns `frame` with a track id on every box that belongs to a confirmed track;
   * other boxes keep `trackId: null`. Boxes that already carry an id are passed through.
   */
  update(frame: Frame): Frame {
    for (const track of this.#tracks) {
      track.left += track.vx;
      track.top += track.vy;
    }

    const detections = frame.objects;
    const matchOf = this.#associate(detections);

    const output: FrameObject[] = detections.map((object) => ({ ...object }));
    const matchedTracks = new Set<Track>();
    for (let i = 0; i < detections.length; i++) {
      const track = matchOf[i];
      if (track === undefined) continue;

      this.#updateTrack(track, detections[i]);
      matchedTracks.add(track);
      if (track.id !== null) output[i].trackId = track.id;
    }

    this.#tracks = this.#tracks.filter((track) => {
      if (matchedTracks.has(track)) return true;
      track.missed++;
      if (track.id === null) return false; // a tentative track must match every frame
      return track.missed <= this.#options.maxAgeFrames;
    });

    for (let i = 0; i < detections.length; i++) {
      if (matchOf[i] !== undefined || detections[i].trackId !== null) continue;
      this.#tracks.push(this.#birth(detections[i]));
    }

    return { ...frame, objects: output };
  }

  /** Returns, per detection index, the matched track or undefined. */
  #associate(detections: FrameObject[]): Array<Track | undefined> {
    const pairs: Array<{ score: number; track: Track; detection: number }> = [];

    for (const track of this.#tracks) {
      for (let d = 0; d < detections.length; d++) {
        const detection = detections[d];
        if (detection.trackId !== null) continue;

        const score = this.#score(track, detection);
        if (score > 0) pairs.push({ score, track, detection: d });
      }
    }
    pairs.sort((a, b) => b.score - a.score);

    const matchOf: Array<Track | undefined> = new Array(detections.length);
    const usedTracks = new Set<Track>();
    for (const pair of pairs) {
      if (usedTracks.has(pair.track) || matchOf[pair.detection] !== undefined) continue;
      usedTracks.add(pair.track);
      matchOf[pair.detection] = pair.track;
    }
    return matchOf;
  }

  /** Scores a pair: IoU when it reaches `minIou`, else a small distance-based score, else 0. */
  #score(track: Track, box: FrameObject): number {
    const overlap = iou(track, box);
    if (overlap >= this.#options.minIou) return overlap;

    const dx = track.left + track.width / 2 - (box.left + box.width / 2);
    const dy = track.top + track.height / 2 - (box.top + box.height / 2);
    const distance = Math.hypot(dx, dy);
    const limit = this.#options.maxDistanceFactor * Math.hypot(track.width, track.height);
    if (distance > limit) return 0;

    return DISTANCE_SCORE_CEILING * (1 - distance / limit) + Number.EPSILON;
  }

  #updateTrack(track: Track, box: FrameObject) {
    const alpha = this.#options.velocitySmoothing;
    const steps = track.missed + 1;

    // The box was predicted `steps` frames ahead of its last match: measure the
    // displacement against the prediction's starting point.
    const previousLeft = track.left - track.vx * steps;
    const previousTop = track.top - track.vy * steps;
    const centerDx = box.left + box.width / 2 - (previousLeft + track.width / 2);
    const centerDy = box.top + box.height / 2 - (previousTop + track.height / 2);
    track.vx = alpha * (centerDx / steps) + (1 - alpha) * track.vx;
    track.vy = alpha * (centerDy / steps) + (1 - alpha) * track.vy;

    track.left = box.left;
    track.top = box.top;
    track.width = box.width;
    track.height = box.height;
    track.classId = box.classId;
    track.missed = 0;
    track.hits++;

    if (track.id === null && track.hits >= this.#options.minHits) {
      track.id = this.#nextId++;
    }
  }

  #birth(box: FrameObject): Track {
    const track: Track = {
      id: null,
      left: box.left,
      top: box.top,
      width: box.width,
      height: box.height,
      vx: 0,
      vy: 0,
      hits: 1,
      missed: 0,
      classId: box.classId,
    };
    if (this.#options.minHits <= 1) track.id = this.#nextId++;
    return track;
  }
}

function iou(a: { left: number; top: number; width: number; height: number }, b: FrameObject) {
  const overlapWidth = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
  const overlapHeight = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
  if (overlapWidth <= 0 || overlapHeight <= 0) return 0;

  const intersection = overlapWidth * overlapHeight;
  const union = a.width * a.height + b.width * b.height - intersection;
  return union > 0 ? intersection / union : 0;
}

function validate(options: Required<TrackerOptions>) {
  const check = (ok: boolean, name: string, rule: string, value: number) => {
    if (!ok) throw new RangeError(`tracker option ${name} must be ${rule}, got ${value}`);
  };
  check(options.minIou > 0 && options.minIou <= 1, "minIou", "in (0, 1]", options.minIou);
  check(options.maxDistanceFactor >= 0, "maxDistanceFactor", ">= 0", options.maxDistanceFactor);
  check(
    Number.isInteger(options.maxAgeFrames) && options.maxAgeFrames >= 0,
    "maxAgeFrames",
    "an integer >= 0",
    options.maxAgeFrames,
  );
  check(
    Number.isInteger(options.minHits) && options.minHits >= 1,
    "minHits",
    "an integer >= 1",
    options.minHits,
  );
  check(
    options.velocitySmoothing > 0 && options.velocitySmoothing <= 1,
    "velocitySmoothing",
    "in (0, 1]",
    options.velocitySmoothing,
  );
}
