/**
 * The analytics engine: nvdsanalytics' per-frame results, computed in TypeScript for
 * the backends that have no nvdsanalytics element (cpu and replay).
 *
 * One engine serves one stream. It is fed that stream's frames in order and returns,
 * for each, what the gst-nvdsanalytics plugin would attach: line-crossing counts, ROI
 * counts, overcrowding, the smoothed per-class count, and per-object status. The
 * results match NVIDIA's library field for field on the golden scenarios in
 * `../shared/golden/`, including the library's quirks; `docs/nvdsanalytics-compat.md`
 * lists those, and the few places where dskafka differs on purpose.
 *
 * Per frame, as the library does it:
 *
 * 1. Forget objects unseen for more than 8 s (see {@linkcode expiryKey} for which key
 *    is really erased).
 * 2. For each object in frame order: count its class; append its box to its history;
 *    test the ROIs, then the overcrowding regions (with the history's reference point,
 *    see `roi.ts`); then the direction rules (or "STOPPED"); then the lines it has not
 *    been counted for yet.
 * 3. Smooth the per-class counts over the count window.
 *
 * @module
 */

import type { Frame, FrameAnalytics, FrameObject, ObjectAnalytics } from "../frame.ts";
import { expiryKey, TrackHistory, type TrackKey, trackKey } from "./_history.ts";
import { ObjectMotion } from "./_motion.ts";
import { type AnalyticsConfig, streamConfig } from "./config.ts";
import { DirectionRule, isStopped } from "./direction.ts";
import { rectToUint32, scaleFactor, toInt32 } from "./geometry.ts";
import { LineCrossing } from "./line_crossing.ts";
import { ObjectCountSmoother } from "./object_count.ts";
import { OvercrowdingRegion } from "./overcrowding.ts";
import { RoiFilter } from "./roi.ts";
import { getLogger } from "../log.ts";

const log = getLogger("analytics");

/** An object unseen for longer than this (in whole ms) is forgotten. */
const TRACK_TIMEOUT_MS = 8000;

/** Where the engine runs. */
export interface AnalyticsEngineOptions {
  /** The stream index; selects the config's `-stream-N` groups. */
  streamId: number;
  /** Width of the frames the engine is fed, in pixels; config geometry is scaled to it. */
  frameWidth: number;
  /** Height of the frames, in pixels. */
  frameHeight: number;
}

/**
 * nvdsanalytics for one stream.
 *
 * @example Count crossings of one line
 * ```ts
 * import { AnalyticsEngine } from "./engine.ts";
 * import { parseAnalyticsConfig } from "./config.ts";
 *
 * const { config } = parseAnalyticsConfig(
 *   "[property]\nenable=1\nconfig-width=1920\nconfig-height=1080\n\n" +
 *     "[line-crossing-stream-0]\nenable=1\nmode=balanced\nextended=0\n" +
 *     "line-crossing-Door=900;600;1020;600;960;300;960;900\n",
 *   "door.txt",
 * );
 * const engine = new AnalyticsEngine(config, { streamId: 0, frameWidth: 1920, frameHeight: 1080 });
 * let total = 0;
 * for (let n = 1; n <= 90; n++) {
 *   const analytics = engine.process({
 *     streamId: 0,
 *     frameNumber: n,
 *     ptsNs: BigInt(Math.floor((n - 1) * 1e9 / 30)),
 *     width: 1920,
 *     height: 1080,
 *     objects: [{ trackId: 7n, classId: 0, confidence: 1, left: 600 + 8 * n, top: 500, width: 60, height: 150 }],
 *   });
 *   total = analytics.lineCrossingsCumulative.Door;
 * }
 * console.assert(total === 1);
 * ```
 */
export class AnalyticsEngine {
  readonly streamId: number;
  private readonly enabled: boolean;
  private readonly historyLength: number;
  private readonly rois: RoiFilter[];
  private readonly regions: OvercrowdingRegion[];
  private readonly lines: LineCrossing[];
  private readonly directions: DirectionRule[];
  /** Labels reported per frame: enabled rules, each label once, in config order. */
  private readonly roiLabels: string[];
  private readonly regionLabels: string[];
  private readonly lineLabels: string[];
  /**
   * For each rule, the index of its label in the list above (rules sharing a label share
   * a counter, as the library's per-label maps do); -1 for a disabled rule.
   */
  private readonly roiSlots: Int32Array;
  private readonly regionSlots: Int32Array;
  private readonly lineSlots: Int32Array;
  /** This frame's counters, per label index. */
  private readonly roiTally: Int32Array;
  private readonly regionTally: Int32Array;
  private readonly overcrowdedTally: Uint8Array;
  private readonly crossingTally: Int32Array;
  /** Crossings since the start, per line label index (`m_objLCcnt`). */
  private readonly cumulative: Float64Array;

  private readonly tracks = new Map<TrackKey, TrackHistory>();
  private readonly smoother: ObjectCountSmoother;
  private readonly motion = new ObjectMotion();
  private lastTies: number[] = [];
  private untrackedSeen = false;

