import assert from "node:assert/strict";

import { EventCode } from "../../ffi/constants.ts";
import { openShim } from "../../ffi/library.ts";
import { ShimPipeline } from "../../ffi/pipeline.ts";
import { SYMBOLS } from "../../ffi/symbols.ts";
import type { ShimRecord } from "../../ffi/records.ts";
import { ShimLoadError } from "../../src/errors.ts";
import { sharedDataPath } from "../fixtures/shared_data.ts";

const CAR_VIDEO = sharedDataPath("car-detection.mp4");
const CAR_VIDEO_FRAMES = 377;

async function collect(pipeline: ShimPipeline): Promise<ShimRecord[]> {
  const records: ShimRecord[] = [];
  try {
    for await (const batch of pipeline) records.push(...batch);
  } finally {
    await pipeline.close();
  }
  return records;
}

const frames = (records: ShimRecord[]) => records.flatMap((r) => (r.type === "frame" ? [r.frame] : []));
const events = (records: ShimRecord[]) => records.flatMap((r) => (r.type === "event" ? [r.event] : []));

Deno.test("ShimPipeline yields every frame of a real video in order, then the end", async () => {
  const records = await collect(ShimPipeline.start({ sources: [CAR_VIDEO] }));
  const decoded = frames(records);

  assert.equal(decoded.length, CAR_VIDEO_FRAMES);
  assert.deepEqual(decoded.map((f) => f.frameNumber), Array.from({ length: CAR_VIDEO_FRAMES }, (_, i) => i + 1));
  assert.equal(decoded[0].width, 768);
  assert.equal(decoded[0].height, 432);
  assert.equal(decoded[0].ptsNs, 0n);
  assert.equal(decoded[1].ptsNs, 80_000_000n); // 12.5 fps
  assert.ok(decoded.every((f) => f.objects.every((o) => o.trackId === null)));
  assert.deepEqual(events(records).map((e) => e.kind), [1, 2, 5]); // started, end of stream, pipeline end
  assert.equal(events(records)[0].text, "768x432@12.500");
});

Deno.test("ShimPipeline reads two inputs as two streams", async () => {
  const records = await collect(ShimPipeline.start({ sources: [CAR_VIDEO, CAR_VIDEO] }));
  const decoded = frames(records);

  assert.equal(decoded.filter((f) => f.streamId === 0).length, CAR_VIDEO_FRAMES);
  assert.equal(decoded.filter((f) => f.streamId === 1).length, CAR_VIDEO_FRAMES);
});

Deno.test("ShimPipeline scales frames to the processing size", async () => {
  const records = await collect(ShimPipeline.start({ sources: [CAR_VIDEO], processingSize: { width: 384, height: 216 } }));
  const first = frames(records)[0];

  assert.equal(first.width, 384);
  assert.equal(first.height, 216);
});

Deno.test("ShimPipeline reports a missing file as a not-found error event", async () => {
  const records = await collect(ShimPipeline.start({ sources: ["/nonexistent/clip.mp4"] }));
  const error = events(records).find((e) => e.kind === 3);

  assert.equal(frames(records).length, 0);
  assert.ok(error);
  assert.equal(error.code, EventCode.notFound);
  assert.equal(error.streamId, 0);
});

Deno.test("ShimPipeline stop() ends the iteration early without losing queued frames", async () => {
  const pipeline = ShimPipeline.start({ sources: [CAR_VIDEO], ringBytes: 4096, maxObjects: 1 });
  let seen = 0;
  for await (const batch of pipeline) {
    seen += batch.filter((r) => r.type === "frame").length;
    if (seen >= 10) pipeline.stop();
  }
  const stats = pipeline.stats();
  await pipeline.close();

  assert.ok(seen >= 10 && seen < CAR_VIDEO_FRAMES, `frames seen: ${seen}`);
  assert.equal(stats.framesDelivered, seen);
});

Deno.test("ShimPipeline.start() rejects an invalid option with the shim's message", () => {
  assert.throws(
    () => ShimPipeline.start({ sources: [CAR_VIDEO], processingSize: { width: 641, height: 360 } }),
    /processing size 641x360 is invalid/,
  );
});

Deno.test("openShim() names the path and the fix when the library is missing", () => {
  assert.throws(() => openShim("/nonexistent/libdskafka.so"), (error: unknown) => {
    assert.ok(error instanceof ShimLoadError);
    assert.equal(error.libraryPath, "/nonexistent/libdskafka.so");
    assert.match(error.message, /could not load the dskafka shim from \/nonexistent\/libdskafka\.so/);
    assert.match(error.message, /deno task build:shim/);
    return true;
  });
});

Deno.test("openShim() rejects a library with another ABI major version", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const source = `${directory}/fake.c`;
    const library = `${directory}/libfake.so`;
    // Every symbol must exist for Deno.dlopen; only the versions matter here.
    const stubs = Object.keys(SYMBOLS)
      .filter((name) => name !== "dsx_version" && name !== "dsx_record_version")
      .map((name) => `long ${name}(void) { return 0; }`);
    await Deno.writeTextFile(
      source,
      [
        "unsigned dsx_version(void) { return 2u << 16; }",
        "unsigned dsx_record_version(void) { return 1; }",
        ...stubs,
      ].join("\n"),
    );
    const compiled = await new Deno.Command("cc", { args: ["-shared", "-fPIC", "-o", library, source] }).output();
    assert.equal(compiled.code, 0, new TextDecoder().decode(compiled.stderr));

    assert.throws(() => openShim(library), (error: unknown) => {
      assert.ok(error instanceof ShimLoadError);
      assert.match(error.message, /has ABI version 2\.0\.0, but this dskafka needs 1\.x/);
      return true;
    });
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
