/**
 * Turns the errors of `node:util` `parseArgs` into one-line usage errors.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/**
 * Returns a {@linkcode UsageError} for an error thrown by `parseArgs`: the option, what
 * is wrong with it, and where the help is. `command` is the help to point at, for
 * example `dskafka --help`.
 */
export function usageErrorFromParseArgs(error: unknown, command: string): UsageError {
  if (error instanceof UsageError) return error;

  const text = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string } | null)?.code;
  const option = /Option '(-{1,2}[\w-]+)/.exec(text)?.[1] ?? /option '(-{1,2}[\w-]+)'/i.exec(text)?.[1];

  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option !== undefined) {
    return new UsageError(`unknown option ${option}: see ${command}`, { cause: error });
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option !== undefined) {
    return new UsageError(
      `option ${option} needs a value (write ${option}=VALUE when the value starts with -): ` +
        `see ${command}`,
      { cause: error },
    );
  }

  const firstLine = text.split("\n")[0].replace(/\.$/, "");
  return new UsageError(`${firstLine}: see ${command}`, { cause: error });
}
