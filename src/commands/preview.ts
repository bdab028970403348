/**
 * `dskafka preview`: takes one frame of an input, draws one stream's nvdsanalytics rules
 * on it and writes it as a PNG. The rules are lines with the arrow of the direction they
 * count, ROI and overcrowding polygons, direction vectors and labels, scaled from the
 * config's coordinate space to the frame. The picture shows before a run whether the
 * lines lie where they should.
 *
 * @module
 */

import { parseArgs } from "node:util";

import { loadAnalyticsConfig } from "../analytics/config.ts";
import { ExitCode, UsageError } from "../errors.ts";
import type { ExitCodeValue } from "../errors.ts";
import { getLogger } from "../log.ts";
import { drawAnalyticsOverlay } from "../preview/overlay.ts";
import { encodePng } from "../preview/png.ts";
import { grabFrame } from "../preview/snapshot.ts";
import { resolveInput } from "../source/input.ts";

const log = getLogger("preview");

/** The `preview` options, as `node:util` `parseArgs` reads them. */
export const PREVIEW_OPTIONS = {
  input: { type: "string", short: "i" },
  "analytics-config": { type: "string" },
  output: { type: "string", short: "o" },
  at: { type: "string" },
  stream: { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The `dskafka preview --help` text; it names every option of {@linkcode PREVIEW_OPTIONS}. */
export const PREVIEW_HELP =
  `dskafka preview: draw an nvdsanalytics config on a frame of the input and save it as PNG.

Usage:
  dskafka preview --input URI --analytics-config FILE -o out.png [--at SECONDS] [--stream N]

Options:
  -i, --input URI            Video file path, file://, rtsp://, rtsps://, http(s):// URI, or
                             a still image (with --at 0).
  --analytics-config FILE    nvdsanalytics config file.
  -o, --output FILE          PNG file to write.
  --at SECONDS               Stream time of the frame (default 0). A file shows the frame
                             on display at that time; a live stream is played that long.
  --stream N                 Draw the [*-stream-N] groups of the config (default 0).
  --timeout SECONDS          Give up when no frame was decoded after this long (default 30).
  -h, --help                 Show this help.

Lines are drawn with an arrow in the direction they count, ROI and overcrowding regions
as translucent polygons, direction vectors as arrows; disabled rules in grey.
`;

/** Parsed and checked `preview` options. */
export interface PreviewOptions {
  input: string;
  analyticsConfig: string;
  output: string;
  /** @default 0 */
  atSeconds: number;
  /** @default 0 */
  streamId: number;
  /** @default 30000 */
  timeoutMs: number;
}

/**
 * Runs `dskafka preview` with the arguments after `preview`.
 *
 * @param argv the arguments after `preview`
 * @param out receives the help text
 * @returns `ExitCode.Ok` when the PNG was written
 * @throws {UsageError} For invalid arguments or an output file that cannot be written.
 * @throws {DskafkaError} The errors of `loadAnalyticsConfig`, `resolveInput` and `grabFrame`.
 *
 * @example Draw the sample config on the frame at 10 s
 * ```ts ignore
 * import { runPreview } from "./preview.ts";
 *
 * await runPreview([
 *   "--input", "samples/car-detection.mp4",
 *   "--analytics-config", "configs/car-detection.txt",
 *   "--at", "10", "-o", "car-detection.png",
 * ]);
 * ```
 */
export async function runPreview(
  argv: string[],
  out: (text: string) => void = (text) => console.log(text),
): Promise<ExitCodeValue> {
  const values = parsePreviewArgs(argv);
  if (values === "help") {
    out(PREVIEW_HELP);
    return ExitCode.Ok;
  }
  await writePreview(values);
  return ExitCode.Ok;
}

/**
 * Draws the preview described by `options` and writes the PNG.
 *
 * @returns The frame size and the time of the frame that was drawn on.
 */
export async function writePreview(
  options: PreviewOptions,
): Promise<{ width: number; height: number; ptsNs: bigint }> {
  const { config, warnings } = await loadAnalyticsConfig(options.analyticsConfig);
  for (const warning of warnings) log.warn(warning.message, { config: options.analyticsConfig });

  const input = await resolveInput(options.input);
  const frame = await grabFrame(input, {
    atSeconds: options.atSeconds,
    timeoutMs: options.timeoutMs,
  });
  const { image } = frame;

  warnAboutGeometry(config.configWidth, config.configHeight, image.width, image.height);

  const seconds = (Number(frame.ptsNs) / 1e9).toFixed(3);
  const drawn = drawAnalyticsOverlay(image, config, {
    streamId: options.streamId,
    caption: `stream ${options.streamId}  config ${config.configWidth}x${config.configHeight}` +
      ` on frame ${image.width}x${image.height}  t=${seconds}s`,
  });
  const { stream } = drawn;
  const rules = stream.lineCrossings.length + stream.roiFilters.length +
    stream.overcrowding.length +
    stream.directions.length;
  if (rules === 0) {
    const present = config.streams.map((s) => s.streamId).join(", ") || "none";
    log.warn("the config has no rules for this stream: the picture shows the frame only", {
      stream: options.streamId,
      streamsInConfig: present,
    });
  }

  try {
    await Deno.writeFile(options.output, encodePng(image));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `--output "${options.output}" cannot be written (${reason}): give a writable file path`,
      { cause: error },
    );
  }

  log.info("preview written", {
    output: options.output,
    frame: `${image.width}x${image.height}`,
    at: `${seconds}s`,
    lines: stream.lineCrossings.length,
    rois: stream.roiFilters.length,
    overcrowding: stream.overcrowding.length,
    directions: stream.directions.length,
  });
  return { width: image.width, height: image.height, ptsNs: frame.ptsNs };
}

/**
 * Parses and checks the arguments after `preview`.
 *
 * @returns The options, or `"help"` for `--help`.
 * @throws {UsageError} For an unknown option, a missing required option or an invalid value.
 */
export function parsePreviewArgs(argv: string[]): PreviewOptions | "help" {
  let values;
  try {
    const parsed = parseArgs({
      args: argv,
      options: PREVIEW_OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (parsed.positionals.length > 0) {
      throw new UsageError(
        `unexpected argument "${
          parsed.positionals[0]
        }": give the input with --input (see dskafka preview --help)`,
      );
    }
    values = parsed.values;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const reason = error instanceof Error ? error.message.replace(/\.$/, "") : String(error);
    throw new UsageError(`${reason}: see dskafka preview --help`, { cause: error });
  }
  if (values.help) return "help";

  const required = (name: "input" | "analytics-config" | "output", what: string): string => {
    const value = values[name];
    if (value === undefined || value === "") {
      throw new UsageError(`--${name} is missing: give ${what} (see dskafka preview --help)`);
    }
    return value;
  };

  return {
    input: required("input", "the video file or URI to take the frame from"),
    analyticsConfig: required("analytics-config", "the nvdsanalytics config file to draw"),
    output: required("output", "the PNG file to write, for example -o preview.png"),
    atSeconds: parseNumber("--at", values.at, 0, "a number of seconds >= 0"),
    streamId: parseStreamId(values.stream),
    timeoutMs: parseNumber("--timeout", values.timeout, 30, "a number of seconds > 0", true) * 1000,
  };
}

function parseNumber(
  option: string,
  text: string | undefined,
  fallback: number,
  rule: string,
  positive = false,
): number {
  if (text === undefined) return fallback;

  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new UsageError(`${option} "${text}" is invalid: use ${rule}`);
  }
  return value;
}

function parseStreamId(text: string | undefined): number {
  if (text === undefined) return 0;

  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`--stream "${text}" is invalid: use a stream number >= 0`);
  }
  return value;
}

/** Logs a warning when the config's aspect ratio differs from the frame's. */
function warnAboutGeometry(
  configWidth: number,
  configHeight: number,
  width: number,
  height: number,
) {
  const configAspect = configWidth / configHeight;
  const frameAspect = width / height;
  if (Math.abs(configAspect / frameAspect - 1) <= 0.01) return;

  log.warn(
    "config-width/config-height and the frame differ in aspect ratio: the geometry is stretched " +
      "unequally in x and y; check that the config was written for this camera",
    { config: `${configWidth}x${configHeight}`, frame: `${width}x${height}` },
  );
}
