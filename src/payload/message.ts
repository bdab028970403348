/**
 * The JSON message dskafka publishes: the well-known custom-analytics layout of
 * DeepStream users (`messageid`, `@timestamp`, `deviceId`, `analyticsModule` with
 * `lc_curr_<label>` and `lc_cum_<label>`), extended with ROI counts, overcrowding,
 * per-class object counts and direction counts. `schema/message.schema.json` describes it.
 *
 * The text is built with a fixed key order and integers only, so the same counts always
 * give the same bytes (the C writer of the nvmsgbroker branch produces the same text).
 *
 * @module
 */

import { createHash } from "node:crypto";

import type { CountsSnapshot } from "../emit/device_counts.ts";
import type { OutgoingMessage } from "../sink/sink.ts";

/** Version of the message layout, in `mdsversion` and `analyticsModule.version`. */
export const MESSAGE_VERSION = "1.0";

/** Inputs of {@linkcode buildMessage} besides the counts. */
export interface MessageContext {
  /**
   * Identifies the input and run for `messageid`: the same key and frame give the same
   * id, so a consumer can drop duplicates after a retry or a rerun of the same file.
   */
  sessionKey: string;
  /** Wall-clock time of the message in milliseconds since the epoch. */
  timestampMs: number;
}

/**
 * Builds the outgoing message for one snapshot of a device's counts.
 *
 * @example Build a message
 * ```ts
 * import { buildMessage } from "./message.ts";
 *
 * const message = buildMessage({
 *   deviceId: "gate-1", streamId: 0, frameNumber: 30, ptsNs: 2_400_000_000n, sequence: 1,
 *   lineCrossingsCurrent: { Entry: 1 }, lineCrossingsCumulative: { Entry: 4 },
 *   latest: {
 *     lineCrossingsCurrent: {}, lineCrossingsCumulative: {}, roiCounts: {}, overcrowding: {},
 *     objectCounts: { "0": 2 }, objects: [],
 *   },
 * }, { sessionKey: "file:///videos/gate.mp4", timestampMs: 0 });
 * console.assert(JSON.parse(message.payload).analyticsModule.lc_cum_Entry === 4);
 * ```
 */
export function buildMessage(snapshot: CountsSnapshot, context: MessageContext): OutgoingMessage {
  const messageId = messageIdFor(snapshot, context.sessionKey);
  const latest = snapshot.latest;

  const module: Record<string, unknown> = {
    id: String(snapshot.streamId),
    description: "nvdsanalytics line crossing, ROI, overcrowding and direction counts",
    source: "dskafka",
    version: MESSAGE_VERSION,
  };
  for (const label of Object.keys(snapshot.lineCrossingsCumulative)) {
    module[`lc_curr_${label}`] = Object.hasOwn(snapshot.lineCrossingsCurrent, label)
      ? snapshot.lineCrossingsCurrent[label]
      : 0;
    module[`lc_cum_${label}`] = snapshot.lineCrossingsCumulative[label];
  }
  module.roi = { ...latest.roiCounts };
  module.overcrowding = Object.fromEntries(
    Object.entries(latest.overcrowding).map(([label, triggered]) => [
      label,
      { count: Object.hasOwn(latest.roiCounts, label) ? latest.roiCounts[label] : 0, triggered },
    ]),
  );
  module.objectCounts = { ...latest.objectCounts };
  module.direction = countDirections(latest.objects.map((object) => object.direction));

  const message = {
    messageid: messageId,
    mdsversion: MESSAGE_VERSION,
    "@timestamp": new Date(context.timestampMs).toISOString(),
    deviceId: snapshot.deviceId,
    frame: {
      streamId: snapshot.streamId,
      number: snapshot.frameNumber,
      ptsMs: Number(snapshot.ptsNs / 1_000_000n),
    },
    analyticsModule: module,
  };

  return { deviceId: snapshot.deviceId, messageId, payload: JSON.stringify(message) };
}

/**
 * Derives a UUID-shaped id from the device, the session key and the frame number: the
 * first 16 bytes of a SHA-1, with the version nibble set to 5 and the RFC 4122 variant.
 */
export function messageIdFor(snapshot: CountsSnapshot, sessionKey: string): string {
  const digest = createHash("sha1")
    .update(`${snapshot.deviceId}\n${sessionKey}\n${snapshot.frameNumber}`)
    .digest();
  digest[6] = (digest[6] & 0x0f) | 0x50;
  digest[8] = (digest[8] & 0x3f) | 0x80;

  const hex = digest.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** Counts, per direction label, the objects whose `dirStatus` names it (" DIR:<label> "). */
function countDirections(statuses: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.create(null);
  for (const status of statuses) {
    for (const match of status.matchAll(/DIR:(\S+)/g)) {
      counts[match[1]] = (counts[match[1]] ?? 0) + 1;
    }
  }
  return counts;
}
