/**
 * A small namespaced logger that writes one line per event to stderr.
 *
 * Each component gets its own namespace (`pipeline`, `kafka`, `spool`, …), and every
 * line about a stream names the stream, so a multi-camera run can be read line by line.
 * stdout is left to messages.
 *
 * @module
 */

import { UsageError } from "./errors.ts";

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Output format of log lines. */
export type LogFormat = "text" | "json";

/** Process-wide logger settings, changed by the CLI before a run. */
export const logSettings: {
  level: LogLevel;
  format: LogFormat;
  write: (line: string) => void;
} = {
  level: "info",
  format: "text",
  write: (line) => console.error(line),
};

/**
 * Applies `--log-level` and `--log-format` values to {@linkcode logSettings}.
 *
 * @throws {UsageError} For a level or format that does not exist, naming the value.
 */
export function configureLogging(level: string, format: string): void {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level "${level}" is invalid: use ${LOG_LEVELS.join(", ")}`);
  }
  if (format !== "text" && format !== "json") {
    throw new UsageError(`--log-format "${format}" is invalid: use text or json`);
  }

  logSettings.level = level as LogLevel;
  logSettings.format = format;
}

/** Key-value context attached to a log line, for example `{ stream: 0, uri: "…" }`. */
export type LogFields = Record<string, string | number | bigint | boolean | null | undefined>;

/** A logger bound to one namespace. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * Creates a logger whose lines start with `namespace`.
 *
 * @example Log a stream event
 * ```ts
 * import { getLogger } from "./log.ts";
 *
 * const log = getLogger("pipeline");
 * log.info("stream started", { stream: 0, uri: "file:///videos/gate.mp4" });
 * ```
 */
export function getLogger(namespace: string): Logger {
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(logSettings.level)) return;

    logSettings.write(formatLine(namespace, level, message, fields ?? {}));
  };

  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}

function formatLine(namespace: string, level: LogLevel, message: string, fields: LogFields) {
  if (logSettings.format === "json") {
    const record: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      component: namespace,
      message,
    };
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) record[key] = typeof value === "bigint" ? value.toString() : value;
    }
    return JSON.stringify(record);
  }

  const context = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(" ");
  return `dskafka ${level} [${namespace}] ${message}${context ? " " + context : ""}`;
}

function formatValue(value: string | number | bigint | boolean | null | undefined): string {
  if (typeof value === "string" && /[\s"=]/.test(value)) return JSON.stringify(value);
  return String(value);
}
