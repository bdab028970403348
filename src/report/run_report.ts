/**
 * Progress display and run summary around one run, set up from the command-line values
 * in one call so that the CLI needs only three lines: start, `onFrame`, finish.
 *
 * @module
 */

import { logSettings } from "../log.ts";
import type { RunResult, StreamResult } from "../run.ts";
import type { SinkStats } from "../sink/sink.ts";
import type { ReportCliValues } from "./cli_options.ts";
import { ProgressReporter, resolveProgressMode } from "./progress.ts";
import { buildRunSummary, checkSummaryTarget, writeRunSummary } from "./summary.ts";

/** Options of {@linkcode RunReport.start}. */
export interface RunReportOptions {
  /** The run's streams, in stream-id order. */
  streams: readonly { streamId: number; deviceId: string }[];
  /** The sink's current counters, for the progress display. */
  sinkStats?: () => SinkStats;
  /** Whether stderr is a terminal. @default Deno.stderr.isTerminal() */
  stderrIsTerminal?: boolean;
  /** Writes progress output. @default a synchronous writer to stderr */
  write?: (text: string) => void;
  /** Wall clock in milliseconds since the epoch, for the summary. @default Date.now */
  now?: () => number;
}

/**
 * The progress display and summary of one run. While it is active, log lines pass
 * through the progress display so that they do not break its status block.
 *
 * @example Wire it around a run
 * ```ts ignore
 * const report = await RunReport.start(values, { streams, sinkStats: () => sink.stats() });
 * try {
 *   result = await runStreams({ ...options, onFrame: report.onFrame });
 * } finally {
 *   await sink.close();
 *   report.dispose();
 * }
 * await report.finish(result, { sinkName: sink.name, sinkStats: sink.stats(), exitCode });
 * ```
 */
export class RunReport {
  /** Pass to `runStreams` as `onFrame`. */
  readonly onFrame: (stream: StreamResult) => void;
  readonly #progress: ProgressReporter;
  readonly #summaryTarget?: string;
  readonly #startedAtMs: number;
  readonly #now: () => number;
  readonly #logWrite: (line: string) => void;
  #disposed = false;

  private constructor(
    progress: ProgressReporter,
    summaryTarget: string | undefined,
    now: () => number,
  ) {
    this.#progress = progress;
    this.#summaryTarget = summaryTarget;
    this.#now = now;
    this.#startedAtMs = now();
    this.onFrame = (stream) => progress.update(stream);
    this.#logWrite = logSettings.write;
    logSettings.write = progress.wrapLogWrite(this.#logWrite);
  }

  /**
   * Checks the reporting options and starts the progress display.
   *
   * @throws {UsageError} For an invalid `--progress` value, or a `--summary` path whose
   *   folder does not exist, before any frame is decoded.
   */
  static async start(values: ReportCliValues, options: RunReportOptions): Promise<RunReport> {
    const mode = resolveProgressMode(
      values.progress,
      options.stderrIsTerminal ?? Deno.stderr.isTerminal(),
    );
    if (values.summary !== undefined) await checkSummaryTarget(values.summary);

    const progress = new ProgressReporter(options.streams, {
      mode,
      write: options.write,
      sinkStats: options.sinkStats,
    });
    return new RunReport(progress, values.summary, options.now ?? Date.now);
  }

  /**
   * Takes the status block off the screen and restores the log writer, so that the lines
   * printed after the run stay readable. Call it when the run ends, also after an error.
   * Safe to call more than once.
   */
  dispose(): void {
    if (this.#disposed) return;

    this.#disposed = true;
    this.#progress.stop();
    logSettings.write = this.#logWrite;
  }

  /**
   * Restores the log writer if {@linkcode dispose} has not, draws the final progress below
   * what was printed since, and writes the summary when `--summary` was given.
   *
   * @param options.sinkStats the sink's counters after it was closed, which include the
   *   messages flushed at close; `result.sink` is used without them.
   * @param options.exitCode the process exit code, when the CLI changes `result.exitCode`
   * @throws {UsageError} When the summary file cannot be written.
   */
  async finish(
    result: RunResult,
    options: { sinkName?: string; sinkStats?: SinkStats; exitCode?: number } = {},
  ): Promise<void> {
    this.dispose();
    this.#progress.finish(result.streams);
    if (this.#summaryTarget === undefined) return;

    const summary = buildRunSummary(
      options.sinkStats === undefined ? result : { ...result, sink: options.sinkStats },
      {
        startedAtMs: this.#startedAtMs,
        endedAtMs: this.#now(),
        sinkName: options.sinkName,
        exitCode: options.exitCode,
      },
    );
    await writeRunSummary(this.#summaryTarget, summary);
  }
}
