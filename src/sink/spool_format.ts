/**
 * The record format of spool segment files.
 *
 * A segment file is a sequence of records, back to back, each:
 *
 * ```
 * u32 LE   body length in bytes
 * u32 LE   CRC-32 of the body (the IEEE polynomial, as zlib computes it)
 * body:
 *   u8     format version (1)
 *   u8     0
 *   u16 LE bytes of the device id
 *   u16 LE bytes of the message id
 *   u16 LE 0
 *   device id, message id, payload: UTF-8, without terminators
 * ```
 *
 * A record is valid when its whole body is present and the CRC matches. A write that a
 * crash cut short leaves an incomplete or mismatching record at the end of a segment,
 * which {@linkcode decodeRecord} reports, so the spool can cut it off.
 *
 * @module
 */

import { crc32 } from "node:zlib";

import type { OutgoingMessage } from "./sink.ts";

/** Bytes of the length and CRC fields before each body. */
export const RECORD_HEADER_BYTES = 8;

const BODY_FIXED_BYTES = 8;
const FORMAT_VERSION = 1;
const MAX_ID_BYTES = 0xffff;

/** The result of decoding the record at one offset. */
export type DecodedRecord =
  | { status: "ok"; message: OutgoingMessage; size: number }
  | { status: "incomplete" }
  | { status: "corrupt"; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes messages as consecutive records.
 *
 * @throws {RangeError} when a device id or message id is longer than 65535 bytes.
 *
 * @example Encode and decode one message
 * ```ts
 * import { decodeRecord, encodeRecords } from "./spool_format.ts";
 *
 * const bytes = encodeRecords([{ deviceId: "gate-1", messageId: "m-1", payload: "{}" }]);
 * const decoded = decodeRecord(bytes, 0);
 * console.assert(decoded.status === "ok" && decoded.message.messageId === "m-1");
 * ```
 */
export function encodeRecords(messages: readonly OutgoingMessage[]): Uint8Array<ArrayBuffer> {
  const parts = messages.map((message) => ({
    device: encoder.encode(message.deviceId),
    id: encoder.encode(message.messageId),
    payload: encoder.encode(message.payload),
  }));

  let total = 0;
  for (const part of parts) {
    if (part.device.length > MAX_ID_BYTES || part.id.length > MAX_ID_BYTES) {
      throw new RangeError(
        `a device id or message id is longer than ${MAX_ID_BYTES} bytes and cannot be spooled`,
      );
    }
    total += RECORD_HEADER_BYTES + BODY_FIXED_BYTES + part.device.length + part.id.length +
      part.payload.length;
  }

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const part of parts) {
    const bodyLength = BODY_FIXED_BYTES + part.device.length + part.id.length +
      part.payload.length;
    const body = bytes.subarray(
      offset + RECORD_HEADER_BYTES,
      offset + RECORD_HEADER_BYTES + bodyLength,
    );

    body[0] = FORMAT_VERSION;
    view.setUint16(offset + RECORD_HEADER_BYTES + 2, part.device.length, true);
    view.setUint16(offset + RECORD_HEADER_BYTES + 4, part.id.length, true);
    let cursor = BODY_FIXED_BYTES;
    body.set(part.device, cursor);
    cursor += part.device.length;
    body.set(part.id, cursor);
    cursor += part.id.length;
    body.set(part.payload, cursor);

    view.setUint32(offset, bodyLength, true);
    view.setUint32(offset + 4, crc32(body), true);
    offset += RECORD_HEADER_BYTES + bodyLength;
  }
  return bytes;
}

/** Returns the size in bytes of the record at `offset`, read from its header alone. */
export function recordSizeAt(bytes: Uint8Array, offset: number): number | undefined {
  if (offset + RECORD_HEADER_BYTES > bytes.length) return undefined;

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return RECORD_HEADER_BYTES + view.getUint32(offset, true);
}

/** Decodes and checks the record that starts at `offset` of `bytes`. */
export function decodeRecord(bytes: Uint8Array, offset: number): DecodedRecord {
  const size = recordSizeAt(bytes, offset);
  if (size === undefined || offset + size > bytes.length) return { status: "incomplete" };

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bodyLength = size - RECORD_HEADER_BYTES;
  if (bodyLength < BODY_FIXED_BYTES) {
    return { status: "corrupt", reason: `body of ${bodyLength} bytes is too short` };
  }

  const body = bytes.subarray(offset + RECORD_HEADER_BYTES, offset + size);
  const expected = view.getUint32(offset + 4, true);
  if (crc32(body) !== expected) return { status: "corrupt", reason: "CRC mismatch" };
  if (body[0] !== FORMAT_VERSION) {
    return { status: "corrupt", reason: `unknown record format version ${body[0]}` };
  }

  const deviceBytes = view.getUint16(offset + RECORD_HEADER_BYTES + 2, true);
  const idBytes = view.getUint16(offset + RECORD_HEADER_BYTES + 4, true);
  if (BODY_FIXED_BYTES + deviceBytes + idBytes > bodyLength) {
    return { status: "corrupt", reason: "id lengths exceed the body" };
  }

  try {
    let cursor = BODY_FIXED_BYTES;
    const deviceId = decoder.decode(body.subarray(cursor, cursor + deviceBytes));
    cursor += deviceBytes;
    const messageId = decoder.decode(body.subarray(cursor, cursor + idBytes));
    cursor += idBytes;
    const payload = decoder.decode(body.subarray(cursor));
    return { status: "ok", message: { deviceId, messageId, payload }, size };
  } catch (error) {
    return { status: "corrupt", reason: `invalid UTF-8 (${(error as Error).message})` };
  }
}
