import assert from "node:assert/strict";

import type { Frame, FrameObject } from "../../src/frame.ts";
import { Tracker } from "../../src/track/tracker.ts";

function box(left: number, top: number, width = 30, height = 60): FrameObject {
  return { trackId: null, classId: 0, confidence: 1, left, top, width, height };
}

function frame(frameNumber: number, objects: FrameObject[]): Frame {
  return { streamId: 0, frameNumber, ptsNs: 0n, width: 640, height: 360, objects };
}

Deno.test("Tracker keeps one id for an object moving steadily", () => {
  const tracker = new Tracker();
  const ids = new Set<bigint | null>();
  for (let n = 1; n <= 50; n++) {
    const out = tracker.update(frame(n, [box(10 + n * 8, 100)]));
    if (n >= 2) ids.add(out.objects[0].trackId);
  }

  assert.deepEqual([...ids], [1n]);
});

Deno.test("Tracker keeps the id while an object stands still and when it moves on", () => {
  const tracker = new Tracker();
  const ids = new Set<bigint | null>();
  let n = 0;
  for (let x = 0; x < 100; x += 10) ids.add(tracker.update(frame(++n, [box(x, 100)])).objects[0].trackId);
  for (let i = 0; i < 200; i++) ids.add(tracker.update(frame(++n, [box(100, 100)])).objects[0].trackId);
  for (let x = 110; x < 300; x += 10) ids.add(tracker.update(frame(++n, [box(x, 100)])).objects[0].trackId);

  ids.delete(null); // the first frame, before confirmation
  assert.deepEqual([...ids], [1n]);
});

Deno.test("Tracker bridges a short detection gap within maxAgeFrames", () => {
  const tracker = new Tracker({ maxAgeFrames: 5 });
  let n = 0;
  for (let x = 0; x < 50; x += 10) tracker.update(frame(++n, [box(x, 100)]));
  for (let gap = 0; gap < 3; gap++) tracker.update(frame(++n, []));
  const after = tracker.update(frame(++n, [box(80, 100)]));

  assert.equal(after.objects[0].trackId, 1n);
});

Deno.test("Tracker gives a new id after an object was gone longer than maxAgeFrames", () => {
  const tracker = new Tracker({ maxAgeFrames: 2 });
  let n = 0;
  for (let i = 0; i < 5; i++) tracker.update(frame(++n, [box(100, 100)]));
  for (let gap = 0; gap < 4; gap++) tracker.update(frame(++n, []));
  tracker.update(frame(++n, [box(100, 100)]));
  const back = tracker.update(frame(++n, [box(100, 100)]));

  assert.equal(back.objects[0].trackId, 2n);
  assert.equal(tracker.size, 1);
});

Deno.test("Tracker gives no id to a box seen in one frame only", () => {
  const tracker = new Tracker();
  const out = tracker.update(frame(1, [box(300, 200)]));
  tracker.update(frame(2, []));
  const later = tracker.update(frame(3, [box(10, 10)]));

  assert.equal(out.objects[0].trackId, null);
  assert.equal(later.objects[0].trackId, null);
});

Deno.test("Tracker keeps two objects apart when they pass each other", () => {
  const tracker = new Tracker();
  const idsOfLeftStarter = new Set<bigint | null>();
  const idsOfRightStarter = new Set<bigint | null>();
  for (let n = 1; n <= 40; n++) {
    const a = box(50 + n * 10, 100); // moves right
    const b = box(450 - n * 10, 180); // moves left, on another row
    const out = tracker.update(frame(n, [a, b]));
    if (n >= 2) {
      idsOfLeftStarter.add(out.objects[0].trackId);
      idsOfRightStarter.add(out.objects[1].trackId);
    }
  }

  assert.equal(idsOfLeftStarter.size, 1);
  assert.equal(idsOfRightStarter.size, 1);
  assert.notDeepEqual([...idsOfLeftStarter], [...idsOfRightStarter]);
});

Deno.test("Tracker passes boxes that already carry a track id through unchanged", () => {
  const tracker = new Tracker();
  const tracked = { ...box(10, 10), trackId: 42n };
  const out = tracker.update(frame(1, [tracked]));

  assert.equal(out.objects[0].trackId, 42n);
  assert.equal(tracker.size, 0);
});

Deno.test("Tracker rejects invalid options with the option and its value", () => {
  assert.throws(() => new Tracker({ minIou: 0 }), /minIou must be in \(0, 1\], got 0/);
  assert.throws(() => new Tracker({ maxAgeFrames: -1 }), /maxAgeFrames must be an integer >= 0, got -1/);
  assert.throws(() => new Tracker({ minHits: 0 }), /minHits must be an integer >= 1, got 0/);
});
