/**
 * Video inputs through the shim's pipeline, as a {@linkcode FrameSource}.
 *
 * @module
 */

import { EventKind } from "../../ffi/constants.ts";
import type { BackendName, OverflowPolicy } from "../../ffi/constants.ts";
import { ShimPipeline } from "../../ffi/pipeline.ts";
import type { DetectorParams, PipelineOptions } from "../../ffi/pipeline.ts";
import { decodeReconnectAttempt } from "../../ffi/records.ts";
import type { Input } from "./input.ts";
import type { FrameSource, SourceItem, SourceStats } from "./source.ts";
import { streamError } from "./stream_errors.ts";

/** Options of {@linkcode openVideoSource}. */
export interface VideoSourceOptions {
  /** Pipeline backend. @default "cpu" */
  backend?: BackendName;
  /** Play files at their own frame rate. @default false */
  realtime?: boolean;
  /**
   * Ring overflow policy. The default drops the oldest frames when every input is live
   * (a camera does not wait), and blocks otherwise, because a file would lose frames.
   * @default "drop-oldest" when every input is live, else "block"
   */
  overflow?: OverflowPolicy;
  /** Restart file and http(s) inputs at their end. @default false */
  loop?: boolean;
  /**
   * Maximum wait between reconnection attempts of a live input, in milliseconds. The
   * first attempt waits 1 s (or this value when smaller), and each failed one doubles it.
   * @default 30000
   */
  reconnectMaxDelayMs?: number;
  /** Processing frame size; absent keeps each input's own size (CPU backend). */
  processingSize?: { width: number; height: number };
  /** CPU motion detector parameters. */
  detector?: DetectorParams;
  /** nvdsanalytics config file, for the deepstream backend. */
  analyticsConfig?: string;
  /** nvinfer config file, for the deepstream backend. */
  inferConfig?: string;
  /** nvtracker config file, for the deepstream backend. */
  trackerConfig?: string;
  /** nvtracker low-level library, for the deepstream backend. */
  trackerLibrary?: string;
  /** nvmsgbroker branch of the deepstream backend, with its devices and emission policy. */
  msgbroker?: PipelineOptions["msgbroker"];
  devices?: PipelineOptions["devices"];
  emit?: PipelineOptions["emit"];
}

const FIRST_RECONNECT_DELAY_MS = 1000;

/** Starts a pipeline over `inputs` (stream id = position) and returns it as a source. */
export function openVideoSource(inputs: Input[], options: VideoSourceOptions = {}): FrameSource {
  const backend = options.backend ?? "cpu";
  const allLive = inputs.length > 0 && inputs.every((input) => input.live);
  const maxDelayMs = options.reconnectMaxDelayMs;
  const pipeline = ShimPipeline.start({
    sources: inputs.map((input) => input.uri),
    backend,
    realtime: options.realtime,
    overflow: options.overflow ?? (allLive ? "drop-oldest" : "block"),
    loop: options.loop,
    reconnect: maxDelayMs === undefined ? undefined : {
      initialDelayMs: Math.min(FIRST_RECONNECT_DELAY_MS, maxDelayMs),
      maxDelayMs,
    },
    processingSize: options.processingSize,
    detector: options.detector,
    paths: {
      analyticsConfig: options.analyticsConfig,
      inferConfig: options.inferConfig,
      trackerConfig: options.trackerConfig,
      trackerLibrary: options.trackerLibrary,
    },
    msgbroker: options.msgbroker,
    devices: options.devices,
    emit: options.emit,
  });

  async function* items(): AsyncGenerator<SourceItem[]> {
    for await (const batch of pipeline) {
      const out: SourceItem[] = [];

      for (const record of batch) {
        if (record.type === "frame") {
          out.push({ type: "frame", frame: record.frame, droppedBefore: record.droppedBefore });
          continue;
        }

        const { streamId, kind, text } = record.event;
        if (kind === EventKind.streamStarted) {
          out.push({ type: "started", streamId, description: text });
        }
        if (kind === EventKind.streamEos) out.push({ type: "ended", streamId });
        if (kind === EventKind.warning) out.push({ type: "warning", streamId, text });
        if (kind === EventKind.error && streamId >= 0) {
          out.push({
            type: "failed",
            streamId,
            error: streamError(inputs[streamId], record.event),
          });
        }
        if (kind === EventKind.streamReconnecting) {
          out.push({ type: "reconnecting", streamId, ...decodeReconnectAttempt(text) });
        }
        if (kind === EventKind.streamReconnected) {
          out.push({ type: "reconnected", streamId, description: text });
        }
        if (kind === EventKind.streamLooped) {
          out.push({ type: "looped", streamId, passes: Number(text) });
        }
      }
      yield out;
    }
  }

  return {
    hasAnalytics: backend === "deepstream",
    hasTrackIds: backend === "deepstream",
    [Symbol.asyncIterator]: items,
    stop: () => pipeline.stop(),
    close: () => pipeline.close(),
    stats(): SourceStats {
      const stats = pipeline.stats();
      return { framesDecoded: stats.framesDecoded, framesDropped: stats.framesDropped };
    },
  };
}
