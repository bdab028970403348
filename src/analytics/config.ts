/**
 * The nvdsanalytics config file: reading, checking, and the typed result.
 *
 * The file is a GLib key file with `;`-separated lists, read the way the
 * gst-nvdsanalytics plugin reads it (`nvdsanalytics_property_parser.cpp`): the same
 * groups and keys, the same defaults, the same treatment of repeated keys and groups.
 * Where that parser reads past the end of a list or silently does something useless,
 * this one stops with a {@linkcode ConfigError} that names the file, the line and the
 * key and says what to change. Where the plugin's behaviour is legal but probably not
 * what the author meant, the config is kept and a {@linkcode ConfigWarning} says what
 * will happen.
 *
 * Groups and keys:
 *
 * | group | keys |
 * | --- | --- |
 * | `[property]` | `enable`, `config-width`, `config-height` (all required), `osd-mode`, `display-font-size`, `obj-cnt-win-in-ms`, `display-obj-cnt` |
 * | `[roi-filtering-stream-N]` | `enable`, `roi-<label>` (x;y pairs), `inverse-roi`, `class-id` |
 * | `[overcrowding-stream-N]` | `enable`, `roi-<label>`, `object-threshold`, `time-threshold`, `class-id` |
 * | `[line-crossing-stream-N]` | `enable`, `line-crossing-<label>` (8 values: arrow x1;y1;x2;y2 then line x1;y1;x2;y2), `class-id`, `extended`, `mode` |
 * | `[direction-detection-stream-N]` | `enable`, `direction-<label>` (x1;y1;x2;y2), `class-id`, `mode` |
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import {
  type KeyFileEntry,
  type KeyFileGroup,
  KeyFileSyntaxError,
  lookup,
  parseKeyFile,
  readBoolean,
  readInteger,
  readIntegerList,
  readString,
} from "./_keyfile.ts";
import { intersectLines, lineEquation } from "./geometry.ts";

/** How strictly a line crossing is recognised; nvdsanalytics' `mode` key. */
export type LineCrossingMode = "strict" | "balanced" | "loose";

/** A point in config pixels (`config-width` × `config-height`). */
export interface ConfigPoint {
  x: number;
  y: number;
}

/** What every rule of a stream group has. */
export interface RuleConfig {
  /** The label: the key name after `roi-`, `line-crossing-` or `direction-`. */
  label: string;
  /** The group's `enable`; a disabled rule is neither evaluated nor reported. */
  enabled: boolean;
  /**
   * Class ids the rule applies to, from the group's `class-id` list. Empty, or
   * containing -1, means every class.
   */
  classIds: number[];
  /** The group the rule comes from, for example `line-crossing-stream-0`. */
  group: string;
  /** 1-based line of the key that defines the rule. */
  line: number;
}

/** One ROI of a `[roi-filtering-stream-N]` group. */
export interface RoiFilterConfig extends RuleConfig {
  /** Polygon vertices in config pixels; the last vertex joins the first. */
  polygon: ConfigPoint[];
  /** `inverse-roi`: count objects outside the polygon instead of inside. */
  inverse: boolean;
}

/** One region of an `[overcrowding-stream-N]` group. */
export interface OvercrowdingConfig extends RuleConfig {
  polygon: ConfigPoint[];
  /** `object-threshold`: the region is overcrowded when this many objects are inside. @default 1 */
  objectThreshold: number;
  /** `time-threshold` in ms. Read and kept, but nvdsanalytics does not use it. @default 2000 */
  timeThresholdMs: number;
}

/** One line of a `[line-crossing-stream-N]` group. */
export interface LineCrossingConfig extends RuleConfig {
  /** The arrow: objects moving this way count. */
  direction: [ConfigPoint, ConfigPoint];
  /** The line segment objects cross. */
  segment: [ConfigPoint, ConfigPoint];
  /**
   * `extended`: true counts crossings of the infinite line through `segment`, false only
   * crossings through the segment itself (widened by half the box width on each side).
   * @default true
   */
  extended: boolean;
  /** `mode`. @default "loose" */
  mode: LineCrossingMode;
}

/** One direction of a `[direction-detection-stream-N]` group. */
export interface DirectionConfig extends RuleConfig {
  from: ConfigPoint;
  to: ConfigPoint;
  /** `mode`: parsed as nvdsanalytics does, but its library ignores it. @default "balanced" */
  mode: LineCrossingMode;
}

