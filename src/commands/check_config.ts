/**
 * `dskafka check-config FILE [--frame-size WxH]`: reads an nvdsanalytics config the way
 * dskafka and nvdsanalytics read it, and prints what was understood — per stream, each
 * line with its counting direction in words, each ROI and overcrowding region with its
 * thresholds, the defaults applied — and every warning. The exit code says whether the
 * config is usable.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type AnalyticsConfig,
  appliesToAllClasses,
  type ConfigPoint,
  type LineCrossingConfig,
  type LineCrossingMode,
  loadAnalyticsConfig,
  type StreamAnalyticsConfig,
} from "../analytics/config.ts";
import { scaleCoordinate, scaleFactor } from "../analytics/geometry.ts";
import { LineCrossing } from "../analytics/line_crossing.ts";
import { ConfigError, ExitCode } from "../errors.ts";

const USAGE = "usage: dskafka check-config FILE [--frame-size WxH]";

/**
 * Runs `check-config`.
 *
 * @param argv the arguments after `check-config`
 * @param out receives the report, one line per call
 * @returns `ExitCode.Ok` when the config is usable (warnings allowed),
 *   `ExitCode.InvalidConfig` when it is not, `ExitCode.Usage` for bad arguments
 *
 * @example Check a config
 * ```ts ignore
 * import { runCheckConfig } from "./check_config.ts";
 *
 * const code = await runCheckConfig(["configs/car-detection.txt", "--frame-size", "1280x720"], console.log);
 * ```
 */
export async function runCheckConfig(argv: string[], out: (line: string) => void): Promise<number> {
  let file: string;
  let frameSize: { width: number; height: number } | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        "frame-size": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      out(USAGE);
      out(
        "  Reads an nvdsanalytics config and prints what dskafka and nvdsanalytics understand from it.",
      );
      out(
        "  --frame-size WxH  also show the geometry scaled to frames of this size (the streammux size)",
      );
      return ExitCode.Ok;
    }
    if (positionals.length !== 1) {
      out(
        `error: ${
          positionals.length === 0 ? "no config file given" : "give exactly one config file"
        }; ${USAGE}`,
      );
      return ExitCode.Usage;
    }
    file = positionals[0];
    if (values["frame-size"] !== undefined) {
      const match = /^(\d+)x(\d+)$/.exec(values["frame-size"]);
      if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
        out(
          `error: --frame-size "${
            values["frame-size"]
          }" is not WIDTHxHEIGHT in pixels, for example 1920x1080`,
        );
        return ExitCode.Usage;
      }
      frameSize = { width: Number(match[1]), height: Number(match[2]) };
    }
  } catch (error) {
    out(`error: ${error instanceof Error ? error.message : String(error)}; ${USAGE}`);
    return ExitCode.Usage;
  }

  let parsed;
  try {
    parsed = await loadAnalyticsConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) {
      out(`error: ${error.message}`);
      out(`${file}: not usable`);
      return ExitCode.InvalidConfig;
    }
    throw error;
  }

  const { config, warnings } = parsed;
  describeConfig(config, frameSize, out);
  if (warnings.length > 0) {
    out("");
    out(`warnings (${warnings.length}):`);
    for (const warning of warnings) out(`  ${warning.message}`);
  }
  out("");
  out(
    `${file}: usable${
      warnings.length ? `, with ${warnings.length} warning${warnings.length > 1 ? "s" : ""}` : ""
    }`,
  );
  return ExitCode.Ok;
}

function describeConfig(
  config: AnalyticsConfig,
  frameSize: { width: number; height: number } | undefined,
  out: (line: string) => void,
): void {
  out(
    `${config.path}: nvdsanalytics config for a ${config.configWidth}x${config.configHeight} frame`,
  );
  if (!config.enable) {
    out("  [property] enable=0: nvdsanalytics passes frames through; no analytics at all");
  }
  let scale: { x: number; y: number } | undefined;
  if (frameSize) {
    scale = {
      x: scaleFactor(frameSize.width, config.configWidth),
      y: scaleFactor(frameSize.height, config.configHeight),
    };
    out(
      `  frames are ${frameSize.width}x${frameSize.height}: geometry scaled by ${
        fmt(scale.x)
      } in x, ${fmt(scale.y)} in y (coordinates truncated to whole pixels)`,
    );
  }
  out(
    `  object count window: ${config.objectCountWindowMs} ms (the most frequent count per class in that window); ` +
      `nvdsanalytics also keeps ${config.objectCountWindowMs} frames of history per object`,
  );
  out(
    `  osd-mode=${config.osdMode}, display-font-size=${config.displayFontSize}, display-obj-cnt=${+config
      .displayObjectCount}`,
  );

  if (config.streams.length === 0) {
    out("  no stream groups: only the per-class object count is computed");
  }
  for (const stream of config.streams) describeStream(stream, scale, out);

  if (config.defaults.length > 0) {
    out("");
    out("defaults applied (key absent):");
    const byGroup = new Map<string, string[]>();
    for (const d of config.defaults) {
      byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), `${d.key}=${d.value}`]);
    }
    for (const [group, keys] of byGroup) out(`  [${group}] ${keys.join(", ")}`);
  }
}

