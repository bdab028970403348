/**
 * One run: frames from a source, through tracking and the analytics engine, into
 * per-device counts, messages and a sink.
 *
 *   source ─► tracker (boxes without ids) ─► analytics engine (unless the pipeline ran
 *   nvdsanalytics) ─► DeviceCounts (emission policy) ─► buildMessage ─► sink
 *
 * @module
 */

import { AnalyticsEngine } from "./analytics/engine.ts";
import type { AnalyticsConfig } from "./analytics/config.ts";
import { DeviceCounts } from "./emit/device_counts.ts";
import type { CountsSnapshot } from "./emit/device_counts.ts";
import type { EmitPolicy } from "./emit/policy.ts";
import type { DskafkaError } from "./errors.ts";
import { ExitCode } from "./errors.ts";
import type { ExitCodeValue } from "./errors.ts";
import type { Frame, FrameAnalytics } from "./frame.ts";
import { getLogger } from "./log.ts";
import { buildMessage } from "./payload/message.ts";
import type { OutgoingMessage, Sink, SinkStats } from "./sink/sink.ts";
import type { FrameSource, SourceItem } from "./source/source.ts";
import { Tracker } from "./track/tracker.ts";
import type { TrackerOptions } from "./track/tracker.ts";

const log = getLogger("run");

/** One stream of a run, as the caller describes it. */
export interface StreamSpec {
  /** The input as the user gave it, for logs. */
  input: string;
  /** Device id: the Kafka key and `deviceId` of the stream's messages. */
  deviceId: string;
  /** Identifies the input and run for stable message ids (see `MessageContext`). */
  sessionKey: string;
}

/** Options of {@linkcode runStreams}. */
export interface RunOptions {
  /** The streams, in stream-id order. */
  streams: StreamSpec[];
  /** Where frames come from. */
  source: FrameSource;
  /** Where messages go. */
  sink: Sink;
  /** The parsed nvdsanalytics config (ignored when the source computes analytics). */
  analyticsConfig: AnalyticsConfig;
  /** When messages are emitted. */
  emit: EmitPolicy;
  /** Stop each stream after this many frames. */
  maxFrames?: number;
  /** Tracker parameters for boxes without track ids. */
  tracker?: TrackerOptions;
  /** Aborting stops the sources; frames already decoded are still counted and sent. */
  signal?: AbortSignal;
  /** Wall clock in milliseconds, for `@timestamp`. @default Date.now */
  now?: () => number;
  /** Called with every processed frame and its analytics, for example to draw them. */
  onAnalytics?: (frame: Frame, analytics: FrameAnalytics) => void;
  /** Called after every processed frame, for progress displays. */
  onFrame?: (stream: StreamResult) => void;
}

/** What happened to one stream. */
export interface StreamResult {
  streamId: number;
  deviceId: string;
  input: string;
  /** Frames processed. */
  frames: number;
  /** Messages emitted for this device. */
  messages: number;
  /** Final running total of crossings per line label. */
  lineCrossings: Record<string, number>;
  /** `started`, `ended` (end of input or --max-frames), `failed` or `stopped` (signal). */
  state: "pending" | "started" | "ended" | "failed" | "stopped";
  /** The error that ended the stream, when it failed. */
  error?: DskafkaError;
  /** Frames dropped by the overflow policy. */
  framesDropped: number;
  /** Presentation time of the last processed frame in milliseconds, for durations. */
  lastPtsMs?: number;
}

/** The outcome of a run. */
export interface RunResult {
  streams: StreamResult[];
  sink: SinkStats;
  /** The exit code the CLI should use. */
  exitCode: ExitCodeValue;
}

interface StreamState {
  result: StreamResult;
  spec: StreamSpec;
  tracker: Tracker;
  engine?: AnalyticsEngine;
  counts: DeviceCounts;
  done: boolean;
}

/**
 * Runs the source to its end (or to `maxFrames`, or until `signal` aborts), sending one
 * message per emission and a final message per stream. The sink is not closed here.
 */
