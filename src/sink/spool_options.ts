/**
 * The command-line options of the disk spool (`--spool-dir`, `--spool-max-bytes`,
 * `--spool-full`) and their validation.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";

import { UsageError } from "../errors.ts";
import {
  MAX_SPOOL_BYTES,
  MIN_SPOOL_BYTES,
  SPOOL_FULL_POLICIES,
  type SpoolFullPolicy,
  type SpoolOptions,
} from "./spool.ts";

/** parseArgs definitions of the spool options, for the CLI to merge into its own. */
export const SPOOL_CLI_OPTIONS = {
  "spool-dir": { type: "string" },
  "spool-max-bytes": { type: "string" },
  "spool-full": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Help text of {@linkcode SPOOL_CLI_OPTIONS}. */
export const SPOOL_CLI_HELP = `Spool (with a Kafka destination):
  --spool-dir DIR            Keep the messages that Kafka does not take in DIR and send
                             them in order when it does; a later run sends what an earlier
                             run left there first. Without it, an unreachable broker ends
                             the run with exit code 8.
  --spool-max-bytes SIZE     Maximum size of the spooled messages, in bytes or with K, M,
                             G or T (powers of 1024), from 1M (default 1G).
  --spool-full POLICY        When the spool is full: block (the pipeline waits for Kafka;
                             the default) or drop-oldest (the oldest spooled messages are
                             dropped, counted and logged).`;

/** The values parseArgs returns for {@linkcode SPOOL_CLI_OPTIONS}. */
export type SpoolCliValues = { [name in keyof typeof SPOOL_CLI_OPTIONS]?: string };

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
};

/**
 * Parses a byte size: a whole number, optionally followed by K, M, G or T (powers of
 * 1024, case-insensitive, with an optional `iB` or `B`).
 *
 * @throws {UsageError} naming `option`, the rule and the value.
 *
 * @example
 * ```ts
 * import { parseByteSize } from "./spool_options.ts";
 *
 * console.assert(parseByteSize("512M", "--spool-max-bytes") === 512 * 1024 * 1024);
 * ```
 */
export function parseByteSize(text: string, option: string): number {
  const match = /^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const value = match ? Number(match[1]) * SIZE_UNITS[match[2].toUpperCase()] : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new UsageError(
      `${option} "${text}" is invalid: use a whole number of bytes, optionally with K, M, G ` +
        "or T, for example 512M",
    );
  }
  return value;
}

/**
 * Builds the spool options from parsed command-line values. Returns `undefined` when
 * `--spool-dir` is absent.
 *
 * @param hasKafka whether the command line has a Kafka destination, because the
 *   spool applies only to Kafka.
 * @throws {UsageError} for an invalid value, or a spool option without `--spool-dir` or
 *   without a Kafka destination.
 */
export function spoolOptionsFromCli(
  values: SpoolCliValues,
  hasKafka: boolean,
): SpoolOptions | undefined {
  const directory = values["spool-dir"];
  if (directory === undefined) {
    const stray = (["spool-max-bytes", "spool-full"] as const).find((name) =>
      values[name] !== undefined
    );
    if (stray !== undefined) {
      throw new UsageError(`--${stray} applies only with --spool-dir DIR`);
    }
    return undefined;
  }

  if (!hasKafka) {
    throw new UsageError(
      "--spool-dir applies only with a Kafka destination (--kafka or --conn-str)",
    );
  }
  if (directory.trim() === "") {
    throw new UsageError('--spool-dir "" is invalid: give a directory path');
  }

  const options: SpoolOptions = { directory };

  const maxText = values["spool-max-bytes"];
  if (maxText !== undefined) {
    const maxBytes = parseByteSize(maxText, "--spool-max-bytes");
    if (maxBytes < MIN_SPOOL_BYTES || maxBytes > MAX_SPOOL_BYTES) {
      throw new UsageError(
        `--spool-max-bytes "${maxText}" is invalid: use at least 1M and at most 1024T`,
      );
    }
    options.maxBytes = maxBytes;
  }

  const full = values["spool-full"];
  if (full !== undefined) {
    if (!(SPOOL_FULL_POLICIES as readonly string[]).includes(full)) {
      throw new UsageError(
        `--spool-full "${full}" is invalid: use ${SPOOL_FULL_POLICIES.join(" or ")}`,
      );
    }
    options.full = full as SpoolFullPolicy;
  }

  return options;
}