/** Every rule for one stream (one `-stream-N` suffix). */
export interface StreamAnalyticsConfig {
  streamId: number;
  roiFilters: RoiFilterConfig[];
  overcrowding: OvercrowdingConfig[];
  lineCrossings: LineCrossingConfig[];
  directions: DirectionConfig[];
}

/** A default that was applied because a key was absent. */
export interface AppliedDefault {
  group: string;
  key: string;
  /** The value used, as it would be written in the file. */
  value: string;
}

/** A parsed, checked nvdsanalytics config. */
export interface AnalyticsConfig {
  /** The file the config came from. */
  path: string;
  /** `[property] enable`: false makes nvdsanalytics a pass-through (no analytics at all). */
  enable: boolean;
  /** `config-width`: the width the geometry is written for; scaled to the frame width. */
  configWidth: number;
  /** `config-height`. */
  configHeight: number;
  /** `osd-mode` (0 none, 1 labels, 2 labels and counts). @default 2 */
  osdMode: number;
  /** `display-font-size`. @default 12 */
  displayFontSize: number;
  /**
   * `obj-cnt-win-in-ms`, or 50 when absent (the plugin's fallback). nvdsanalytics uses it
   * twice: as the window of the smoothed per-class count, and as the length (in frames)
   * of each object's position history.
   * @default 50
   */
  objectCountWindowMs: number;
  /** `display-obj-cnt`. @default false */
  displayObjectCount: boolean;
  /** Per-stream rules, sorted by stream id. */
  streams: StreamAnalyticsConfig[];
  /** Keys that were absent and the defaults nvdsanalytics uses for them. */
  defaults: AppliedDefault[];
}

/** A legal but suspicious config detail, and what nvdsanalytics (and dskafka) will do. */
export interface ConfigWarning {
  path: string;
  /** 1-based line the warning is about. */
  line: number;
  group?: string;
  key?: string;
  /** One line: location, what is odd, what will happen. */
  message: string;
}

/** Result of {@linkcode parseAnalyticsConfig}. */
export interface ParsedAnalyticsConfig {
  config: AnalyticsConfig;
  warnings: ConfigWarning[];
}

const GROUP_PREFIXES = {
  roi: "roi-filtering-stream-",
  overcrowding: "overcrowding-stream-",
  direction: "direction-detection-stream-",
  line: "line-crossing-stream-",
} as const;

/** The plugin's value of `obj-cnt-win-in-ms` when the key is absent. */
export const DEFAULT_OBJECT_COUNT_WINDOW_MS = 50;

/**
 * Parses and checks an nvdsanalytics config.
 *
 * @param text the file content
 * @param path the file path, used in messages
 * @throws {ConfigError} when nvdsanalytics would reject the file, or would read it
 *   unsafely (an odd number of ROI coordinates, a line without exactly 8 values, a
 *   negative or non-numeric value, a stream suffix that is not a number, an arrow
 *   parallel to its line)
 *
 * @example Read a one-line config
 * ```ts
 * import { parseAnalyticsConfig } from "./config.ts";
 *
 * const text = `[property]
 * enable=1
 * config-width=1920
 * config-height=1080
 *
 * [line-crossing-stream-0]
 * enable=1
 * line-crossing-Door=900;600;1020;600;960;300;960;900
 * mode=balanced
 * `;
 * const { config, warnings } = parseAnalyticsConfig(text, "door.txt");
 * const door = config.streams[0].lineCrossings[0];
 * console.assert(door.label === "Door" && door.extended === true);
 * console.assert(warnings.length === 0);
 * ```
 */
export function parseAnalyticsConfig(text: string, path: string): ParsedAnalyticsConfig {
  return new ConfigReader(path).read(text);
}

/**
 * Reads and parses an nvdsanalytics config file.
 *
 * @throws {ConfigError} when the file cannot be read, or as {@linkcode parseAnalyticsConfig}
 */
export async function loadAnalyticsConfig(path: string): Promise<ParsedAnalyticsConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ConfigError(
        path,
        `${path}: analytics config not found; check the path, or start from configs/car-detection.txt`,
        {},
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new ConfigError(path, `${path}: is a directory; give the analytics config file`, {}, {
        cause: error,
      });
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(path, `${path}: cannot read the analytics config (${reason})`, {}, {
      cause: error,
    });
  }
  return parseAnalyticsConfig(text, path);
}

