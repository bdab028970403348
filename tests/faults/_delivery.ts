/**
 * Checks of what reached a Kafka topic: every expected message, each device's messages
 * in order, and duplicates only as repeats of the same messageid.
 *
 * @module
 */

import assert from "node:assert/strict";

import { header, type KcatRecord } from "../kafka/_broker.ts";

/** One message read back from Kafka. */
export interface Delivered {
  deviceId: string;
  messageId: string;
  frameNumber: number;
  /** `analyticsModule` counts: `lc_cum_<label>`, `lc_curr_<label>`. */
  counts: Record<string, number>;
}

/** Decodes kcat records of dskafka messages, checking key, header and payload agree. */
export function decodeDelivered(records: KcatRecord[]): Delivered[] {
  return records.map((record) => {
    const payload = JSON.parse(record.payload ?? "null");
    assert.equal(record.key, payload.deviceId, "the Kafka key is the device id");
    assert.equal(header(record, "messageid"), payload.messageid, "header messageid");

    const counts: Record<string, number> = {};
    for (const [key, value] of Object.entries(payload.analyticsModule ?? {})) {
      if (key.startsWith("lc_") && typeof value === "number") counts[key] = value;
    }
    return {
      deviceId: payload.deviceId,
      messageId: payload.messageid,
      frameNumber: payload.frame.number,
      counts,
    };
  });
}

/**
 * Returns the first occurrence of each messageid of `device`, in topic order, after
 * checking that repeats are exact repeats: one frame never has two messageids, and a
 * repeated messageid has the same frame number.
 */
export function firstOccurrences(delivered: Delivered[], device: string): Delivered[] {
  const byId = new Map<string, Delivered>();
  const idByFrame = new Map<number, string>();
  const firsts: Delivered[] = [];

  for (const message of delivered.filter((m) => m.deviceId === device)) {
    const earlier = byId.get(message.messageId);
    if (earlier !== undefined) {
      assert.equal(message.frameNumber, earlier.frameNumber, `repeat of ${message.messageId}`);
      continue;
    }

    const otherId = idByFrame.get(message.frameNumber);
    assert.equal(
      otherId,
      undefined,
      `frame ${message.frameNumber} of ${device} has two messageids: ${otherId} and ${message.messageId}`,
    );
    byId.set(message.messageId, message);
    idByFrame.set(message.frameNumber, message.messageId);
    firsts.push(message);
  }
  return firsts;
}

/** Asserts that the frame numbers of `messages` increase strictly. */
export function assertInOrder(messages: Delivered[], device: string): void {
  for (let i = 1; i < messages.length; i++) {
    assert.ok(
      messages[i].frameNumber > messages[i - 1].frameNumber,
      `${device}: frame ${messages[i].frameNumber} (${messages[i].messageId}) arrived after ` +
        `frame ${messages[i - 1].frameNumber}`,
    );
  }
}

/** Asserts that each `lc_cum_*` count never decreases from one message to the next. */
export function assertCumulativeNeverFalls(messages: Delivered[], device: string): void {
  for (let i = 1; i < messages.length; i++) {
    for (const [key, value] of Object.entries(messages[i].counts)) {
      if (!key.startsWith("lc_cum_")) continue;
      const before = messages[i - 1].counts[key] ?? 0;
      assert.ok(
        value >= before,
        `${device}: ${key} fell from ${before} to ${value} at frame ${messages[i].frameNumber}`,
      );
    }
  }
}

/** Returns the `messages=N` of the CLI's "stream summary" line of `device`. */
export function summaryMessages(stderr: string, device: string): number {
  const line = stderr.split("\n").find((text) =>
    text.includes("stream summary") && text.includes(`device=${device} `)
  );
  const match = line === undefined ? null : / messages=(\d+)/.exec(line);
  if (match === null) throw new Error(`no stream summary of ${device} in stderr:\n${stderr}`);
  return Number(match[1]);
}
