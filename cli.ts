/**
 * The dskafka command line.
 *
 *   deno run -A cli.ts --input VIDEO --analytics-config FILE [options]
 *   deno run -A cli.ts check-config FILE [--frame-size WxH]
 *
 * Messages go to stdout (or Kafka, or a file), logs to stderr. Every user error ends
 * with one line on stderr and a distinct exit code (see `ExitCode` in src/errors.ts and
 * the README).
 *
 * @module
 */

import { parseArgs } from "node:util";

import { loadAnalyticsConfig } from "./src/analytics/config.ts";
import { Annotator, checkAnnotatePath } from "./src/annotate/annotate.ts";
import { DEFAULT_EMIT_POLICY, formatEmitPolicy, parseEmitPolicy } from "./src/emit/policy.ts";
import type { EmitPolicy } from "./src/emit/policy.ts";
import { usageErrorFromParseArgs } from "./src/commands/_parse_args_error.ts";
import { DskafkaError, ExitCode, InputNotFoundError, UsageError } from "./src/errors.ts";
import { configureLogging, getLogger } from "./src/log.ts";
import { REPORT_CLI_HELP, REPORT_CLI_OPTIONS } from "./src/report/cli_options.ts";
import { RunReport } from "./src/report/run_report.ts";
import { runStreams } from "./src/run.ts";
import type { RunResult, StreamSpec } from "./src/run.ts";
import { KAFKA_CLI_HELP, KAFKA_CLI_OPTIONS, kafkaSinkOptionsFromCli } from "./src/sink/kafka_options.ts";
import type { Sink } from "./src/sink/sink.ts";
import { SPOOL_CLI_HELP, SPOOL_CLI_OPTIONS, spoolOptionsFromCli } from "./src/sink/spool_options.ts";
import { DiscardSink } from "./src/sink/discard.ts";
import { JsonLinesSink } from "./src/sink/stdout.ts";
import { DEEPSTREAM_CLI_HELP, DEEPSTREAM_CLI_OPTIONS, deepstreamOptionsFromCli } from "./src/source/deepstream_options.ts";
import { defaultDeviceId, resolveInput } from "./src/source/input.ts";
import type { Input } from "./src/source/input.ts";
import { selectBackend } from "./src/source/backend.ts";
import { openReplaySource } from "./src/source/replay.ts";
import type { FrameSource } from "./src/source/source.ts";
import { openVideoSource } from "./src/source/video.ts";

const log = getLogger("cli");