/** Returns the rules of one stream, or an empty set when the config has none for it. */
export function streamConfig(config: AnalyticsConfig, streamId: number): StreamAnalyticsConfig {
  return config.streams.find((s) => s.streamId === streamId) ??
    { streamId, roiFilters: [], overcrowding: [], lineCrossings: [], directions: [] };
}

/** Whether a rule with these class ids applies to every class. */
export function appliesToAllClasses(classIds: readonly number[]): boolean {
  return classIds.length === 0 || classIds.includes(-1);
}

// ---------------------------------------------------------------------------------------

class ConfigReader {
  private readonly warnings: ConfigWarning[] = [];
  private readonly defaults: AppliedDefault[] = [];
  private readonly streams = new Map<number, StreamAnalyticsConfig>();

  constructor(private readonly path: string) {}

  read(text: string): ParsedAnalyticsConfig {
    let groups: KeyFileGroup[];
    try {
      groups = parseKeyFile(text).groups;
    } catch (error) {
      if (error instanceof KeyFileSyntaxError) {
        throw new ConfigError(this.path, `${this.path}:${error.line}: ${error.message}`, {
          line: error.line,
        }, { cause: error });
      }
      throw error;
    }

    const propertyGroup = groups.find((g) => g.name === "property");
    if (!propertyGroup) {
      throw new ConfigError(
        this.path,
        `${this.path}:1: group [property] is missing; add [property] with enable, config-width and config-height`,
        { line: 1 },
      );
    }

    for (const group of groups) {
      if (group.headerLines.length > 1) {
        this.warn(
          group.headerLines[1],
          group.name,
          undefined,
          `group [${group.name}] appears ${group.headerLines.length} times (lines ${
            group.headerLines.join(", ")
          }); GKeyFile merges them into one group, so their keys add up and a key given in both takes the last value`,
        );
      }
      this.warnRepeatedKeys(group);
    }

    const property = this.readProperty(propertyGroup);

    for (const group of groups) {
      if (group.name === "property") continue;
      const kind = groupKind(group.name);
      if (!kind) {
        this.warn(
          group.headerLines[0],
          group.name,
          undefined,
          `group [${group.name}] is not an nvdsanalytics group and is ignored`,
        );
        continue;
      }
      const streamId = this.streamIdOf(group, GROUP_PREFIXES[kind]);
      const stream = this.stream(streamId);
      switch (kind) {
        case "roi":
          stream.roiFilters.push(...this.readRoiGroup(group));
          break;
        case "overcrowding":
          stream.overcrowding.push(...this.readOvercrowdingGroup(group));
          break;
        case "line":
          stream.lineCrossings.push(...this.readLineGroup(group));
          break;
        case "direction":
          stream.directions.push(...this.readDirectionGroup(group));
          break;
      }
    }

    const streams = [...this.streams.values()].sort((a, b) => a.streamId - b.streamId);
    for (const stream of streams) {
      this.checkStream(stream, property.configWidth, property.configHeight);
    }

    return {
      config: { path: this.path, ...property, streams, defaults: this.defaults },
      warnings: this.warnings,
    };
  }

  // --- [property] ------------------------------------------------------------------------

  private readProperty(group: KeyFileGroup) {
    const enable = this.requiredBoolean(group, "enable");
    const configWidth = this.requiredInteger(group, "config-width", 1);
    const configHeight = this.requiredInteger(group, "config-height", 1);

    let osdMode = 2;
    const osd = lookup(group, "osd-mode");
    if (osd) osdMode = this.integer(group, osd, 0, 2);
    else this.defaulted(group, "osd-mode", "2");

    let displayFontSize = 12;
    const font = lookup(group, "display-font-size");
    if (font) {
      const size = this.integer(group, font, 0);
      // The plugin keeps its default when the key says 0.
      if (size !== 0) displayFontSize = size;
    } else {
      this.defaulted(group, "display-font-size", "12");
    }

    let objectCountWindowMs = DEFAULT_OBJECT_COUNT_WINDOW_MS;
    const window = lookup(group, "obj-cnt-win-in-ms");
    if (window) objectCountWindowMs = this.integer(group, window, 1, 1_000_000_000);
    else this.defaulted(group, "obj-cnt-win-in-ms", String(DEFAULT_OBJECT_COUNT_WINDOW_MS));

    let displayObjectCount = false;
    const display = lookup(group, "display-obj-cnt");
    if (display) displayObjectCount = this.boolean(group, display);
    else this.defaulted(group, "display-obj-cnt", "0");

    this.warnUnknownKeys(group, (key) =>
      [
        "enable",
        "config-width",
        "config-height",
        "osd-mode",
        "display-font-size",
        "obj-cnt-win-in-ms",
        "display-obj-cnt",
      ].includes(key));

    return {
      enable,
      configWidth,
      configHeight,
      osdMode,
      displayFontSize,
      objectCountWindowMs,
      displayObjectCount,
    };
  }

