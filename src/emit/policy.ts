/**
 * Emission policies: when a stream's counts become a message.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** When a device's message is emitted. */
export type EmitPolicy =
  | { kind: "frames"; frames: number }
  | { kind: "interval"; milliseconds: number }
  | { kind: "change" };

/** The default policy: every 30 frames, as nvmsgconv's `frame-interval` default. */
export const DEFAULT_EMIT_POLICY: EmitPolicy = { kind: "frames", frames: 30 };

/**
 * Parses `frames:N`, `interval:T` (milliseconds of stream time) or `change`.
 *
 * @example Parse an interval policy
 * ```ts
 * import { parseEmitPolicy } from "./policy.ts";
 *
 * const policy = parseEmitPolicy("interval:1000");
 * console.assert(policy.kind === "interval" && policy.milliseconds === 1000);
 * ```
 *
 * @throws {UsageError} When the text is none of the three forms.
 */
export function parseEmitPolicy(text: string): EmitPolicy {
  if (text === "change") return { kind: "change" };

  const match = /^(frames|interval):(\d+)$/.exec(text);
  const value = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(
      `--emit "${text}" is invalid: use frames:N (every N frames, N >= 1), interval:T ` +
        `(every T milliseconds of stream time, T >= 1) or change`,
    );
  }

  return match[1] === "frames"
    ? { kind: "frames", frames: value }
    : { kind: "interval", milliseconds: value };
}

/** Formats a policy back into its command-line form. */
export function formatEmitPolicy(policy: EmitPolicy): string {
  switch (policy.kind) {
    case "frames":
      return `frames:${policy.frames}`;
    case "interval":
      return `interval:${policy.milliseconds}`;
    case "change":
      return "change";
  }
}
