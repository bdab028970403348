import assert from "node:assert/strict";

import { DeviceCounts } from "../../src/emit/device_counts.ts";
import type { CountsSnapshot } from "../../src/emit/device_counts.ts";
import { parseEmitPolicy } from "../../src/emit/policy.ts";
import type { Frame, FrameAnalytics } from "../../src/frame.ts";
import { UsageError } from "../../src/errors.ts";

function frame(frameNumber: number, fps = 10): Frame {
  const ptsNs = BigInt(Math.round(((frameNumber - 1) * 1e9) / fps));
  return { streamId: 0, frameNumber, ptsNs, width: 640, height: 360, objects: [] };
}

let cumulative = 0;
function analytics(crossings: number): FrameAnalytics {
  cumulative += crossings;
  return {
    lineCrossingsCurrent: { Entry: crossings },
    lineCrossingsCumulative: { Entry: cumulative },
    roiCounts: {},
    overcrowding: {},
    objectCounts: {},
    objects: [],
  };
}

Deno.test("DeviceCounts with frames:N emits every N frames and sums lc_curr between messages", () => {
  cumulative = 0;
  const counts = new DeviceCounts("cam", 0, parseEmitPolicy("frames:3"));
  const emitted: CountsSnapshot[] = [];
  for (let n = 1; n <= 7; n++) {
    const snapshot = counts.add(frame(n), analytics(n % 2));
    if (snapshot) emitted.push(snapshot);
  }
  const last = counts.finish();

  assert.deepEqual(emitted.map((s) => s.frameNumber), [3, 6]);
  assert.deepEqual(emitted.map((s) => s.lineCrossingsCurrent.Entry), [2, 1]);
  assert.ok(last !== null);
  assert.equal(last.frameNumber, 7);
  assert.equal(last.lineCrossingsCurrent.Entry, 1);
  assert.equal(last.lineCrossingsCumulative.Entry, 4);
  assert.equal(2 + 1 + 1, last.lineCrossingsCumulative.Entry);
  assert.deepEqual([...emitted, last].map((s) => s.sequence), [1, 2, 3]);
});

Deno.test("DeviceCounts.finish() returns null when the last frame was already emitted", () => {
  cumulative = 0;
  const counts = new DeviceCounts("cam", 0, parseEmitPolicy("frames:2"));
  counts.add(frame(1), analytics(0));
  assert.ok(counts.add(frame(2), analytics(1)) !== null);

  assert.equal(counts.finish(), null);
});

Deno.test("DeviceCounts with interval:T emits by stream time", () => {
  cumulative = 0;
  const counts = new DeviceCounts("cam", 0, parseEmitPolicy("interval:500"));
  const emittedFrames: number[] = [];
  for (let n = 1; n <= 12; n++) {
    if (counts.add(frame(n, 10), analytics(0))) emittedFrames.push(n);
  }

  assert.deepEqual(emittedFrames, [1, 6, 11]);
});

Deno.test("DeviceCounts with change emits only when a count changes", () => {
  cumulative = 0;
  const counts = new DeviceCounts("cam", 0, parseEmitPolicy("change"));
  const emittedFrames: number[] = [];
  const crossings = [0, 0, 1, 0, 0, 2, 0];
  crossings.forEach((value, index) => {
    if (counts.add(frame(index + 1), analytics(value))) emittedFrames.push(index + 1);
  });

  assert.deepEqual(emittedFrames, [1, 3, 6]);
});

Deno.test("parseEmitPolicy() rejects malformed policies with the accepted forms", () => {
  for (const text of ["frames:0", "frames:", "interval:-5", "every:3", "frames:1.5", ""]) {
    assert.throws(() => parseEmitPolicy(text), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, new RegExp(`--emit "${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" is invalid`));
      assert.match(error.message, /frames:N/);
      return true;
    });
  }
});
