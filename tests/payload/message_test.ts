import assert from "node:assert/strict";

import type { CountsSnapshot } from "../../src/emit/device_counts.ts";
import type { FrameAnalytics } from "../../src/frame.ts";
import { buildMessage, messageIdFor } from "../../src/payload/message.ts";
import { assertValidMessage } from "../fixtures/message_schema.ts";

function analytics(overrides: Partial<FrameAnalytics> = {}): FrameAnalytics {
  return {
    lineCrossingsCurrent: {},
    lineCrossingsCumulative: {},
    roiCounts: {},
    overcrowding: {},
    objectCounts: {},
    objects: [],
    ...overrides,
  };
}

function snapshot(overrides: Partial<CountsSnapshot> = {}): CountsSnapshot {
  return {
    deviceId: "gate-1",
    streamId: 0,
    frameNumber: 30,
    ptsNs: 2_400_000_000n,
    sequence: 1,
    lineCrossingsCurrent: { Entry: 1, Exit: 0 },
    lineCrossingsCumulative: { Entry: 4, Exit: 2 },
    latest: analytics(),
    ...overrides,
  };
}

Deno.test("buildMessage() writes the custom-analytics layout with line counts", () => {
  const message = buildMessage(snapshot(), { sessionKey: "k", timestampMs: Date.UTC(2026, 11, 4, 1, 2, 3, 45) });
  const body = JSON.parse(message.payload);

  assert.equal(body.deviceId, "gate-1");
  assert.equal(body["@timestamp"], "2026-12-04T01:02:03.045Z");
  assert.equal(body.mdsversion, "1.0");
  assert.equal(body.analyticsModule.lc_curr_Entry, 1);
  assert.equal(body.analyticsModule.lc_cum_Entry, 4);
  assert.equal(body.analyticsModule.lc_curr_Exit, 0);
  assert.equal(body.analyticsModule.lc_cum_Exit, 2);
  assert.deepEqual(body.frame, { streamId: 0, number: 30, ptsMs: 2400 });
  assert.equal(message.deviceId, "gate-1");
  assert.equal(message.messageId, body.messageid);
  assertValidMessage(body);
});

Deno.test("buildMessage() reports ROI, overcrowding, object and direction counts", () => {
  const latest = analytics({
    roiCounts: { Plaza: 3, Crowd: 4 },
    overcrowding: { Crowd: true },
    objectCounts: { "0": 3, "2": 1 },
    objects: [
      { trackId: 1n, classId: 0, meta: true, roi: [], overcrowding: [], lineCrossings: [], direction: " DIR:North ", status: "" },
      { trackId: 2n, classId: 0, meta: true, roi: [], overcrowding: [], lineCrossings: [], direction: " DIR:North  DIR:East ", status: "" },
      { trackId: 3n, classId: 0, meta: false, roi: [], overcrowding: [], lineCrossings: [], direction: "", status: "" },
    ],
  });
  const body = JSON.parse(buildMessage(snapshot({ latest }), { sessionKey: "k", timestampMs: 0 }).payload);

  assert.deepEqual(body.analyticsModule.roi, { Plaza: 3, Crowd: 4 });
  assert.deepEqual(body.analyticsModule.overcrowding, { Crowd: { count: 4, triggered: true } });
  assert.deepEqual(body.analyticsModule.objectCounts, { "0": 3, "2": 1 });
  assert.deepEqual(body.analyticsModule.direction, { North: 2, East: 1 });
  assertValidMessage(body);
});

Deno.test("messageIdFor() is stable for the same frame and differs across frames and inputs", () => {
  const first = messageIdFor(snapshot(), "file:///a.mp4#10#0");

  assert.equal(messageIdFor(snapshot(), "file:///a.mp4#10#0"), first);
  assert.notEqual(messageIdFor(snapshot({ frameNumber: 31 }), "file:///a.mp4#10#0"), first);
  assert.notEqual(messageIdFor(snapshot(), "file:///b.mp4#10#0"), first);
  assert.notEqual(messageIdFor(snapshot({ deviceId: "gate-2" }), "file:///a.mp4#10#0"), first);
  assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

Deno.test("assertValidMessage() rejects a message with a missing or mistyped field", () => {
  const body = JSON.parse(buildMessage(snapshot(), { sessionKey: "k", timestampMs: 0 }).payload);

  assert.throws(() => assertValidMessage({ ...body, deviceId: undefined }), /deviceId/);
  const negative = structuredClone(body);
  negative.analyticsModule.lc_cum_Entry = -1;
  assert.throws(() => assertValidMessage(negative), /lc_cum_Entry/);
});