/** The `--help` text. The README's option table matches it. */
export const HELP = `dskafka: publish nvdsanalytics counts (line crossings, ROI counts, overcrowding,
direction) of video streams as JSON messages, keyed by device id.

Usage:
  dskafka --input URI --analytics-config FILE [options]
  dskafka --replay TRACKS --fps N --frame-size WxH --analytics-config FILE [options]
  dskafka check-config FILE [--frame-size WxH]
  dskafka preview --input URI --analytics-config FILE -o out.png [--at SECONDS] [--stream N]
  dskafka tail (--kafka HOST:PORT --topic T | --conn-str "HOST;PORT;TOPIC") [options]

Inputs and analytics:
  -i, --input URI            Video file path, file://, rtsp://, rtsps://, http(s):// URI.
                             Repeat for several streams; stream N is the Nth input.
  --analytics-config FILE    nvdsanalytics config file ([line-crossing-stream-N] etc.).
  --device-id ID             Device id of the next input (repeat in input order). The
                             default is the input's file name without its extension.
  --backend NAME             auto, cpu or deepstream (default auto: deepstream when its
                             plugins load, else cpu).
  --max-frames N             Stop each stream after N frames.
  --realtime                 Play files at their own frame rate, as a camera would.
  --loop                     Start file and http(s) inputs again at their end, so counts
                             keep rising; end the run with --max-frames or a signal.
  --reconnect-max-delay S    Maximum wait in seconds between attempts to reconnect an
                             rtsp:// input that failed after its first frame (default 30).

Replay (recorded tracks instead of video):
  --replay PATH              Tracks of one stream: a MOT Challenge CSV file, or a
                             DeepStream KITTI tracker dump directory. Repeat for
                             several streams; stream N is the Nth --replay.
  --format mot|kitti         Format of the --replay paths (default mot).
  --fps N                    Frame rate of the recorded streams, for timestamps.
  --frame-size WxH           Frame size of the recorded streams in pixels.

Messages:
  --emit POLICY              frames:N (every N frames, default frames:30), interval:T
                             (every T milliseconds of stream time) or change.
  --output FILE              Write JSON lines to FILE instead of stdout.
  --annotate FILE            Write the video with boxes, track ids, lines and live counts
                             to FILE (MP4, H.264; cpu backend, first input).
  Without --kafka, --conn-str or --output, messages are printed on stdout.

${KAFKA_CLI_HELP}

${SPOOL_CLI_HELP}

${REPORT_CLI_HELP}

${DEEPSTREAM_CLI_HELP}

DeepStream sample compatibility (deepstream-test4 flags):
  -p, --proto-lib FILE       Protocol adapter library of nvmsgbroker. dskafka's own Kafka
                             sink does not need it; accepted so scripts keep working.
  -s, --schema 0|1           nvmsgconv schema (0 full, 1 minimal). dskafka always sends
                             its own schema; accepted so scripts keep working.
  --no-display               Accepted; dskafka never opens a display.

Logs:
  --log-level LEVEL          debug, info, warn, error or silent (default info).
  --log-format FORMAT        text or json (default text).

  -h, --help                 Show this help.
  --version                  Show the version.

Exit codes: 0 ok, 1 internal error, 2 usage, 3 input not found, 4 unsupported input,
5 invalid media, 6 invalid config, 7 shim unavailable, 8 Kafka unavailable, 9 topic
missing, 10 Kafka authentication, 11 spool failed, 12 messages left in the spool,
13 backend unavailable, 130 interrupted.
`;

/** dskafka's version. */
export const VERSION = "0.1.0";

export const OPTIONS = {
  input: { type: "string", short: "i", multiple: true },
  "analytics-config": { type: "string" },
  "device-id": { type: "string", multiple: true },
  backend: { type: "string", default: "auto" },
  "max-frames": { type: "string" },
  realtime: { type: "boolean", default: false },
  loop: { type: "boolean", default: false },
  "reconnect-max-delay": { type: "string" },
  replay: { type: "string", multiple: true },
  format: { type: "string", default: "mot" },
  fps: { type: "string" },
  "frame-size": { type: "string" },
  emit: { type: "string" },
  output: { type: "string" },
  annotate: { type: "string" },
  "proto-lib": { type: "string", short: "p" },
  schema: { type: "string", short: "s" },
  "no-display": { type: "boolean", default: false },
  ...KAFKA_CLI_OPTIONS,
  ...DEEPSTREAM_CLI_OPTIONS,
  ...SPOOL_CLI_OPTIONS,
  ...REPORT_CLI_OPTIONS,
  "log-level": { type: "string", default: "info" },
  "log-format": { type: "string", default: "text" },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", default: false },
} as const;

type ParsedOptions = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

/**
 * Runs the command line with `args` and returns the exit code.
 *
 * @param args Command-line arguments without the program name.
 */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "check-config") {
    const { runCheckConfig } = await import("./src/commands/check_config.ts");
    return await runCheckConfig(args.slice(1), (line: string) => console.log(line));
  }

  if (args[0] === "help") args = ["--help", ...args.slice(1)];

  if (args[0] === "preview") {
    const { runPreview } = await import("./src/commands/preview.ts");
    return await runPreview(args.slice(1));
  }
  if (args[0] === "tail") {
    const { runTail } = await import("./src/commands/tail.ts");
    return await runTail(args.slice(1));
  }

  const values = parseOptions(args);
  if (values.help) {
    console.log(HELP);
    return ExitCode.Ok;
  }
  if (values.version) {
    console.log(`dskafka ${VERSION}`);
    return ExitCode.Ok;
  }

  configureLogs(values);
  return await runJob(values);
}