  // --- stream groups -----------------------------------------------------------------------

  private readRoiGroup(group: KeyFileGroup): RoiFilterConfig[] {
    const common = this.commonKeys(group);
    const inverse = this.optionalBoolean(group, "inverse-roi", false);
    const rois: RoiFilterConfig[] = [];
    for (const entry of this.labelledEntries(group, "roi-")) {
      rois.push({
        label: entry.label,
        enabled: common.enabled,
        classIds: common.classIds,
        group: group.name,
        line: entry.line,
        polygon: this.polygon(group, entry),
        inverse,
      });
    }
    this.requireRules(
      group,
      rois.length,
      "roi-<label>",
      "roi-Entrance=100;100;500;100;500;400;100;400",
    );
    this.warnUnknownKeys(
      group,
      (key) => isCommonKey(key) || key === "inverse-roi" || key.startsWith("roi-"),
    );
    return rois;
  }

  private readOvercrowdingGroup(group: KeyFileGroup): OvercrowdingConfig[] {
    const common = this.commonKeys(group);
    const objectThreshold = this.optionalInteger(group, "object-threshold", 1, 0);
    const timeThresholdMs = this.optionalInteger(group, "time-threshold", 2000, 0);
    const regions: OvercrowdingConfig[] = [];
    for (const entry of this.labelledEntries(group, "roi-")) {
      regions.push({
        label: entry.label,
        enabled: common.enabled,
        classIds: common.classIds,
        group: group.name,
        line: entry.line,
        polygon: this.polygon(group, entry),
        objectThreshold,
        timeThresholdMs,
      });
    }
    this.requireRules(
      group,
      regions.length,
      "roi-<label>",
      "roi-Plaza=700;300;1300;300;1300;900;700;900",
    );
    this.warnUnknownKeys(
      group,
      (key) =>
        isCommonKey(key) || key === "object-threshold" || key === "time-threshold" ||
        key.startsWith("roi-"),
    );
    return regions;
  }

  private readLineGroup(group: KeyFileGroup): LineCrossingConfig[] {
    const common = this.commonKeys(group);
    const extended = this.optionalBoolean(group, "extended", true);
    const mode = this.mode(group, "loose", "line");
    const lines: LineCrossingConfig[] = [];
    for (const entry of this.labelledEntries(group, "line-crossing-")) {
      const values = this.coordinates(group, entry);
      if (values.length !== 8) {
        this.fail(
          entry,
          group,
          `has ${values.length} values, a line needs exactly 8: the arrow x1;y1;x2;y2 then the line x1;y1;x2;y2`,
          "write the arrow (the direction that counts) and the two ends of the line",
        );
      }
      const direction: [ConfigPoint, ConfigPoint] = [
        { x: values[0], y: values[1] },
        { x: values[2], y: values[3] },
      ];
      const segment: [ConfigPoint, ConfigPoint] = [
        { x: values[4], y: values[5] },
        { x: values[6], y: values[7] },
      ];
      this.checkLineGeometry(group, entry, direction, segment);
      const line: LineCrossingConfig = {
        label: entry.label,
        enabled: common.enabled,
        classIds: common.classIds,
        group: group.name,
        line: entry.line,
        direction,
        segment,
        extended,
        mode,
      };
      // nvdsanalytics keeps one line per label: a repeated label replaces the earlier
      // line in place (and GKeyFile already returned the last value for both keys).
      const index = lines.findIndex((l) => l.label === line.label);
      if (index >= 0) lines[index] = { ...line, line: lines[index].line };
      else lines.push(line);
    }
    this.requireRules(
      group,
      lines.length,
      "line-crossing-<label>",
      "line-crossing-Door=900;600;1020;600;960;300;960;900",
    );
    this.warnUnknownKeys(
      group,
      (key) =>
        isCommonKey(key) || key === "extended" || key === "mode" ||
        key.startsWith("line-crossing-"),
    );
    return lines;
  }