export async function runStreams(options: RunOptions): Promise<RunResult> {
  const { source, sink } = options;
  const now = options.now ?? Date.now;
  const states = options.streams.map((spec, streamId): StreamState => ({
    spec,
    result: {
      streamId,
      deviceId: spec.deviceId,
      input: spec.input,
      frames: 0,
      messages: 0,
      lineCrossings: {},
      state: "pending",
      framesDropped: 0,
    },
    tracker: new Tracker(options.tracker),
    counts: new DeviceCounts(spec.deviceId, streamId, options.emit),
    done: false,
  }));

  const send = async (state: StreamState, snapshot: CountsSnapshot | null) => {
    if (snapshot === null) return;
    const message: OutgoingMessage = buildMessage(snapshot, {
      sessionKey: state.spec.sessionKey,
      timestampMs: now(),
    });
    await sink.send(message);
    state.result.messages++;
  };

  const stopIfAllDone = () => {
    if (states.every((state) => state.done)) source.stop();
  };

  const onAbort = () => {
    log.info("stopping the sources: frames already decoded are still counted and sent");
    for (const state of states) {
      if (!state.done) state.result.state = "stopped";
    }
    source.stop();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    for await (const batch of source) {
      for (const item of batch) {
        await handleItem(item);
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }

  for (const state of states) {
    await send(state, state.counts.finish());
    state.result.lineCrossings = { ...state.counts.cumulative };
    if (state.result.state === "started" || state.result.state === "pending") {
      state.result.state = options.signal?.aborted ? "stopped" : "ended";
    }
  }

  return {
    streams: states.map((state) => state.result),
    sink: sink.stats(),
    exitCode: exitCodeOf(states.map((state) => state.result), options.signal?.aborted ?? false),
  };

  async function handleItem(item: SourceItem) {
    switch (item.type) {
      case "started": {
        const state = states[item.streamId];
        state.result.state = "started";
        log.info("stream started", {
          stream: item.streamId,
          device: state.spec.deviceId,
          input: state.spec.input,
          format: item.description,
        });
        return;
      }

      case "warning":
        log.warn("pipeline warning", { stream: item.streamId, text: item.text });
        return;

      case "ended": {
        const state = states[item.streamId];
        state.done = true;
        if (state.result.state !== "stopped") state.result.state = "ended";
        log.info("stream ended", {
          stream: item.streamId,
          device: state.spec.deviceId,
          frames: state.result.frames,
        });
        stopIfAllDone();
        return;
      }

      case "failed": {
        const state = states[item.streamId];
        state.done = true;
        state.result.state = "failed";
        state.result.error = item.error;
        // With one stream the CLI's final error line says it all; with several, this line
        // says which stream failed while the others go on.
        if (states.length > 1) {
          log.error(item.error.message, { stream: item.streamId, device: state.spec.deviceId });
        }
        stopIfAllDone();
        return;
      }

      case "reconnecting":
        log.warn("stream lost its source; reconnecting", {
          stream: item.streamId,
          device: states[item.streamId].spec.deviceId,
          attempt: item.attempt,
          delayMs: item.delayMs,
          reason: item.reason,
        });
        return;

      case "reconnected":
        log.info("stream reconnected", {
          stream: item.streamId,
          device: states[item.streamId].spec.deviceId,
          format: item.description,
        });
        return;

      case "looped":
        log.info("stream looped to its start", {
          stream: item.streamId,
          device: states[item.streamId].spec.deviceId,
          passes: item.passes,
          frames: states[item.streamId].result.frames,
        });
        return;

      case "frame":
        await handleFrame(item.frame, item.droppedBefore);
        return;
    }
  }

  async function handleFrame(frame: Frame, droppedBefore: number) {
    const state = states[frame.streamId];
    if (state === undefined || state.done) return;

    state.result.framesDropped += droppedBefore;
    if (droppedBefore > 0) {
      log.warn("frames dropped: the pipeline produced faster than they were processed", {
        stream: frame.streamId,
        dropped: droppedBefore,
      });
    }

    const analytics = analyze(state, frame);
    options.onAnalytics?.(frame, analytics);
    state.result.frames++;
    await send(state, state.counts.add(frame, analytics));
    state.result.lineCrossings = state.counts.cumulative;
    state.result.lastPtsMs = Number(frame.ptsNs / 1_000_000n);
    options.onFrame?.(state.result);

    if (options.maxFrames !== undefined && state.result.frames >= options.maxFrames) {
      state.done = true;
      state.result.state = "ended";
      log.info("stream reached --max-frames", { stream: frame.streamId, frames: options.maxFrames });
      stopIfAllDone();
    }
  }

  function analyze(state: StreamState, frame: Frame): FrameAnalytics {
    if (source.hasAnalytics && frame.analytics) return frame.analytics;

    const tracked = source.hasTrackIds ? frame : state.tracker.update(frame);
    state.engine ??= new AnalyticsEngine(options.analyticsConfig, {
      streamId: frame.streamId,
      frameWidth: frame.width,
      frameHeight: frame.height,
    });
    return state.engine.process(tracked);
  }
}

/**
 * Picks the exit code: a stopped run is Interrupted; otherwise the first failed
 * stream's code; otherwise Ok.
 */
function exitCodeOf(streams: StreamResult[], aborted: boolean): ExitCodeValue {
  const failed = streams.find((stream) => stream.state === "failed" && stream.error);
  if (failed?.error) return failed.error.exitCode;
  if (aborted) return ExitCode.Interrupted;
  return ExitCode.Ok;
}
