/**
 * Live progress of a run on stderr. On a terminal it is one status line per stream and
 * one for the sink, rewritten in place. For scripts it is one JSON object per stream and
 * line.
 *
 * The reporter is fed from `runStreams`' `onFrame` callback and redraws at most once per
 * interval, so it costs nothing per frame beyond a clock read. Log lines that arrive
 * while the block is on screen go through {@linkcode ProgressReporter.wrapLogWrite},
 * which clears the block, writes the log line and draws the block again below it.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { getLogger } from "../log.ts";
import type { StreamResult } from "../run.ts";
import type { SinkStats } from "../sink/sink.ts";

const log = getLogger("progress");

/** `--progress` values: `on` (status lines), `off`, or `json` (one JSON object per line). */
export const PROGRESS_MODES = ["on", "off", "json"] as const;

/** One of {@linkcode PROGRESS_MODES}. */
export type ProgressMode = typeof PROGRESS_MODES[number];

/**
 * Returns the progress mode for a `--progress` value. Without a value, progress is `on`
 * when stderr is a terminal and `off` otherwise, so logs piped to a file stay clean.
 *
 * @throws {UsageError} For a value outside {@linkcode PROGRESS_MODES}.
 *
 * @example Default for a terminal and for a pipe
 * ```ts
 * import { resolveProgressMode } from "./progress.ts";
 *
 * console.assert(resolveProgressMode(undefined, true) === "on");
 * console.assert(resolveProgressMode(undefined, false) === "off");
 * console.assert(resolveProgressMode("json", false) === "json");
 * ```
 */
export function resolveProgressMode(
  value: string | undefined,
  stderrIsTerminal: boolean,
): ProgressMode {
  if (value === undefined) return stderrIsTerminal ? "on" : "off";

  if (!(PROGRESS_MODES as readonly string[]).includes(value)) {
    throw new UsageError(`--progress "${value}" is invalid: use on, off or json`);
  }
  return value as ProgressMode;
}

/** The fields of `StreamResult` that the reporter shows. */
export type ProgressStream = Pick<
  StreamResult,
  "streamId" | "deviceId" | "frames" | "messages" | "lineCrossings" | "state"
>;

/** Options of {@linkcode ProgressReporter}. */
export interface ProgressOptions {
  /** `on`, `off` or `json`; see {@linkcode resolveProgressMode}. */
  mode: ProgressMode;
  /** Writes text to the output, stderr in the CLI. @default a synchronous writer to stderr */
  write?: (text: string) => void;
  /** Clock in milliseconds. @default performance.now */
  now?: () => number;
  /** Minimum time between two redraws in milliseconds. @default 250 for on, 1000 for json */
  intervalMs?: number;
  /** Width of the terminal; longer status lines are cut to fit. @default the console width, or 120 */
  columns?: number;
  /** Current delivery counters of the sink, shown on the sink line. */
  sinkStats?: () => SinkStats;
}

/** The JSON object that `json` mode writes, one per stream and interval. */
export interface ProgressRecord {
  type: "progress";
  stream: number;
  device: string;
  state: StreamResult["state"];
  frames: number;
  /** Frames per second over the last second or so. */
  fps: number;
  /** Milliseconds since the stream's first frame. */
  elapsedMs: number;
  /** Running total of crossings per line label. */
  lineCrossings: Record<string, number>;
  /** Messages emitted for this device. */
  messages: number;
  /** The sink's counters, for every device together. */
  sink?: SinkStats;
  /** True on the last record of the run. */
  final: boolean;
}

interface StreamProgress {
  stream: ProgressStream;
  /** Clock time of the first frame, or undefined before it. */
  startedAt?: number;
  /** The frame count and time the frame rate is measured from. */
  rateFrom: { at: number; frames: number };
  fps: number;
}

const RATE_WINDOW_MS = 1000;
const ESC = "\x1b[";

