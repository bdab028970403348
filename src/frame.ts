/**
 * The per-frame data that flows from a source (video pipeline or replayed tracks)
 * through tracking and analytics to message emission.
 *
 * Coordinates are pixels of the processed frame (the streammux or processing size),
 * with the origin at the top-left corner.
 *
 * @module
 */

/** One object in one frame: a detector box, with a track id once a tracker has seen it. */
export interface FrameObject {
  /**
   * Tracking id, an unsigned 64-bit value; `null` for a detector box that no tracker
   * has assigned yet. Objects without a track id never count as line crossings.
   */
  trackId: bigint | null;
  /** Class id of the detector (the CPU motion detector reports class 0). */
  classId: number;
  /** Detector confidence in [0, 1]; 1 when the detector gives none. */
  confidence: number;
  /** Left edge in pixels. */
  left: number;
  /** Top edge in pixels. */
  top: number;
  /** Box width in pixels. */
  width: number;
  /** Box height in pixels. */
  height: number;
}

/** Analytics results for one object in one frame, as nvdsanalytics' `NvDsAnalyticsObjInfo`. */
export interface ObjectAnalytics {
  /** Tracking id of the object, `null` when it has none. */
  trackId: bigint | null;
  /** Class id of the object. */
  classId: number;
  /** True when nvdsanalytics would attach `NvDsAnalyticsObjInfo` to this object. */
  meta: boolean;
  /** ROI labels the object is inside, in config order (`roiStatus`). */
  roi: string[];
  /** Overcrowding labels the object is inside (`ocStatus`). */
  overcrowding: string[];
  /** Line labels the object crossed in this frame (`lcStatus`). */
  lineCrossings: string[];
  /** Direction status, raw as nvdsanalytics writes it (`dirStatus`). */
  direction: string;
  /** Object status, raw as nvdsanalytics writes it (`objStatus`). */
  status: string;
}

/** Analytics results for one frame of one stream, as nvdsanalytics' `NvDsAnalyticsFrameMeta`. */
export interface FrameAnalytics {
  /** Crossings counted in this frame, per enabled line label (`objLCCurrCnt`). */
  lineCrossingsCurrent: Record<string, number>;
  /** Running total of crossings per enabled line label (`objLCCumCnt`). */
  lineCrossingsCumulative: Record<string, number>;
  /** Objects inside each enabled ROI, and the overcrowding count per overcrowding label (`objInROIcnt`). */
  roiCounts: Record<string, number>;
  /** Overcrowding status per enabled overcrowding label (`ocStatus`). */
  overcrowding: Record<string, boolean>;
  /** Smoothed object count per class id, keyed by the class id as a string (`objCnt`). */
  objectCounts: Record<string, number>;
  /** Per-object results, in the order of the frame's objects. */
  objects: ObjectAnalytics[];
}

/** One processed frame of one stream. */
export interface Frame {
  /** Zero-based stream index: the position of the input on the command line. */
  streamId: number;
  /** One-based frame number within the stream. */
  frameNumber: number;
  /** Presentation timestamp in nanoseconds, relative to the first frame of the stream. */
  ptsNs: bigint;
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** The objects of this frame, in detector order. */
  objects: FrameObject[];
  /**
   * Analytics computed by the pipeline itself (the deepstream backend's nvdsanalytics);
   * absent when the TypeScript engine has to compute them.
   */
  analytics?: FrameAnalytics;
}
