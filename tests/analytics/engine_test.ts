import assert from "node:assert/strict";
import { AnalyticsEngine } from "../../src/analytics/engine.ts";
import { parseAnalyticsConfig } from "../../src/analytics/config.ts";
import type { Frame, FrameObject } from "../../src/frame.ts";

const CONFIG = `[property]
enable=1
config-width=1920
config-height=1080

[line-crossing-stream-0]
enable=1
line-crossing-Cross=900;540;1020;540;960;100;960;1000
mode=balanced
extended=0

[roi-filtering-stream-0]
enable=1
roi-All=0;0;1920;0;1920;1080;0;1080

[line-crossing-stream-1]
enable=1
line-crossing-Other=100;540;300;540;200;100;200;1000
`;

function frame(n: number, objects: FrameObject[], streamId = 0): Frame {
  return {
    streamId,
    frameNumber: n,
    ptsNs: BigInt(Math.floor(((n - 1) * 1e9) / 30)),
    width: 1920,
    height: 1080,
    objects,
  };
}

/** An object walking right at 10 px per frame, crossing x = 960 around frame 50. */
function walker(n: number, trackId: bigint | null): FrameObject {
  return {
    trackId,
    classId: 0,
    confidence: 1,
    left: 440 + 10 * n,
    top: 400,
    width: 60,
    height: 150,
  };
}

function run(
  engine: AnalyticsEngine,
  objects: (n: number) => FrameObject[],
  frames = 120,
  streamId = 0,
) {
  let crossings = 0;
  let last;
  for (let n = 1; n <= frames; n++) {
    last = engine.process(frame(n, objects(n), streamId));
    crossings += Object.values(last.lineCrossingsCurrent).reduce((a, b) => a + b, 0);
  }
  return { crossings, last: last! };
}

Deno.test("AnalyticsEngine counts a tracked object crossing once", () => {
  const { config } = parseAnalyticsConfig(CONFIG, "cfg.txt");
  const engine = new AnalyticsEngine(config, { streamId: 0, frameWidth: 1920, frameHeight: 1080 });
  const { crossings, last } = run(engine, (n) => [walker(n, 7n)]);
  assert.equal(crossings, 1);
  assert.deepEqual(last.lineCrossingsCumulative, { Cross: 1 });
  assert.equal(engine.trackedObjects, 1);
});

Deno.test("AnalyticsEngine never counts an object without a track id as a crossing", () => {
  const { config } = parseAnalyticsConfig(CONFIG, "cfg.txt");
  const engine = new AnalyticsEngine(config, { streamId: 0, frameWidth: 1920, frameHeight: 1080 });
  const { crossings, last } = run(engine, (n) => [walker(n, null), walker(n, null)]);
  assert.equal(crossings, 0);
  // They still count in ROIs and in the per-class count, and leave no state behind.
  assert.deepEqual(last.roiCounts, { All: 2 });
  assert.deepEqual(last.objectCounts, { "0": 2 });
  assert.deepEqual(last.objects[0].roi, ["All"]);
  assert.equal(last.objects[0].trackId, null);
  assert.equal(engine.trackedObjects, 0);
});

Deno.test("AnalyticsEngine uses the groups of its own stream", () => {
  const { config } = parseAnalyticsConfig(CONFIG, "cfg.txt");
  const engine = new AnalyticsEngine(config, { streamId: 1, frameWidth: 1920, frameHeight: 1080 });
  const result = engine.process(frame(1, [walker(1, 1n)], 1));
  assert.deepEqual(result.lineCrossingsCumulative, { Other: 0 });
  assert.deepEqual(result.roiCounts, {});
  assert.equal(result.objects[0].meta, false);
});

Deno.test("AnalyticsEngine scales config geometry to the frame size", () => {
  // The line x=960 of a 1920-wide config is x=480 in a 960-wide frame.
  const { config } = parseAnalyticsConfig(CONFIG, "cfg.txt");
  const engine = new AnalyticsEngine(config, { streamId: 0, frameWidth: 960, frameHeight: 540 });
  const half = (
    n: number,
  ): FrameObject[] => [{ ...walker(n, 3n), left: 220 + 5 * n, top: 200, height: 75, width: 30 }];
  const { crossings } = run(engine, half);
  assert.equal(crossings, 1);
});

Deno.test("AnalyticsEngine passes frames through when [property] enable=0", () => {
  const { config } = parseAnalyticsConfig(CONFIG.replace("enable=1", "enable=0"), "cfg.txt");
  const engine = new AnalyticsEngine(config, { streamId: 0, frameWidth: 1920, frameHeight: 1080 });
  const { crossings, last } = run(engine, (n) => [walker(n, 7n)]);
  assert.equal(crossings, 0);
  assert.deepEqual(last.objectCounts, {});
  assert.deepEqual(last.lineCrossingsCumulative, {});
  assert.equal(last.objects[0].meta, false);
  assert.equal(last.objects[0].status, "");
});

Deno.test("AnalyticsEngine forgets an object unseen for more than 8 s, so it can count again", () => {
  const { config } = parseAnalyticsConfig(CONFIG, "cfg.txt");
  const engine = new AnalyticsEngine(config, { streamId: 0, frameWidth: 1920, frameHeight: 1080 });
  // Cross at about frame 50, last seen at frame 100, back at frame 341: 8.033 s later.
  const objects = (n: number) => n <= 100 ? [walker(n, 9n)] : n <= 340 ? [] : [walker(n - 340, 9n)];
  const { crossings } = run(engine, objects, 460);
  assert.equal(crossings, 2);
});

Deno.test("AnalyticsEngine keeps an object unseen for 8 s or less: it counts once", () => {
  const { config } = parseAnalyticsConfig(CONFIG, "cfg.txt");
  const engine = new AnalyticsEngine(config, { streamId: 0, frameWidth: 1920, frameHeight: 1080 });
  // Last seen at frame 100, back at frame 340: exactly 8.000 s later.
  const objects = (n: number) => n <= 100 ? [walker(n, 9n)] : n <= 339 ? [] : [walker(n - 339, 9n)];
  const { crossings } = run(engine, objects, 460);
  assert.equal(crossings, 1);
});
