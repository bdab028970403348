import assert from "node:assert/strict";
import {
  frameTimestampNs,
  parseKittiFrame,
  parseMotTracks,
  readKittiTracks,
  readMotTracks,
  TracksFileError,
} from "../../src/source/tracks.ts";
import { ExitCode, InputNotFoundError } from "../../src/errors.ts";
import type { Frame } from "../../src/frame.ts";

const OPTIONS = { fps: 30, width: 1920, height: 1080 };

async function collect(frames: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const frame of frames) out.push(frame);
  return out;
}

function motError(text: string): TracksFileError {
  try {
    [...parseMotTracks(text, "t.txt", OPTIONS)];
  } catch (error) {
    assert.ok(error instanceof TracksFileError, String(error));
    assert.equal(error.exitCode, ExitCode.InvalidMedia);
    assert.equal(error.path, "t.txt");
    return error;
  }
  assert.fail("accepted");
}

// --- MOT Challenge ----------------------------------------------------------------------

Deno.test("parseMotTracks() yields every frame, empty ones included, objects in file order", () => {
  const text = "1,3,10,20,30,40,1,0,1\n1,1,11.5,21.25,31,41,0.5,2,0.3\n3,1,12,22,32,42,1,2,1\n";
  const frames = [...parseMotTracks(text, "t.txt", { ...OPTIONS, streamId: 2 })];
  assert.equal(frames.length, 3);
  assert.deepEqual(frames.map((f) => f.objects.length), [2, 0, 1]);
  assert.deepEqual(frames[0], {
    streamId: 2,
    frameNumber: 1,
    ptsNs: 0n,
    width: 1920,
    height: 1080,
    objects: [
      { trackId: 3n, classId: 0, confidence: 1, left: 10, top: 20, width: 30, height: 40 },
      { trackId: 1n, classId: 2, confidence: 0.5, left: 11.5, top: 21.25, width: 31, height: 41 },
    ],
  });
  assert.equal(frames[2].ptsNs, 66666666n);
});

Deno.test("parseMotTracks() groups unsorted rows by frame and pads to frameCount", () => {
  const text = "2,5,1,1,1,1,1,0,1\n1,5,0,0,1,1,1,0,1\n2,4,2,2,1,1,1,0,1\n9,4,2,2,1,1,1,0,1";
  const frames = [...parseMotTracks(text, "t.txt", { ...OPTIONS, frameCount: 4 })];
  assert.equal(frames.length, 4);
  assert.deepEqual(frames[1].objects.map((o) => o.trackId), [5n, 4n]);
  assert.deepEqual(frames[3].objects, []);
});

Deno.test("parseMotTracks() keeps 64-bit ids exact and reads -1 as no track", () => {
  const text = "1,18446744073709551614,0,0,1,1,1,0,1\n1,4294967297,0,0,1,1\n1,-1,0,0,1,1\n" +
    "1,18446744073709551615,0,0,1,1\n";
  const [frame] = [...parseMotTracks(text, "t.txt", OPTIONS)];
  assert.deepEqual(frame.objects.map((o) => o.trackId), [
    18446744073709551614n,
    4294967297n,
    null,
    null,
  ]);
  // Six columns: no confidence and no class.
  assert.equal(frame.objects[1].classId, 0);
  assert.equal(frame.objects[1].confidence, 1);
});

Deno.test("parseMotTracks() reads numbers exactly, with spaces and CRLF", () => {
  const text = "1, 7, 0.1, -3.75, 1e2, 123456.789012345,1,0,1\r\n\r\n";
  const [frame] = [...parseMotTracks(text, "t.txt", OPTIONS)];
  assert.deepEqual(frame.objects[0], {
    trackId: 7n,
    classId: 0,
    confidence: 1,
    left: 0.1,
    top: -3.75,
    width: 100,
    height: 123456.789012345,
  });
});

Deno.test("parseMotTracks() rejects malformed rows with file and line", () => {
  let error = motError("1,1,0,0,1,1,1,0,1\n1,2,0,abc,1,1,1,0,1\n");
  assert.equal(error.line, 2);
  assert.match(
    error.message,
    /^t\.txt:2: top \(column 4\) is "abc", not a number; rows are frame,id,left,top,width,height,conf,class,visibility$/,
  );
  error = motError("1,2,0,0\n");
  assert.match(error.message, /^t\.txt:1: has 4 columns; MOT Challenge rows are/);
  error = motError("0,2,0,0,1,1\n");
  assert.match(error.message, /frame "0" is not a frame number; MOT frames start at 1/);
  error = motError("1,x7,0,0,1,1\n");
  assert.match(error.message, /id "x7" is not a track id/);
  error = motError("1,2,0,0,1,1,1,1.5,1\n");
  assert.match(error.message, /class "1.5" is not an integer class id/);
  error = motError("1,2,0,,1,1\n");
  assert.match(error.message, /top \(column 4\) is "", not a number/);
});

Deno.test("readMotTracks() reports a missing file as InputNotFoundError", async () => {
  await assert.rejects(
    () => collect(readMotTracks("/nonexistent/gt.txt", OPTIONS)),
    (error: unknown) => {
      assert.ok(error instanceof InputNotFoundError);
      assert.equal(error.input, "/nonexistent/gt.txt");
      assert.match(error.message, /tracks file not found/);
      return true;
    },
  );
});