function parseOptions(args: string[]): ParsedOptions {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(
        `unexpected argument "${positionals[0]}": give inputs with --input (see --help)`,
      );
    }
    return values;
  } catch (error) {
    throw usageErrorFromParseArgs(error, "dskafka --help");
  }
}

function configureLogs(values: ParsedOptions): void {
  configureLogging(values["log-level"] ?? "info", values["log-format"] ?? "text");
}

function parseMaxFrames(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;

  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--max-frames "${text}" is invalid: use a whole number >= 1`);
  }
  return value;
}

async function runJob(values: ParsedOptions): Promise<number> {
  const inputTexts = values.input ?? [];
  const replayPaths = values.replay ?? [];
  if (inputTexts.length === 0 && replayPaths.length === 0) {
    throw new UsageError("no input: give one or more --input URI, or --replay TRACKS (see --help)");
  }
  if (inputTexts.length > 0 && replayPaths.length > 0) {
    throw new UsageError("give either --input (video) or --replay (recorded tracks), not both");
  }
  const configPath = values["analytics-config"];
  if (configPath === undefined) {
    throw new UsageError(
      "--analytics-config is missing: give the nvdsanalytics config file that defines the lines",
    );
  }
  const streamCount = inputTexts.length + replayPaths.length;
  const deviceIds = values["device-id"] ?? [];
  if (deviceIds.length > streamCount) {
    throw new UsageError(
      `${deviceIds.length} --device-id values for ${streamCount} inputs: give at most one per input`,
    );
  }
  const maxFrames = parseMaxFrames(values["max-frames"]);
  checkCompatibilityFlags(values);
  const emit = values.emit === undefined ? DEFAULT_EMIT_POLICY : parseEmitPolicy(values.emit);

  const { config, warnings } = await loadAnalyticsConfig(configPath);
  for (const warning of warnings) log.warn(warning.message, { config: configPath });

  const plan = replayPaths.length > 0
    ? await planReplay(values, replayPaths)
    : await planVideo(values, inputTexts, configPath);
  const streams = plan.streams.map((stream, index) => ({
    ...stream,
    deviceId: deviceIds[index] ?? stream.deviceId,
  }));
  const annotatePath = values.annotate;
  const annotator = annotatePath === undefined
    ? undefined
    : new Annotator({ config, backend: plan.backend });
  if (annotatePath !== undefined) await checkAnnotatePath(annotatePath);
  const sink = await openSink(values);

  log.info("run starting", {
    backend: plan.backend,
    inputs: streams.length,
    emit: formatEmitPolicy(emit),
    sink: sink.name,
  });

  const report = await RunReport.start(values, {
    streams: streams.map((stream, streamId) => ({ streamId, deviceId: stream.deviceId })),
    sinkStats: () => sink.stats(),
  });

  const controller = new AbortController();
  const onSignal = () => stopOnSignal(controller, sink);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const source = plan.open({ streams, emit });

  let result: RunResult;
  try {
    result = await runStreams({
      streams,
      source,
      sink,
      analyticsConfig: config,
      emit,
      maxFrames,
      signal: controller.signal,
      onFrame: report.onFrame,
      onAnalytics: annotator?.onAnalytics,
    });
  } finally {
    await source.close();
    await sink.close();
    report.dispose();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }

  for (const stream of result.streams) {
    log.info("stream summary", {
      stream: stream.streamId,
      device: stream.deviceId,
      state: stream.state,
      frames: stream.frames,
      messages: stream.messages,
      crossings: JSON.stringify(stream.lineCrossings),
    });
  }
  const failed = result.streams.find((stream) => stream.error);
  if (failed?.error) console.error(`dskafka: ${failed.error.message}`);

  if (annotator !== undefined && annotatePath !== undefined) {
    const input = await resolveInput(inputTexts[0]);
    log.info("writing the annotated video", {
      stream: 0,
      path: annotatePath,
      frames: annotator.recording.lastFrameNumber,
    });
    const written = await annotator.write(input.uri, config, annotatePath);
    log.info("annotated video written", { stream: 0, path: written.path, frames: written.frames });
  }

  const exitCode = exitCodeAfterClose(result, sink);
  await report.finish(result, { sinkName: sink.name, sinkStats: sink.stats(), exitCode });
  return exitCode;
}

/**
 * Stops the run on the first SIGINT or SIGTERM: the sources stop, decoded frames and
 * final messages are still sent, and the sink is flushed. A second signal exits at
 * once. Spooled messages are on disk by then, and the next run sends them.
 */
function stopOnSignal(controller: AbortController, sink: Sink) {
  if (controller.signal.aborted) {
    log.warn("second signal: exiting now without flushing");
    Deno.exit(ExitCode.Interrupted);
  }

  log.info("signal received: stopping the run and flushing messages (a second signal exits at once)");
  controller.abort();
  (sink as Partial<{ interrupt(): void }>).interrupt?.();
}

/** Returns Spooled instead of Ok when messages wait in the spool after the sink closed. */
function exitCodeAfterClose(result: RunResult, sink: Sink): number {
  const { spooled, dropped } = sink.stats();
  if (dropped > 0) {
    log.warn("the full spool dropped messages (--spool-full drop-oldest)", { dropped });
  }
  if (spooled === 0) return result.exitCode;

  log.warn("messages remain in the spool: the next run with the same --spool-dir sends them", {
    spooled,
    sink: sink.name,
  });
  return result.exitCode === ExitCode.Ok ? ExitCode.Spooled : result.exitCode;
}

/** Validates the deepstream-test4 flags that dskafka accepts but does not need. */
function checkCompatibilityFlags(values: ParsedOptions) {
  const schema = values.schema;
  if (schema !== undefined && schema !== "0" && schema !== "1") {
    throw new UsageError(`--schema "${schema}" is invalid: use 0 (full) or 1 (minimal)`);
  }
  if (schema !== undefined) {
    log.info("--schema is accepted for deepstream-test4 compatibility; dskafka sends its own schema");
  }
  if (values["proto-lib"] !== undefined) {
    log.info("--proto-lib is accepted for deepstream-test4 compatibility; the Kafka sink does not use it", {
      path: values["proto-lib"],
    });
  }
}

/** The streams of a run and the way to open their source. */
interface SourcePlan {
  backend: string;
  streams: StreamSpec[];
  /** Opens the source once the final device ids and the emission policy are known. */
  open: (run: { streams: StreamSpec[]; emit: EmitPolicy }) => FrameSource;
}

async function planVideo(
  values: ParsedOptions,
  inputTexts: string[],
  configPath: string,
): Promise<SourcePlan> {
  const inputs: Input[] = [];
  for (const text of inputTexts) inputs.push(await resolveInput(text));

  const backend = selectBackend(values.backend);
  const reconnectMaxDelayMs = parseReconnectMaxDelay(values["reconnect-max-delay"]);
  if (backend !== "cpu" && (values.loop || reconnectMaxDelayMs !== undefined)) {
    throw new UsageError(
      `--loop and --reconnect-max-delay need the cpu backend, not ${backend}: add --backend cpu`,
    );
  }
  const deepstream = deepstreamOptionsFromCli(values, backend);
  const streams = await Promise.all(inputs.map(async (input) => ({
    input: input.text,
    deviceId: defaultDeviceId(input.text),
    sessionKey: await sessionKeyOf(input),
  })));

  return {
    backend,
    streams,
    open: (run) =>
      openVideoSource(inputs, {
        backend,
        realtime: values.realtime,
        loop: values.loop,
        reconnectMaxDelayMs,
        analyticsConfig: configPath,
        processingSize: deepstream.processingSize,
        inferConfig: deepstream.paths?.inferConfig,
        trackerConfig: deepstream.paths?.trackerConfig,
        trackerLibrary: deepstream.paths?.trackerLibrary,
        msgbroker: deepstream.msgbroker,
        devices: run.streams.map(({ deviceId, sessionKey }) => ({ deviceId, sessionKey })),
        emit: run.emit,
      }),
  };
}

/** Parses --reconnect-max-delay (seconds) into milliseconds. */
function parseReconnectMaxDelay(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;

  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || seconds < 0.001 || seconds > 3600) {
    throw new UsageError(
      `--reconnect-max-delay "${text}" is invalid: use seconds from 0.001 to 3600, for example 30`,
    );
  }
  return Math.round(seconds * 1000);
}

async function planReplay(values: ParsedOptions, paths: string[]): Promise<SourcePlan> {
  if (values.loop || values["reconnect-max-delay"] !== undefined) {
    throw new UsageError("--loop and --reconnect-max-delay apply to --input, not to --replay");
  }
  const format = values.format;
  if (format !== "mot" && format !== "kitti") {
    throw new UsageError(`--format "${format}" is invalid: use mot or kitti`);
  }
  if (values.fps === undefined) {
    throw new UsageError("--replay needs --fps N: the frame rate the tracks were recorded at");
  }
  const fps = Number(values.fps);
  if (!Number.isFinite(fps) || fps <= 0) {
    throw new UsageError(`--fps "${values.fps}" is invalid: use a frame rate > 0, for example 30`);
  }
  if (values["frame-size"] === undefined) {
    throw new UsageError("--replay needs --frame-size WxH: the frame size the tracks were recorded at");
  }
  const size = parseFrameSize(values["frame-size"]);

  const streams: StreamSpec[] = [];
  for (const path of paths) {
    const info = await Deno.stat(path).catch((error) => {
      throw new InputNotFoundError(path, `tracks "${path}" were not found: check the path`, { cause: error });
    });
    streams.push({
      input: path,
      deviceId: defaultDeviceId(path),
      sessionKey: `replay:${path}#${info.size}#${info.mtime?.getTime() ?? 0}`,
    });
  }

  return {
    backend: "replay",
    streams,
    open: () => openReplaySource(paths, { format, fps, width: size.width, height: size.height }),
  };
}

