/**
 * The run summary of `--summary FILE` (or `-` for stdout): one JSON document written when
 * a run ends, for scripts and schedulers. Per device it contains the final line-crossing
 * counts, frames, duration, messages and the reason the stream ended. For the run it
 * contains the sink's delivery counters and the exit code with its meaning.
 *
 * @module
 */

import { dirname, resolve } from "node:path";

import { ExitCode, UsageError } from "../errors.ts";
import type { RunResult, StreamResult } from "../run.ts";
import type { SinkStats } from "../sink/sink.ts";

/** Version of the summary layout; bumped when a field changes meaning or is removed. */
export const SUMMARY_VERSION = 1;

/** Meaning of each exit code, as the README's exit code table gives it. */
export const EXIT_REASONS: Readonly<Record<number, string>> = {
  [ExitCode.Ok]: "every input ran to its end and every message was delivered",
  [ExitCode.Internal]: "internal error",
  [ExitCode.Usage]: "invalid command-line usage",
  [ExitCode.InputNotFound]: "an input file or URI does not exist or cannot be opened",
  [ExitCode.UnsupportedInput]: "an input URI has an unsupported scheme",
  [ExitCode.InvalidMedia]: "an input is not a decodable video",
  [ExitCode.InvalidConfig]: "the analytics config is missing or invalid",
  [ExitCode.ShimUnavailable]: "the C shim could not be loaded or has the wrong version",
  [ExitCode.KafkaUnavailable]: "the Kafka broker did not answer, or delivery failed",
  [ExitCode.TopicMissing]: "the Kafka topic does not exist and --create-topic was not given",
  [ExitCode.KafkaAuth]: "the Kafka broker rejected the credentials or the TLS handshake",
  [ExitCode.SpoolFailed]: "the disk spool could not be written or read",
  [ExitCode.Spooled]: "the run finished, but messages are still in the spool",
  [ExitCode.BackendUnavailable]: "the requested backend is not available",
  [ExitCode.Interrupted]: "stopped by SIGINT or SIGTERM after a clean flush",
};

/** Delivery counters of one device's messages; `null` where the sink counts only in total. */
export interface DeviceMessages {
  /** Messages emitted for the device and handed to the sink. */
  sent: number;
  acknowledged: number | null;
  spooled: number | null;
  dropped: number | null;
  failed: number | null;
}

/** The outcome of one device (one input stream). */
export interface DeviceSummary {
  deviceId: string;
  streamId: number;
  /** The input as the user gave it. */
  input: string;
  /** `ended`, `failed` or `stopped`. */
  state: StreamResult["state"];
  /** The exit code this stream alone would give: 0 ended, 130 stopped, the error's code when failed. */
  exitCode: number;
  /** The reason the stream ended, in words: the error message when it failed. */
  exitReason: string;
  /** Frames processed. */
  frames: number;
  /** Frames dropped by the overflow policy of a live source. */
  framesDropped: number;
  /** Stream time of the last processed frame in seconds, when the run reports it; else `null`. */
  durationSeconds: number | null;
  /** Final running total of crossings per line label. */
  lineCrossings: Record<string, number>;
  messages: DeviceMessages;
}

/** The `--summary` document. */
export interface RunSummary {
  summaryVersion: typeof SUMMARY_VERSION;
  /** ISO 8601 UTC time the run started. */
  startedAt: string;
  /** ISO 8601 UTC time the run ended. */
  endedAt: string;
  /** Wall-clock length of the run in seconds. */
  durationSeconds: number;
  /** The process exit code. */
  exitCode: number;
  /** Meaning of `exitCode`; for a failed input, followed by its error message. */
  exitReason: string;
  /** The sink's counters for all devices together. */
  sink: SinkStats & { name?: string };
  devices: DeviceSummary[];
}

/** Options of {@linkcode buildRunSummary}. */
export interface SummaryOptions {
  /** Wall-clock start of the run in milliseconds since the epoch. */
  startedAtMs: number;
  /** Wall-clock end of the run in milliseconds since the epoch. */
  endedAtMs: number;
  /** The sink's name, for example `kafka`. */
  sinkName?: string;
  /**
   * Delivery counters per device id, for sinks that count per device. Without them, the
   * per-device acknowledged, spooled, dropped and failed counts are `null`.
   */
  deviceSinkStats?: Readonly<Record<string, SinkStats>>;
  /**
   * The process exit code when it differs from `result.exitCode`, as when the CLI ends a
   * run that left messages in the spool with code 12. @default result.exitCode
   */
  exitCode?: number;
}

/**
 * A stream result that also carries the stream time of its last frame.
 *
 * NOTE: `StreamResult` has no such field yet; until `runStreams` sets `lastPtsMs`, every
 * device's `durationSeconds` is `null`.
 */
type TimedStreamResult = StreamResult & { lastPtsMs?: number };