  private readDirectionGroup(group: KeyFileGroup): DirectionConfig[] {
    const common = this.commonKeys(group);
    const mode = this.mode(group, "balanced", "direction");
    const directions: DirectionConfig[] = [];
    for (const entry of this.labelledEntries(group, "direction-")) {
      const values = this.coordinates(group, entry);
      if (values.length !== 4) {
        this.fail(
          entry,
          group,
          `has ${values.length} values, a direction needs exactly 4: x1;y1;x2;y2 from the tail to the head of the arrow`,
          "write the arrow as two points",
        );
      }
      if (values[0] === values[2] && values[1] === values[3]) {
        this.fail(
          entry,
          group,
          "is an arrow of zero length, so no movement can match it",
          "give two different points",
        );
      }
      const direction: DirectionConfig = {
        label: entry.label,
        enabled: common.enabled,
        classIds: common.classIds,
        group: group.name,
        line: entry.line,
        from: { x: values[0], y: values[1] },
        to: { x: values[2], y: values[3] },
        mode,
      };
      const index = directions.findIndex((d) => d.label === direction.label);
      if (index >= 0) directions[index] = { ...direction, line: directions[index].line };
      else directions.push(direction);
    }
    this.requireRules(
      group,
      directions.length,
      "direction-<label>",
      "direction-East=100;500;300;500",
    );
    this.warnUnknownKeys(
      group,
      (key) => isCommonKey(key) || key === "mode" || key.startsWith("direction-"),
    );
    return directions;
  }

  /** `enable` and `class-id`, which every stream group has. */
  private commonKeys(group: KeyFileGroup): { enabled: boolean; classIds: number[] } {
    const enableEntry = lookup(group, "enable");
    let enabled = false;
    if (enableEntry) {
      enabled = this.boolean(group, enableEntry);
    } else {
      this.defaulted(group, "enable", "0");
      this.warn(
        group.headerLines[0],
        group.name,
        "enable",
        `[${group.name}] has no enable key, so nvdsanalytics disables the whole group; add enable=1 to use it`,
      );
    }

    const classEntry = lookup(group, "class-id");
    let classIds: number[] = [];
    if (classEntry) {
      const parsed = readIntegerList(classEntry.value);
      if (!parsed.ok) {
        this.fail(
          classEntry,
          group,
          parsed.reason,
          "write class ids separated by ';', or -1 for all classes",
        );
      }
      for (const id of parsed.value) {
        if (id < -1) {
          this.fail(
            classEntry,
            group,
            `class id ${id} is negative`,
            "use class ids from the detector's labels (0, 1, …), or -1 for all classes",
          );
        }
      }
      classIds = parsed.value;
      if (classIds.length === 0) {
        this.warn(
          classEntry.line,
          group.name,
          "class-id",
          `class-id is empty, so nvdsanalytics applies [${group.name}] to all classes; write class-id=-1 to say so`,
        );
      }
    } else {
      this.defaulted(group, "class-id", "-1");
    }
    return { enabled, classIds };
  }

  /** The `mode` key: unknown values fall back the way the plugin does, with a warning. */
  private mode(
    group: KeyFileGroup,
    fallback: LineCrossingMode,
    kind: "line" | "direction",
  ): LineCrossingMode {
    const entry = lookup(group, "mode");
    if (!entry) {
      this.defaulted(group, "mode", fallback);
      return fallback;
    }
    const parsed = readString(entry.value);
    if (!parsed.ok) this.fail(entry, group, parsed.reason, "write strict, balanced or loose");
    const value = parsed.value;
    if (value === "strict" || value === "balanced" || value === "loose") {
      if (kind === "direction" && value !== "balanced") {
        this.warn(
          entry.line,
          group.name,
          "mode",
          `mode=${value} has no effect on direction detection: nvdsanalytics reads it but always uses the same thresholds`,
        );
      }
      return value;
    }
    this.warn(
      entry.line,
      group.name,
      "mode",
      `unknown mode "${value}"; nvdsanalytics uses ${fallback} instead${
        kind === "direction" ? " (and ignores mode for directions anyway)" : ""
      }; write strict, balanced or loose`,
    );
    return fallback;
  }