  /**
   * @param config a parsed config (see `parseAnalyticsConfig`)
   * @param options the stream and the frame size
   */
  constructor(config: AnalyticsConfig, options: AnalyticsEngineOptions) {
    this.streamId = options.streamId;
    this.enabled = config.enable;
    // The plugin passes obj-cnt-win-in-ms as the count window *and* as the history
    // length in frames.
    this.historyLength = config.objectCountWindowMs;
    this.smoother = new ObjectCountSmoother(config.objectCountWindowMs);

    const rules = streamConfig(config, options.streamId);
    const sx = scaleFactor(options.frameWidth, config.configWidth);
    const sy = scaleFactor(options.frameHeight, config.configHeight);
    this.rois = rules.roiFilters.map((r) => new RoiFilter(r, sx, sy));
    this.regions = rules.overcrowding.map((r) => new OvercrowdingRegion(r, sx, sy));
    this.lines = rules.lineCrossings.map((r) => new LineCrossing(r, sx, sy));
    this.directions = rules.directions.map((r) => new DirectionRule(r, sx, sy));

    const enabledLabels = (list: { enabled: boolean; label: string }[]) => [
      ...new Set(list.filter((r) => r.enabled).map((r) => r.label)),
    ];
    const slots = (list: { enabled: boolean; label: string }[], labels: string[]) =>
      Int32Array.from(list, (r) => (r.enabled ? labels.indexOf(r.label) : -1));
    this.roiLabels = enabledLabels(this.rois);
    this.regionLabels = enabledLabels(this.regions);
    this.lineLabels = enabledLabels(this.lines);
    this.roiSlots = slots(this.rois, this.roiLabels);
    this.regionSlots = slots(this.regions, this.regionLabels);
    this.lineSlots = slots(this.lines, this.lineLabels);
    this.roiTally = new Int32Array(this.roiLabels.length);
    this.regionTally = new Int32Array(this.regionLabels.length);
    this.overcrowdedTally = new Uint8Array(this.regionLabels.length);
    this.crossingTally = new Int32Array(this.lineLabels.length);
    this.cumulative = new Float64Array(this.lineLabels.length);
  }

  /** Number of objects whose state the engine keeps (for tests and stats). */
  get trackedObjects(): number {
    return this.tracks.size;
  }

  /**
   * Class ids whose smoothed count in the last processed frame came from a tie in the
   * count histogram (for tests against the golden data's `obj_cnt_tie`).
   */
  get lastObjectCountTies(): readonly number[] {
    return this.lastTies;
  }

  /**
   * Computes one frame's analytics. Frames must come in order; the engine keeps state
   * between them.
   */
  process(frame: Frame): FrameAnalytics {
    if (!this.enabled) return this.passThrough(frame);

    const pts = Number(frame.ptsNs);
    this.forgetLostObjects(pts);

    this.roiTally.fill(0);
    this.regionTally.fill(0);
    this.overcrowdedTally.fill(0);
    this.crossingTally.fill(0);
    const classCounts = new Map<number, number>();
    const objects: ObjectAnalytics[] = new Array(frame.objects.length);

    for (let i = 0; i < frame.objects.length; i++) {
      const object = frame.objects[i];
      classCounts.set(object.classId, (classCounts.get(object.classId) ?? 0) + 1);
      objects[i] = this.analyseObject(object, pts);
    }

    const roiCounts = perLabel(this.roiLabels, this.roiTally);
    // The plugin writes the overcrowding counts into the same map, after the ROI counts.
    const regionCounts = perLabel(this.regionLabels, this.regionTally);
    for (const label of this.regionLabels) roiCounts[label] = regionCounts[label];
    const overcrowding: Record<string, boolean> = {};
    this.regionLabels.forEach((label, i) => overcrowding[label] = this.overcrowdedTally[i] === 1);

    return {
      lineCrossingsCurrent: perLabel(this.lineLabels, this.crossingTally),
      lineCrossingsCumulative: perLabel(this.lineLabels, this.cumulative),
      roiCounts,
      overcrowding,
      objectCounts: this.smoothCounts(classCounts, pts),
      objects,
    };
  }