/**
 * Builds the summary of a finished run.
 *
 * @example Summarize a run of one stream
 * ```ts
 * import { buildRunSummary } from "./summary.ts";
 *
 * const summary = buildRunSummary({
 *   exitCode: 0,
 *   sink: { sent: 13, acknowledged: 13, failed: 0, spooled: 0, dropped: 0 },
 *   streams: [{
 *     streamId: 0, deviceId: "gate", input: "gate.mp4", frames: 377, messages: 13,
 *     lineCrossings: { Up: 2, Down: 2 }, state: "ended", framesDropped: 0,
 *   }],
 * }, { startedAtMs: Date.parse("2026-01-01T00:00:00Z"), endedAtMs: Date.parse("2026-01-01T00:00:04.5Z") });
 * console.assert(summary.durationSeconds === 4.5 && summary.devices[0].lineCrossings.Up === 2);
 * ```
 */
export function buildRunSummary(result: RunResult, options: SummaryOptions): RunSummary {
  const exitCode = options.exitCode ?? result.exitCode;
  const failed = result.streams.find((stream) => stream.state === "failed" && stream.error);
  const meaning = EXIT_REASONS[exitCode] ?? `exit code ${exitCode}`;
  const exitReason = failed?.error && failed.error.exitCode === exitCode
    ? `${meaning}: ${failed.error.message}`
    : meaning;

  return {
    summaryVersion: SUMMARY_VERSION,
    startedAt: new Date(options.startedAtMs).toISOString(),
    endedAt: new Date(options.endedAtMs).toISOString(),
    durationSeconds: Math.max(0, options.endedAtMs - options.startedAtMs) / 1000,
    exitCode,
    exitReason,
    sink: { ...(options.sinkName === undefined ? {} : { name: options.sinkName }), ...result.sink },
    devices: result.streams.map((stream) =>
      deviceSummary(stream, options.deviceSinkStats?.[stream.deviceId])
    ),
  };
}

function deviceSummary(stream: TimedStreamResult, sink: SinkStats | undefined): DeviceSummary {
  const { exitCode, exitReason } = streamExit(stream);
  return {
    deviceId: stream.deviceId,
    streamId: stream.streamId,
    input: stream.input,
    state: stream.state,
    exitCode,
    exitReason,
    frames: stream.frames,
    framesDropped: stream.framesDropped,
    durationSeconds: stream.lastPtsMs === undefined ? null : stream.lastPtsMs / 1000,
    lineCrossings: { ...stream.lineCrossings },
    messages: {
      sent: stream.messages,
      acknowledged: sink?.acknowledged ?? null,
      spooled: sink?.spooled ?? null,
      dropped: sink?.dropped ?? null,
      failed: sink?.failed ?? null,
    },
  };
}

function streamExit(stream: StreamResult): { exitCode: number; exitReason: string } {
  switch (stream.state) {
    case "ended":
      return { exitCode: ExitCode.Ok, exitReason: "the input ended, or --max-frames was reached" };
    case "stopped":
      return { exitCode: ExitCode.Interrupted, exitReason: EXIT_REASONS[ExitCode.Interrupted] };
    case "failed":
      return {
        exitCode: stream.error?.exitCode ?? ExitCode.Internal,
        exitReason: stream.error?.message ?? "failed without an error message",
      };
    default:
      return {
        exitCode: ExitCode.Internal,
        exitReason: `the stream never finished (state ${stream.state})`,
      };
  }
}

/**
 * Checks before a run that `--summary` can be written: `-`, or a path whose folder exists.
 * A typo then fails at once instead of after a long run.
 *
 * @throws {UsageError} When the folder does not exist or the path is a folder.
 */
export async function checkSummaryTarget(target: string): Promise<void> {
  if (target === "-") return;

  const folder = dirname(resolve(target));
  const folderInfo = await statIfExists(folder);
  if (folderInfo === undefined) {
    throw new UsageError(
      `--summary "${target}" cannot be written: the folder ${folder} does not exist`,
    );
  }
  if (!folderInfo.isDirectory) {
    throw new UsageError(`--summary "${target}" cannot be written: ${folder} is not a folder`);
  }
  if ((await statIfExists(target))?.isDirectory) {
    throw new UsageError(`--summary "${target}" is a folder: give a file name, or - for stdout`);
  }
}

async function statIfExists(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Writes `summary` as indented JSON to `target`: `-` for stdout, else a file that is
 * replaced atomically (written to a temporary file in the same folder, then renamed), so
 * a reader never sees half a summary.
 *
 * @param stdout writes text to stdout. @default a synchronous writer to stdout
 * @throws {UsageError} When the file cannot be written.
 *
 * @example Print a summary
 * ```ts ignore
 * await writeRunSummary("-", summary);
 * ```
 */
export async function writeRunSummary(
  target: string,
  summary: RunSummary,
  stdout: (text: string) => void = writeToStdout,
): Promise<void> {
  const text = JSON.stringify(summary, null, 2) + "\n";
  if (target === "-") {
    stdout(text);
    return;
  }

  const temporary = `${target}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, target);
  } catch (error) {
    // The temporary file is missing when writing it failed; there is nothing to clean up then.
    await Deno.remove(temporary).catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`--summary "${target}" could not be written (${reason})`, {
      cause: error,
    });
  }
}

const encoder = new TextEncoder();

function writeToStdout(text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
}