  /**
   * The keys that define rules (`roi-<label>`, …) in file order, each read with the
   * value GKeyFile returns for it: the last one given for that key.
   */
  private labelledEntries(
    group: KeyFileGroup,
    prefix: string,
  ): { label: string; value: string; line: number; key: string }[] {
    const entries: { label: string; value: string; line: number; key: string }[] = [];
    const seen = new Map<string, number>();
    for (const entry of group.entries) {
      if (!entry.key.startsWith(prefix)) continue;
      const label = entry.key.slice(prefix.length);
      if (label === "") {
        this.fail(
          entry,
          group,
          "has no label after the prefix",
          `write ${prefix}<label>, for example ${prefix}Entrance`,
        );
      }
      const last = lookup(group, entry.key)!;
      entries.push({ label, value: last.value, line: entry.line, key: entry.key });
      const first = seen.get(label);
      if (first === undefined) seen.set(label, entry.line);
      else this.warnRepeatedLabel(group, prefix, label, first, entry.line, last.line);
    }
    return entries;
  }

  private warnRepeatedLabel(
    group: KeyFileGroup,
    prefix: string,
    label: string,
    firstLine: number,
    line: number,
    lastLine: number,
  ): void {
    const key = prefix + label;
    let consequence: string;
    if (prefix === "roi-") {
      const what = group.name.startsWith(GROUP_PREFIXES.roi)
        ? "roi_count"
        : "the overcrowding count";
      consequence =
        `GKeyFile returns the last value (line ${lastLine}) for both, so nvdsanalytics evaluates that polygon twice and counts every object inside it twice in ${what}`;
    } else {
      consequence =
        `nvdsanalytics keeps one ${label} with the last definition (line ${lastLine}) in the place of the first`;
    }
    this.warn(
      line,
      group.name,
      key,
      `label ${label} is defined again (lines ${firstLine} and ${line}): ${consequence}; remove or rename one of them`,
    );
  }

  /** Reads a coordinate list: integers, none negative. */
  private coordinates(
    group: KeyFileGroup,
    entry: { key: string; value: string; line: number },
  ): number[] {
    const parsed = readIntegerList(entry.value);
    if (!parsed.ok) {
      this.fail(
        entry,
        group,
        parsed.reason,
        "write pixel coordinates as integers separated by ';'",
      );
    }
    const negative = parsed.value.find((v) => v < 0);
    if (negative !== undefined) {
      this.fail(
        entry,
        group,
        `coordinate ${negative} is negative`,
        "coordinates are pixels from the top-left corner of the config-width × config-height frame",
      );
    }
    return parsed.value;
  }

  private polygon(
    group: KeyFileGroup,
    entry: { key: string; value: string; line: number },
  ): ConfigPoint[] {
    const values = this.coordinates(group, entry);
    if (values.length % 2 !== 0) {
      this.fail(
        entry,
        group,
        `has ${values.length} values, an odd count, but a polygon is a list of x;y pairs`,
        "remove the stray value or add the missing one",
      );
    }
    if (values.length < 6) {
      this.fail(
        entry,
        group,
        `has ${values.length / 2} points, a polygon needs at least 3`,
        "give the corners of the region as x;y pairs",
      );
    }
    const points: ConfigPoint[] = [];
    for (let i = 0; i < values.length; i += 2) points.push({ x: values[i], y: values[i + 1] });
    return points;
  }

  private checkLineGeometry(
    group: KeyFileGroup,
    entry: { key: string; value: string; line: number },
    direction: [ConfigPoint, ConfigPoint],
    segment: [ConfigPoint, ConfigPoint],
  ): void {
    const [d1, d2] = direction;
    const [l1, l2] = segment;
    if (d1.x === d2.x && d1.y === d2.y) {
      this.fail(
        entry,
        group,
        "has an arrow of zero length (values 1-4), so no crossing can ever count",
        "give the arrow two different points, pointing the way objects should cross",
      );
    }
    if (l1.x === l2.x && l1.y === l2.y) {
      this.fail(
        entry,
        group,
        "has a line of zero length (values 5-8)",
        "give the line two different ends",
      );
    }
    // The library's own test (|sin θ| < 1e-5 between the two lines) marks the arrow
    // "improper": it then can never see a crossing.
    if (
      intersectLines(lineEquation(d1.x, d1.y, d2.x, d2.y), lineEquation(l1.x, l1.y, l2.x, l2.y)) ===
        null
    ) {
      this.fail(
        entry,
        group,
        "has an arrow parallel to its line, so no object can cross the line in the arrow's direction",
        "make the arrow (values 1-4) point across the line (values 5-8)",
      );
    }
  }

