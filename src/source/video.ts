/**
 * Video inputs through the shim's pipeline, as a {@linkcode FrameSource}.
 *
 * @module
 */

import { EventKind } from "../../ffi/constants.ts";
import type { BackendName, OverflowPolicy } from "../../ffi/constants.ts";
import { ShimPipeline } from "../../ffi/pipeline.ts";
import type { DetectorParams } from "../../ffi/pipeline.ts";
import type { Input } from "./input.ts";
import type { FrameSource, SourceItem, SourceStats } from "./source.ts";
import { streamError } from "./stream_errors.ts";

/** Options of {@linkcode openVideoSource}. */
export interface VideoSourceOptions {
  /** Pipeline backend. @default "cpu" */
  backend?: BackendName;
  /** Play files at their own frame rate. @default false */
  realtime?: boolean;
  /** Ring overflow policy; live inputs should drop rather than block. @default "block" */
  overflow?: OverflowPolicy;
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
}

/** Starts a pipeline over `inputs` (stream id = position) and returns it as a source. */
export function openVideoSource(inputs: Input[], options: VideoSourceOptions = {}): FrameSource {
  const backend = options.backend ?? "cpu";
  const pipeline = ShimPipeline.start({
    sources: inputs.map((input) => input.uri),
    backend,
    realtime: options.realtime,
    overflow: options.overflow,
    processingSize: options.processingSize,
    detector: options.detector,
    paths: {
      analyticsConfig: options.analyticsConfig,
      inferConfig: options.inferConfig,
      trackerConfig: options.trackerConfig,
      trackerLibrary: options.trackerLibrary,
    },
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
        if (kind === EventKind.streamStarted) out.push({ type: "started", streamId, description: text });
        if (kind === EventKind.streamEos) out.push({ type: "ended", streamId });
        if (kind === EventKind.warning) out.push({ type: "warning", streamId, text });
        if (kind === EventKind.error && streamId >= 0) {
          out.push({ type: "failed", streamId, error: streamError(inputs[streamId], record.event) });
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
