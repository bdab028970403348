/**
 * The contract between frame sources (video through the shim, replayed tracks) and the
 * rest of the run.
 *
 * @module
 */

import type { DskafkaError } from "../errors.ts";
import type { Frame } from "../frame.ts";

/** One item of a source: a frame, or a change in a stream's state. */
export type SourceItem =
  | { type: "frame"; frame: Frame; droppedBefore: number }
  | { type: "started"; streamId: number; description: string }
  | { type: "warning"; streamId: number; text: string }
  | { type: "ended"; streamId: number }
  | { type: "failed"; streamId: number; error: DskafkaError }
  /** A live stream lost its source, and the source reconnects after `delayMs`. */
  | { type: "reconnecting"; streamId: number; attempt: number; delayMs: number; reason: string }
  /** Frames of a live stream flow again after a reconnect. */
  | { type: "reconnected"; streamId: number; description: string }
  /** A looped input reached its end `passes` times and starts again. */
  | { type: "looped"; streamId: number; passes: number };

/** Counters a source reports at the end of a run. */
export interface SourceStats {
  /** Frames decoded (or read) over all streams. */
  framesDecoded: number;
  /** Frames discarded by the drop-oldest overflow policy. */
  framesDropped: number;
}

/** A source of frames for one or more streams. */
export interface FrameSource extends AsyncIterable<SourceItem[]> {
  /** True when frames already carry analytics (the deepstream backend's nvdsanalytics). */
  readonly hasAnalytics: boolean;
  /** True when frames already carry track ids (deepstream, replayed tracks). */
  readonly hasTrackIds: boolean;
  /** Asks the source to stop; items already produced are still yielded. */
  stop(): void;
  /** Releases the source after iteration; waits for work in flight. */
  close(): Promise<void>;
  /** Current counters. */
  stats(): SourceStats;
}