  /** Checks across groups of one stream, and against the config frame. */
  private checkStream(stream: StreamAnalyticsConfig, width: number, height: number): void {
    const outside = (p: ConfigPoint) => p.x > width || p.y > height;
    const check = (rule: RuleConfig, points: ConfigPoint[], what: string) => {
      const off = points.filter(outside);
      if (off.length === 0) return;
      this.warn(
        rule.line,
        rule.group,
        undefined,
        `${what} ${rule.label} has ${
          off.map((p) => `(${p.x},${p.y})`).join(", ")
        } outside the config frame ${width}x${height}; nvdsanalytics scales and uses it as given, so that part lies off the frame`,
      );
    };
    for (const roi of stream.roiFilters) check(roi, roi.polygon, "ROI");
    for (const oc of stream.overcrowding) check(oc, oc.polygon, "overcrowding region");
    for (const lc of stream.lineCrossings) check(lc, [...lc.direction, ...lc.segment], "line");
    for (const dir of stream.directions) check(dir, [dir.from, dir.to], "direction");

    // The plugin writes ROI counts and overcrowding counts into the same map.
    for (const oc of stream.overcrowding) {
      const roi = stream.roiFilters.find((r) => r.label === oc.label && r.enabled);
      if (roi && oc.enabled) {
        this.warn(
          oc.line,
          oc.group,
          undefined,
          `label ${oc.label} names both an ROI (line ${roi.line}) and an overcrowding region; nvdsanalytics reports one roi_count per label, the overcrowding count, so the ROI count is lost; rename one`,
        );
      }
    }
    const seen = new Map<string, LineCrossingConfig>();
    for (const lc of stream.lineCrossings) {
      const earlier = seen.get(lc.label);
      if (earlier && earlier.group === lc.group) continue;
      if (earlier) {
        this.warn(
          lc.line,
          lc.group,
          undefined,
          `line label ${lc.label} is defined in [${earlier.group}] and [${lc.group}] for stream ${stream.streamId}; nvdsanalytics shares one count and one counted-once flag between them; rename one`,
        );
      }
      seen.set(lc.label, lc);
    }
  }

  // --- helpers --------------------------------------------------------------------------

  private stream(streamId: number): StreamAnalyticsConfig {
    let stream = this.streams.get(streamId);
    if (!stream) {
      stream = { streamId, roiFilters: [], overcrowding: [], lineCrossings: [], directions: [] };
      this.streams.set(streamId, stream);
    }
    return stream;
  }

  private streamIdOf(group: KeyFileGroup, prefix: string): number {
    const suffix = group.name.slice(prefix.length);
    if (!/^[0-9]+$/.test(suffix) || Number(suffix) > 2147483647) {
      throw new ConfigError(
        this.path,
        `${this.path}:${
          group.headerLines[0]
        }: group [${group.name}] has "${suffix}" where the stream number belongs; name it [${prefix}0] for the first input, [${prefix}1] for the second, …`,
        { line: group.headerLines[0] },
      );
    }
    return Number(suffix);
  }

  private requireRules(group: KeyFileGroup, count: number, key: string, example: string): void {
    if (count > 0) return;
    throw new ConfigError(
      this.path,
      `${this.path}:${
        group.headerLines[0]
      }: group [${group.name}] has no ${key} key; add one, for example ${example}, or remove the group`,
      { line: group.headerLines[0] },
    );
  }

  private requiredBoolean(group: KeyFileGroup, key: string): boolean {
    const entry = lookup(group, key);
    if (!entry) this.missing(group, key, `${key}=1`);
    return this.boolean(group, entry);
  }

  private requiredInteger(group: KeyFileGroup, key: string, min: number): number {
    const entry = lookup(group, key);
    if (!entry) this.missing(group, key, `${key}=${key === "config-width" ? 1920 : 1080}`);
    return this.integer(group, entry, min);
  }

