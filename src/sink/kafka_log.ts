/**
 * Routes kafkajs's own log entries to dskafka's `kafka` logger.
 *
 * kafkajs logs at ERROR each failed attempt that it then retries, so its ERROR entries
 * become warnings here. The sink reports a final failure itself, at error level. Only
 * an allowlist of fields is copied, so nothing that kafkajs attaches (request bodies,
 * SASL details) can leak into the log.
 *
 * kafkajs 2.2.4 also starts a timer with a negative delay when it opens a connection.
 * Node's timers (and Deno's, which follow them) run it after 1 ms, as kafkajs expects,
 * and print a "TimeoutNegativeWarning" to stderr. {@linkcode kafkajsLogCreator} routes
 * that one warning to this logger at debug level; every other process warning still
 * prints.
 *
 * @module
 */

import process from "node:process";

import { type logCreator, type LogEntry, logLevel } from "kafkajs";

import { getLogger, type LogFields, type Logger, logSettings } from "../log.ts";

// Fields of kafkajs log entries that are safe and useful to keep.
const KEPT_FIELDS = [
  "broker",
  "topic",
  "partition",
  "error",
  "retryCount",
  "retryTime",
  "correlationId",
] as const;

// kafkajs warnings about choices the sink makes on purpose, logged at debug level.
// kafkajs 2.2.4 warns when an idempotent producer has bounded retries. The sink
// bounds them so that a failure reaches the caller, fails the queued messages in
// order, and consumers de-duplicate a resent message on its messageid.
const EXPECTED_WARNINGS = [
  "Limiting retries for the idempotent producer",
];

/**
 * Returns the kafkajs log level that matches dskafka's current level. kafkajs fixes its level
 * when a client is created, so it is read once per client.
 */
export function kafkajsLogLevel(): logLevel {
  switch (logSettings.level) {
    case "debug":
      return logLevel.DEBUG;
    case "silent":
      return logLevel.NOTHING;
    default:
      return logLevel.WARN;
  }
}

let timerWarningRouted = false;

/** Sends kafkajs's negative-timer warning to `logger.debug` instead of stderr, once per process. */
function routeNegativeTimerWarning(logger: Logger) {
  if (timerWarningRouted) return;
  timerWarningRouted = true;

  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const name = typeof warning === "string" ? rest[0] : warning.name;
    const type = typeof name === "object" && name !== null ? (name as { type?: string }).type : name;
    if (type === "TimeoutNegativeWarning") {
      logger.debug("a kafkajs timer had a negative delay and runs after 1 ms");
      return;
    }
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

/**
 * Creates a kafkajs `logCreator` that writes to `logger`.
 *
 * @param logger target logger @default getLogger("kafka")
 */
export function kafkajsLogCreator(logger: Logger = getLogger("kafka")): logCreator {
  routeNegativeTimerWarning(logger);

  return () => (entry: LogEntry) => {
    const { message, ...extra } = entry.log;
    const fields: LogFields = { kafkajs: entry.namespace || undefined };
    for (const name of KEPT_FIELDS) {
      const value = extra[name];
      if (value === undefined || value === null) continue;

      fields[name] = typeof value === "number" || typeof value === "boolean"
        ? value
        : String(value);
    }

    switch (entry.level) {
      case logLevel.ERROR:
      case logLevel.WARN:
        if (EXPECTED_WARNINGS.some((prefix) => message.startsWith(prefix))) {
          logger.debug(message, fields);
        } else {
          logger.warn(message, fields);
        }
        break;
      default:
        logger.debug(message, fields);
    }
  };
}
