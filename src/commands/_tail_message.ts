/**
 * Reading one Kafka record as a dskafka message for `dskafka tail`: the device, the
 * frame, the time and the line-crossing counts, and the JSON line that tail prints for
 * it when stdout is not a terminal.
 *
 * The check is structural, not a full schema validation. It requires exactly the fields
 * that tail shows, so a record from another producer is reported instead of shown with
 * made-up values.
 *
 * @module
 */

/** The counts of one line label in one message. */
export interface LineCounts {
  /** `lc_curr_<label>`: crossings since the device's previous message. */
  current: number;
  /** `lc_cum_<label>`: the running total of crossings. */
  cumulative: number;
}

/** The part of a dskafka message that tail shows. */
export interface CountsUpdate {
  /** The message's `deviceId`. */
  deviceId: string;
  /** The message's `frame.number`: the one-based number of the last frame counted. */
  frame: number;
  /** The message's `@timestamp`, as sent. */
  timestamp: string;
  /** Counts per line label, in the order of the message's fields. */
  lines: Record<string, LineCounts>;
}

/** The key, partition and offset of a record. */
export interface RecordPosition {
  /** The record key as text, or `null` for a record without a key. */
  key: string | null;
  /** The partition the record was read from. */
  partition: number;
  /** The record's offset in its partition. */
  offset: number;
}

/** The result of {@linkcode parseCountsMessage}: the update, or why the record is not one. */
export type ParsedRecord =
  | { ok: true; update: CountsUpdate }
  | { ok: false; reason: string };

const LINE_FIELD = /^lc_(curr|cum)_(.+)$/;

/**
 * Parses a record value as a dskafka message.
 *
 * @param value the record value as Kafka delivered it; `null` for a tombstone
 * @returns the counts, or a reason such as `not JSON` or `"frame.number" is missing`
 *
 * @example Parse a message
 * ```ts
 * import { parseCountsMessage } from "./_tail_message.ts";
 *
 * const text = JSON.stringify({
 *   deviceId: "gate-1",
 *   "@timestamp": "2024-05-01T12:00:00.000Z",
 *   frame: { streamId: 0, number: 30, ptsMs: 1000 },
 *   analyticsModule: { lc_curr_Up: 1, lc_cum_Up: 3 },
 * });
 * const parsed = parseCountsMessage(new TextEncoder().encode(text));
 * console.assert(parsed.ok && parsed.update.lines.Up.cumulative === 3);
 * ```
 */
export function parseCountsMessage(value: Uint8Array | null): ParsedRecord {
  if (value === null) return { ok: false, reason: "the record has no value (a tombstone)" };

  let message: unknown;
  try {
    message = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(value));
  } catch {
    return { ok: false, reason: "the value is not JSON text" };
  }
  if (!isObject(message)) return { ok: false, reason: "the value is not a JSON object" };

  const deviceId = message.deviceId;
  if (typeof deviceId !== "string" || deviceId.length === 0) {
    return { ok: false, reason: '"deviceId" is missing or not a non-empty string' };
  }

  const frame = isObject(message.frame) ? message.frame.number : undefined;
  if (!isCount(frame)) {
    return { ok: false, reason: '"frame.number" is missing or not a whole number' };
  }

  const timestamp = message["@timestamp"];
  if (typeof timestamp !== "string") {
    return { ok: false, reason: '"@timestamp" is missing or not a string' };
  }

  const module = message.analyticsModule;
  if (!isObject(module)) {
    return { ok: false, reason: '"analyticsModule" is missing or not an object' };
  }

  const lines: Record<string, LineCounts> = {};
  for (const [field, count] of Object.entries(module)) {
    const match = LINE_FIELD.exec(field);
    if (match === null) continue;

    if (!isCount(count)) {
      return { ok: false, reason: `"analyticsModule.${field}" is not a whole number >= 0` };
    }
    const [, kind, label] = match;
    lines[label] ??= { current: 0, cumulative: 0 };
    if (kind === "curr") lines[label].current = count;
    else lines[label].cumulative = count;
  }

  return { ok: true, update: { deviceId, frame, timestamp, lines } };
}

/**
 * Formats the JSON line that tail prints for one message when stdout is not a terminal.
 *
 * @example
 * ```ts
 * import { formatJsonLine } from "./_tail_message.ts";
 *
 * const line = formatJsonLine(
 *   { deviceId: "gate-1", frame: 30, timestamp: "2024-05-01T12:00:00.000Z", lines: {} },
 *   { key: "gate-1", partition: 0, offset: 7 },
 * );
 * console.assert(JSON.parse(line).offset === 7);
 * ```
 */
export function formatJsonLine(update: CountsUpdate, position: RecordPosition): string {
  return JSON.stringify({
    deviceId: update.deviceId,
    frame: update.frame,
    timestamp: update.timestamp,
    lines: update.lines,
    key: position.key,
    partition: position.partition,
    offset: position.offset,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
