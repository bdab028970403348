/**
 * The command-line options of run reporting (`--progress`, `--summary`), for the CLI to
 * merge into its own table and help text.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";

/** parseArgs definitions of the reporting options. */
export const REPORT_CLI_OPTIONS = {
  progress: { type: "string" },
  summary: { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Help text of {@linkcode REPORT_CLI_OPTIONS}. */
export const REPORT_CLI_HELP = `Progress and summary:
  --progress on|off|json     Live progress on stderr: one status line per stream updated in
                             place (on), none (off), or one JSON object per stream about
                             every second (json). Default: on when stderr is a terminal,
                             else off.
  --summary FILE             Write a JSON summary of the run to FILE when it ends (- for
                             stdout): per device the final counts, frames, messages and
                             how the stream ended.`;

/** The values parseArgs returns for {@linkcode REPORT_CLI_OPTIONS}. */
export type ReportCliValues = { [name in keyof typeof REPORT_CLI_OPTIONS]?: string };