  private optionalBoolean(group: KeyFileGroup, key: string, fallback: boolean): boolean {
    const entry = lookup(group, key);
    if (!entry) {
      this.defaulted(group, key, fallback ? "1" : "0");
      return fallback;
    }
    return this.boolean(group, entry);
  }

  private optionalInteger(group: KeyFileGroup, key: string, fallback: number, min: number): number {
    const entry = lookup(group, key);
    if (!entry) {
      this.defaulted(group, key, String(fallback));
      return fallback;
    }
    return this.integer(group, entry, min);
  }

  private boolean(group: KeyFileGroup, entry: KeyFileEntry): boolean {
    const parsed = readBoolean(entry.value);
    if (!parsed.ok) this.fail(entry, group, parsed.reason, "write 1 or 0");
    return parsed.value;
  }

  private integer(group: KeyFileGroup, entry: KeyFileEntry, min: number, max?: number): number {
    const parsed = readInteger(entry.value);
    if (!parsed.ok) this.fail(entry, group, parsed.reason, "write a whole number");
    const value = parsed.value;
    if (value < min || (max !== undefined && value > max)) {
      const range = max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
      this.fail(entry, group, `${value} is out of range`, `use a value ${range}`);
    }
    if (parsed.ignoredText !== undefined) {
      this.warn(
        entry.line,
        group.name,
        entry.key,
        `text "${parsed.ignoredText}" after ${value} is ignored (GKeyFile has no trailing comments); put comments on their own # line`,
      );
    }
    return value;
  }

  private defaulted(group: KeyFileGroup, key: string, value: string): void {
    this.defaults.push({ group: group.name, key, value });
  }

  private warnUnknownKeys(group: KeyFileGroup, known: (key: string) => boolean): void {
    const reported = new Set<string>();
    for (const entry of group.entries) {
      if (known(entry.key) || reported.has(entry.key)) continue;
      reported.add(entry.key);
      this.warn(
        entry.line,
        group.name,
        entry.key,
        `key ${entry.key} is not an nvdsanalytics key for [${group.name}] and is ignored; check its spelling`,
      );
    }
  }

  /** Repeated plain keys (labels are reported with their consequences elsewhere). */
  private warnRepeatedKeys(group: KeyFileGroup): void {
    const lines = new Map<string, number[]>();
    for (const entry of group.entries) {
      const list = lines.get(entry.key) ?? [];
      list.push(entry.line);
      lines.set(entry.key, list);
    }
    for (const [key, at] of lines) {
      if (at.length < 2 || /^(roi-|line-crossing-|direction-)/.test(key)) continue;
      this.warn(
        at[1],
        group.name,
        key,
        `key ${key} is given ${at.length} times in [${group.name}] (lines ${
          at.join(", ")
        }); the last value (line ${at[at.length - 1]}) is used`,
      );
    }
  }

  private warn(
    line: number,
    group: string | undefined,
    key: string | undefined,
    text: string,
  ): void {
    this.warnings.push({
      path: this.path,
      line,
      group,
      key,
      message: `${this.path}:${line}: ${text}`,
    });
  }

  private missing(group: KeyFileGroup, key: string, example: string): never {
    throw new ConfigError(
      this.path,
      `${this.path}:${
        group.headerLines[0]
      }: [${group.name}] has no ${key} key, which nvdsanalytics requires; add ${example}`,
      { line: group.headerLines[0], key },
    );
  }

  private fail(
    entry: { key: string; line: number },
    group: KeyFileGroup,
    problem: string,
    todo: string,
  ): never {
    throw new ConfigError(
      this.path,
      `${this.path}:${entry.line}: [${group.name}] ${entry.key}: ${problem}; ${todo}`,
      { line: entry.line, key: entry.key },
    );
  }
}

function groupKind(name: string): keyof typeof GROUP_PREFIXES | undefined {
  // The plugin tests the prefixes in this order.
  if (name.startsWith(GROUP_PREFIXES.roi)) return "roi";
  if (name.startsWith(GROUP_PREFIXES.overcrowding)) return "overcrowding";
  if (name.startsWith(GROUP_PREFIXES.direction)) return "direction";
  if (name.startsWith(GROUP_PREFIXES.line)) return "line";
  return undefined;
}

function isCommonKey(key: string): boolean {
  return key === "enable" || key === "class-id";
}