function describeStream(
  stream: StreamAnalyticsConfig,
  scale: { x: number; y: number } | undefined,
  out: (line: string) => void,
): void {
  out("");
  out(`stream ${stream.streamId}:`);
  const at = (p: ConfigPoint) => {
    const config = `(${p.x},${p.y})`;
    if (!scale) return config;
    return `${config}→(${scaleCoordinate(p.x, scale.x)},${scaleCoordinate(p.y, scale.y)})`;
  };
  const state = (enabled: boolean) => (enabled ? "" : " [disabled: enable=0]");

  for (const line of stream.lineCrossings) {
    const [d1, d2] = line.direction;
    const [l1, l2] = line.segment;
    out(
      `  line ${line.label} (line ${line.line})${state(line.enabled)}: from ${at(l1)} to ${
        at(l2)
      }; counts objects moving ${directionWords(d2.x - d1.x, d2.y - d1.y)} (arrow ${at(d1)} to ${
        at(d2)
      })`,
    );
    out(
      `      ${
        line.extended
          ? "anywhere on the infinite line through it (extended=1)"
          : "only through the segment itself (extended=0)"
      }; ${modeWords(line)}; ${classWords(line.classIds)}; each object counts once`,
    );
    if (scale) {
      const scaled = new LineCrossing(line, scale.x, scale.y);
      if (scaled.arrow.x === 0 && scaled.arrow.y === 0) {
        out(
          "      warning: at this frame size the arrow shrinks to a point; this line can never count",
        );
      }
    }
  }
  for (const roi of stream.roiFilters) {
    out(
      `  ROI ${roi.label} (line ${roi.line})${
        state(roi.enabled)
      }: ${roi.polygon.length}-point polygon ${roi.polygon.map(at).join(" ")}; counts objects ${
        roi.inverse ? "outside it (inverse-roi=1)" : "inside it"
      }; ${classWords(roi.classIds)}`,
    );
  }
  for (const region of stream.overcrowding) {
    out(
      `  overcrowding ${region.label} (line ${region.line})${
        state(region.enabled)
      }: ${region.polygon.length}-point polygon ${
        region.polygon.map(at).join(" ")
      }; overcrowded from ${Math.max(1, region.objectThreshold)} object${
        Math.max(1, region.objectThreshold) > 1 ? "s" : ""
      } inside (object-threshold=${region.objectThreshold}); time-threshold=${region.timeThresholdMs} ms is not used by nvdsanalytics; ${
        classWords(region.classIds)
      }`,
    );
  }
  for (const direction of stream.directions) {
    out(
      `  direction ${direction.label} (line ${direction.line})${
        state(direction.enabled)
      }: objects moving ${
        directionWords(direction.to.x - direction.from.x, direction.to.y - direction.from.y)
      }, within 60° (arrow ${at(direction.from)} to ${
        at(direction.to)
      }), after 10 frames and a move of over 55 px; ${classWords(direction.classIds)}`,
    );
  }
  out("  objects are placed at the bottom centre of their box (centre + half the mean box height)");
}

/** Screen direction of a vector in words (y grows downwards). */
export function directionWords(dx: number, dy: number): string {
  const angle = (Math.atan2(-dy, dx) * 180) / Math.PI; // counter-clockwise from "right", y up
  const sectors = [
    "left to right",
    "bottom-left to top-right",
    "bottom to top (up)",
    "bottom-right to top-left",
    "right to left",
    "top-right to bottom-left",
    "top to bottom (down)",
    "top-left to bottom-right",
  ];
  const index = ((Math.round(angle / 45) % 8) + 8) % 8;
  return sectors[index];
}

function modeWords(line: LineCrossingConfig): string {
  const thresholds: Record<LineCrossingMode, [number, number, number]> = {
    strict: [6000, 20, 0.8],
    balanced: [3000, 10, 0.5],
    loose: [1000, 3, 0.1],
  };
  const [displacement, frames, cosine] = thresholds[line.mode];
  const move = Math.sqrt(displacement).toFixed(0);
  const angle = ((Math.acos(cosine) * 180) / Math.PI).toFixed(0);
  const base = `mode ${line.mode}: after ${frames} frames, a move of over ${move} px`;
  if (line.mode === "loose") return `${base}, from the arrow's side of the line to the other`;
  return `${base}, within ${angle}° of the arrow`;
}

function classWords(classIds: readonly number[]): string {
  return appliesToAllClasses(classIds)
    ? "all classes"
    : `class${classIds.length > 1 ? "es" : ""} ${classIds.join(", ")}`;
}

function fmt(n: number): string {
  return Number(n.toFixed(4)).toString();
}