  private analyseObject(object: FrameObject, pts: number): ObjectAnalytics {
    // The plugin copies the float box into uint32 fields; the library then works with
    // the box centre in int.
    const left = rectToUint32(object.left);
    const top = rectToUint32(object.top);
    const width = rectToUint32(object.width);
    const height = rectToUint32(object.height);
    const cx = (left + (width >>> 1)) | 0;
    const cy = (top + (height >>> 1)) | 0;
    const w = width | 0;
    const h = height | 0;

    const history = this.historyOf(object.trackId, pts);
    history.add(cx, cy, w, h);

    const result: ObjectAnalytics = {
      trackId: object.trackId,
      classId: object.classId,
      meta: false,
      roi: [],
      overcrowding: [],
      lineCrossings: [],
      direction: "",
      status: "",
    };

    // ROIs and overcrowding regions: the box centre moved down by half the mean height.
    const testY = (cy + ((toInt32(history.meanHeight) / 2) | 0)) | 0;
    for (let i = 0; i < this.rois.length; i++) {
      const roi = this.rois[i];
      if (!roi.enabled || !roi.classes.accepts(object.classId)) continue;
      if (roi.matches(cx, testY)) {
        result.status += " ROI:" + roi.label;
        this.roiTally[this.roiSlots[i]]++;
        result.roi.push(roi.label);
      }
    }
    for (let i = 0; i < this.regions.length; i++) {
      const region = this.regions[i];
      if (!region.enabled || !region.classes.accepts(object.classId)) continue;
      if (region.polygon.contains(cx, testY)) {
        const slot = this.regionSlots[i];
        const count = ++this.regionTally[slot];
        result.overcrowding.push(region.label);
        if (region.reaches(count)) this.overcrowdedTally[slot] = 1;
      }
    }

    // Objects without a track id have no history worth the name: no movement rules.
    if (object.trackId !== null) {
      const motion = this.motion;
      motion.load(history, cx, cy, w, h);

      for (const rule of this.directions) {
        if (!rule.enabled || !rule.classes.accepts(object.classId)) continue;
        if (
          isStopped(
            history.frames,
            this.historyLength,
            history.varianceX,
            history.varianceY,
            history.meanHeight,
          )
        ) {
          result.status += " STOPPED ";
          break;
        }
        if (rule.matches(motion)) {
          result.status += " DIR:" + rule.label + " ";
          result.direction += " DIR:" + rule.label + " ";
        }
      }

      for (let i = 0; i < this.lines.length; i++) {
        const line = this.lines[i];
        if (
          !line.enabled || history.hasCrossed(line.label) || !line.classes.accepts(object.classId)
        ) continue;
        if (line.crossedBy(motion)) {
          result.status += " LC:" + line.label + " ";
          history.markCrossed(line.label);
          this.cumulative[this.lineSlots[i]]++;
          this.crossingTally[this.lineSlots[i]]++;
          result.lineCrossings.push(line.label);
        }
      }
    }

    // The plugin attaches NvDsAnalyticsObjInfo only when there is something to say.
    result.meta = result.status.length > 0 || result.overcrowding.length > 0;
    return result;
  }

  /** The object's history, created on first sight; a fresh throw-away one without an id. */
  private historyOf(trackId: bigint | null, pts: number): TrackHistory {
    if (trackId === null) {
      if (!this.untrackedSeen) {
        this.untrackedSeen = true;
        log.debug(
          "objects without a track id: counted in ROIs, overcrowding and object counts, never as line crossings or directions",
          { stream: this.streamId },
        );
      }
      return new TrackHistory(this.historyLength, pts, -1);
    }
    const key = trackKey(trackId);
    let history = this.tracks.get(key);
    if (history === undefined) {
      history = new TrackHistory(this.historyLength, pts, expiryKey(trackId));
      this.tracks.set(key, history);
    } else {
      history.lastSeenPts = pts;
    }
    return history;
  }

  /**
   * Drops objects unseen for more than 8000 ms (whole ms, truncated). The library erases
   * them through an `int`, so the key erased is {@linkcode expiryKey} of the id: an id of
   * 2^31 or more is never forgotten, and may make another object forget its past.
   */
  private forgetLostObjects(pts: number): void {
    let erase: TrackKey[] | undefined;
    for (const history of this.tracks.values()) {
      if (Math.trunc((pts - history.lastSeenPts) / 1e6) > TRACK_TIMEOUT_MS) {
        (erase ??= []).push(history.expiryKey);
      }
    }
    if (erase) { for (const key of erase) this.tracks.delete(key); }
  }

  private smoothCounts(classCounts: Map<number, number>, pts: number): Record<string, number> {
    const counts: Record<string, number> = {};
    const ties: number[] = [];
    for (const { classId, count, tie } of this.smoother.update(classCounts, pts)) {
      counts[String(classId)] = count;
      if (tie) ties.push(classId);
    }
    this.lastTies = ties.sort((a, b) => a - b);
    return counts;
  }

  /** `[property] enable=0`: the plugin passes buffers through without analytics. */
  private passThrough(frame: Frame): FrameAnalytics {
    return {
      lineCrossingsCurrent: {},
      lineCrossingsCumulative: {},
      roiCounts: {},
      overcrowding: {},
      objectCounts: {},
      objects: frame.objects.map((o) => ({
        trackId: o.trackId,
        classId: o.classId,
        meta: false,
        roi: [],
        overcrowding: [],
        lineCrossings: [],
        direction: "",
        status: "",
      })),
    };
  }
}

/** A `{ label: count }` record from per-label counters. */
function perLabel(labels: readonly string[], counts: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < labels.length; i++) out[labels[i]] = counts[i];
  return out;
}