function parseFrameSize(text: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  const width = match ? Number(match[1]) : 0;
  const height = match ? Number(match[2]) : 0;
  if (width < 1 || height < 1) {
    throw new UsageError(`--frame-size "${text}" is invalid: use WIDTHxHEIGHT in pixels, for example 1920x1080`);
  }
  return { width, height };
}

async function openSink(values: ParsedOptions): Promise<Sink> {
  // With --sink nvmsgbroker the pipeline publishes; --conn-str and --topic are its own.
  if (values.sink === "nvmsgbroker") return new DiscardSink("nvmsgbroker");

  const kafka = kafkaSinkOptionsFromCli(values);
  if (kafka !== undefined && values.output !== undefined) {
    throw new UsageError("give either a Kafka destination or --output FILE, not both");
  }
  const spool = spoolOptionsFromCli(values, kafka !== undefined);
  if (kafka !== undefined && spool !== undefined) {
    const { SpoolingSink } = await import("./src/sink/spooling_sink.ts");
    return await SpoolingSink.open({ kafka, spool });
  }
  if (kafka !== undefined) {
    // kafkajs is loaded only when a run publishes to Kafka: it adds to start-up time.
    const { KafkaSink } = await import("./src/sink/kafka.ts");
    return await KafkaSink.connect(kafka);
  }
  if (values.output === undefined) return new JsonLinesSink();

  try {
    const file = await Deno.open(values.output, { write: true, create: true, truncate: true });
    return new JsonLinesSink(file.writable, `file ${values.output}`, true);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `--output "${values.output}" cannot be written (${reason}): give a writable file path`,
      { cause: error },
    );
  }
}

/**
 * Returns the key that makes message ids stable. A file input is keyed by its URI, size
 * and modification time, so a rerun on the same file gives the same ids. A live input
 * is keyed by the run's start time.
 */
async function sessionKeyOf(input: Input): Promise<string> {
  if (input.path === undefined) return `${input.uri}@${new Date().toISOString()}`;

  const info = await Deno.stat(input.path);
  return `${input.uri}#${info.size}#${info.mtime?.getTime() ?? 0}`;
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    if (error instanceof DskafkaError) {
      console.error(`dskafka: ${error.message}`);
      code = error.exitCode;
    } else {
      console.error("dskafka: internal error (please report it with the command line):");
      console.error(error);
      code = ExitCode.Internal;
    }
  }
  Deno.exit(code);
}