/**
 * Shows the progress of a run.
 *
 * @example Report two frames of one stream as JSON
 * ```ts
 * import { ProgressReporter } from "./progress.ts";
 *
 * const lines: string[] = [];
 * let clock = 0;
 * const progress = new ProgressReporter([{ streamId: 0, deviceId: "gate" }], {
 *   mode: "json",
 *   write: (text) => lines.push(text),
 *   now: () => clock,
 * });
 * const stream = { streamId: 0, deviceId: "gate", frames: 1, messages: 0, lineCrossings: {}, state: "started" as const };
 * progress.update(stream);
 * clock = 2000;
 * progress.update({ ...stream, frames: 51 });
 * progress.finish();
 * console.assert(JSON.parse(lines.at(-1)!).fps === 25);
 * ```
 */
export class ProgressReporter {
  readonly mode: ProgressMode;
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #columns: number;
  readonly #sinkStats?: () => SinkStats;
  readonly #streams: StreamProgress[];
  #lastRender = -Infinity;
  /** Lines of the status block now on screen (`on` mode). */
  #drawnLines = 0;
  #failed = false;
  #stopped = false;
  #finished = false;

  /**
   * @param streams the run's streams, in stream-id order
   * @param options see {@linkcode ProgressOptions}
   */
  constructor(
    streams: readonly { streamId: number; deviceId: string }[],
    options: ProgressOptions,
  ) {
    this.mode = options.mode;
    this.#write = options.write ?? writeToStderr;
    this.#now = options.now ?? (() => performance.now());
    this.#intervalMs = options.intervalMs ?? (options.mode === "json" ? 1000 : 250);
    this.#columns = options.columns ?? consoleColumns();
    this.#sinkStats = options.sinkStats;
    const start = this.#now();
    this.#streams = streams.map((s) => ({
      stream: {
        streamId: s.streamId,
        deviceId: s.deviceId,
        frames: 0,
        messages: 0,
        lineCrossings: {},
        state: "pending",
      },
      rateFrom: { at: start, frames: 0 },
      fps: 0,
    }));
  }

  /** Records the state of one stream after a frame; redraws when the interval has passed. */
  update(stream: ProgressStream): void {
    if (this.mode === "off" || this.#stopped || this.#finished) return;

    const entry = this.#streams[stream.streamId];
    if (entry === undefined) return;

    const now = this.#now();
    if (entry.startedAt === undefined) {
      entry.startedAt = now;
      entry.rateFrom = { at: now, frames: stream.frames };
    }
    entry.stream = stream;
    if (now - this.#lastRender >= this.#intervalMs) this.#render(now, false);
  }

  /**
   * Takes the status block off the screen (`on` mode) and ignores later updates, so that
   * what is printed next is not overwritten. {@linkcode finish} still draws the final
   * state, below whatever was printed in between.
   */
  stop(): void {
    if (this.mode === "off" || this.#stopped) return;

    this.#stopped = true;
    this.#clear();
  }

  /** Draws the final state once and stops; later updates are ignored. */
  finish(streams?: readonly ProgressStream[]): void {
    if (this.mode === "off" || this.#finished) return;

    for (const stream of streams ?? []) {
      const entry = this.#streams[stream.streamId];
      if (entry !== undefined) entry.stream = stream;
    }
    this.#render(this.#now(), true);
    this.#finished = true;
  }

  /**
   * Returns a log writer that keeps log lines and the status block apart. In `on` mode it
   * clears the block, writes the line and draws the block again. In other modes it
   * returns `write` itself.
   *
   * @example Route the logger through the reporter
   * ```ts ignore
   * logSettings.write = progress.wrapLogWrite(logSettings.write);
   * ```
   */
  wrapLogWrite(write: (line: string) => void): (line: string) => void {
    if (this.mode !== "on") return write;

    return (line) => {
      const redraw = this.#drawnLines > 0 && !this.#stopped && !this.#finished;
      this.#clear();
      write(line);
      if (redraw) this.#render(this.#now(), true);
    };
  }

  #render(now: number, final: boolean): void {
    if (this.#failed) return;

    this.#lastRender = now;
    for (const entry of this.#streams) updateRate(entry, now);
    const sink = this.#sinkStats?.();

    try {
      if (this.mode === "json") {
        const lines = this.#streams
          .filter((entry) => entry.startedAt !== undefined || final)
          .map((entry) => JSON.stringify(this.#record(entry, now, sink, final)) + "\n");
        if (lines.length > 0) this.#write(lines.join(""));
        return;
      }

      const lines = this.#streams.map((entry) => this.#statusLine(entry, now));
      if (sink !== undefined) lines.push(sinkLine(sink));
      const clear = this.#drawnLines > 0 ? `${ESC}${this.#drawnLines}A${ESC}0J` : "";
      this.#write(clear + lines.map((line) => this.#fit(line) + "\n").join(""));
      this.#drawnLines = lines.length;
    } catch (error) {
      // A closed or broken stderr: stop drawing instead of failing the run.
      this.#failed = true;
      log.warn("progress display stopped: writing it failed", {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  #clear(): void {
    if (this.#drawnLines === 0 || this.#failed) return;

    this.#write(`${ESC}${this.#drawnLines}A${ESC}0J`);
    this.#drawnLines = 0;
  }

  #record(
    entry: StreamProgress,
    now: number,
    sink: SinkStats | undefined,
    final: boolean,
  ): ProgressRecord {
    const { stream } = entry;
    return {
      type: "progress",
      stream: stream.streamId,
      device: stream.deviceId,
      state: stream.state,
      frames: stream.frames,
      fps: round(entry.fps, 1),
      elapsedMs: Math.round(entry.startedAt === undefined ? 0 : now - entry.startedAt),
      lineCrossings: { ...stream.lineCrossings },
      messages: stream.messages,
      ...(sink === undefined ? {} : { sink: { ...sink } }),
      final,
    };
  }

  #statusLine(entry: StreamProgress, now: number): string {
    const { stream } = entry;
    const elapsed = entry.startedAt === undefined ? 0 : now - entry.startedAt;
    const counts = Object.entries(stream.lineCrossings).map(([label, count]) =>
      `${label} ${count}`
    );
    return [
      `[${stream.streamId}] ${stream.deviceId}`,
      stream.state === "started" || stream.state === "pending" ? undefined : stream.state,
      `${stream.frames} frames`,
      `${entry.fps.toFixed(1)} fps`,
      formatDuration(elapsed),
      counts.length > 0 ? counts.join(", ") : undefined,
      `${stream.messages} msgs`,
    ].filter((part) => part !== undefined).join("  ");
  }

  /** Cuts a line to the terminal width, so that it never wraps and the cursor math holds. */
  #fit(line: string): string {
    const characters = [...line];
    if (characters.length < this.#columns) return line;
    return characters.slice(0, Math.max(1, this.#columns - 2)).join("") + "…";
  }
}

/** Re-measures the frame rate once the window has passed. */
function updateRate(entry: StreamProgress, now: number): void {
  if (entry.startedAt === undefined) return;

  const span = now - entry.rateFrom.at;
  if (span >= RATE_WINDOW_MS || entry.fps === 0) {
    if (span > 0) entry.fps = ((entry.stream.frames - entry.rateFrom.frames) * 1000) / span;
    if (span >= RATE_WINDOW_MS) entry.rateFrom = { at: now, frames: entry.stream.frames };
  }
}

function sinkLine(sink: SinkStats): string {
  return `messages: ${sink.sent} sent, ${sink.acknowledged} acknowledged, ${sink.spooled} spooled, ` +
    `${sink.dropped} dropped, ${sink.failed} failed`;
}

/** Formats milliseconds as m:ss, or h:mm:ss from one hour on. */
export function formatDuration(milliseconds: number): string {
  const total = Math.floor(milliseconds / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0
    ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}`
    : `${minutes}:${seconds}`;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function consoleColumns(): number {
  try {
    // A pseudo-terminal whose size was never set reports 0 columns.
    const { columns } = Deno.consoleSize();
    return columns > 0 ? columns : 120;
  } catch {
    // Not a terminal (a pipe or a file): nothing wraps there.
    return 120;
  }
}

const encoder = new TextEncoder();

/** Writes all of `text` to stderr synchronously, so that it never interleaves with logs. */
function writeToStderr(text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
}