Deno.test("frameTimestampNs() is floor((n - 1) * 1e9 / fps)", () => {
  assert.equal(frameTimestampNs(1, 30), 0n);
  assert.equal(frameTimestampNs(2, 30), 33333333n);
  assert.equal(frameTimestampNs(8, 7), 1000000000n);
  assert.equal(frameTimestampNs(4, 29.97), 100100100n);
});

// --- KITTI tracker dump -----------------------------------------------------------------

async function withDump(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const kittiLine = (
  label: string,
  id: string,
  l: number,
  t: number,
  r: number,
  b: number,
  conf = 0.9,
) =>
  `${label} ${id} 0.0 0 0.0 ${l.toFixed(6)} ${t.toFixed(6)} ${r.toFixed(6)} ${
    b.toFixed(6)
  } 0.0 0.0 0.0 -1.000000 -1.000000 0.0 0.0 ${conf.toFixed(6)}\n`;

Deno.test("readKittiTracks() reads a deepstream-app tracker dump, one file per frame from 0", async () => {
  await withDump({
    "00_000_000000.txt": kittiLine("Person", "3", 100, 200, 150, 320) +
      kittiLine("Car", "18446744073709551615", 0.1, 5, 50.099998, 30),
    "00_000_000001.txt": "",
    "00_000_000003.txt": kittiLine("Person", "3", 104, 200, 154, 320),
    "notes.md": "not a dump file",
  }, async (dir) => {
    const frames = await collect(
      readKittiTracks(dir, { ...OPTIONS, labels: ["Car", "Bicycle", "Person"] }),
    );
    assert.deepEqual(frames.map((f) => f.frameNumber), [1, 2, 3, 4]);
    assert.deepEqual(frames.map((f) => f.objects.length), [2, 0, 0, 1]);
    assert.equal(frames[3].ptsNs, 100000000n);
    assert.deepEqual(frames[0].objects[0], {
      trackId: 3n,
      classId: 2,
      confidence: 0.9,
      left: 100,
      top: 200,
      width: 50,
      height: 120,
    });
    // An untracked object, and the width rounded back from float: 50.099998 - 0.1.
    assert.equal(frames[0].objects[1].trackId, null);
    assert.equal(frames[0].objects[1].classId, 0);
    assert.equal(frames[0].objects[1].width, 50);
  });
});

Deno.test("parseKittiFrame() reads labels with spaces, the extra tracker columns and the detector dump", () => {
  const classOf = (label: string) =>
    ({ "traffic light": 9, person: 0 } as Record<string, number>)[label];
  const tracker =
    "traffic light 12 0.0 0 0.0 10.000000 20.000000 30.000000 60.000000 0.0 0.0 0.0 1.5 2.5 0.0 0.0 0.750000 0.800000 20.000000 60.000000 1|2|3|4\n";
  const detector =
    "person 0.0 0 0.0 1.000000 2.000000 11.000000 22.000000 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.500000\n";
  const objects = parseKittiFrame(tracker + detector, "f.txt", classOf);
  assert.deepEqual(objects, [
    { trackId: 12n, classId: 9, confidence: 0.75, left: 10, top: 20, width: 20, height: 40 },
    { trackId: null, classId: 0, confidence: 0.5, left: 1, top: 2, width: 10, height: 20 },
  ]);
});

Deno.test("readKittiTracks() rejects bad dumps with the file and line", async () => {
  await withDump({
    "00_000_000000.txt": kittiLine("Person", "1", 0, 0, 1, 1) + "Person 1 0.0 0 oops\n",
  }, async (dir) => {
    await assert.rejects(
      () => collect(readKittiTracks(dir, { ...OPTIONS, labels: ["Person"] })),
      (error: unknown) => {
        assert.ok(error instanceof TracksFileError);
        assert.equal(error.line, 2);
        assert.equal(error.path, `${dir}/00_000_000000.txt`);
        assert.match(error.message, /:2: is not a KITTI tracker line/);
        return true;
      },
    );
  });
  await withDump({ "00_000_000000.txt": kittiLine("Person", "1", 0, 0, 1, 1) }, async (dir) => {
    await assert.rejects(
      () => collect(readKittiTracks(dir, OPTIONS)),
      /label "Person" has no class id; pass the detector's labels in class-id order/,
    );
  });
  await withDump({ "00_000_000000.txt": "", "00_001_000000.txt": "" }, async (dir) => {
    await assert.rejects(
      () => collect(readKittiTracks(dir, OPTIONS)),
      /holds streams 0, 1; choose one/,
    );
    const frames = await collect(readKittiTracks(dir, { ...OPTIONS, dumpStreamId: 1 }));
    assert.equal(frames.length, 1);
  });
  await withDump({ "readme.txt": "" }, async (dir) => {
    await assert.rejects(() => collect(readKittiTracks(dir, OPTIONS)), /no KITTI dump files/);
  });
  await assert.rejects(
    () => collect(readKittiTracks("/nonexistent/kitti", OPTIONS)),
    (error: unknown) => error instanceof InputNotFoundError,
  );
});
