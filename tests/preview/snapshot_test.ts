import assert from "node:assert/strict";

import {
  BackendUnavailableError,
  InputNotFoundError,
  InvalidMediaError,
  UnsupportedInputError,
  UsageError,
} from "../../src/errors.ts";
import { grabFrame } from "../../src/preview/snapshot.ts";
import { resolveInput } from "../../src/source/input.ts";
import type { Input } from "../../src/source/input.ts";
import { sharedDataPath } from "../fixtures/shared_data.ts";

const CAR_VIDEO = sharedDataPath("car-detection.mp4");
const PERSON_VIDEO = sharedDataPath("one-by-one-person-detection.mp4");

/**
 * Decodes the first frame with gst-launch-1.0, independently of the shim, and saves it
 * losslessly as PNG (pngenc stops after one frame with snapshot=true).
 */
async function firstFrameAsPng(path: string, png: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("gst-launch-1.0", {
    args: [
      "-q",
      "filesrc",
      `location=${path}`,
      "!",
      "decodebin",
      "!",
      "videoconvert",
      "!",
      "video/x-raw,format=RGBA",
      "!",
      "pngenc",
      "snapshot=true",
      "!",
      "filesink",
      `location=${png}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

/** Mean absolute difference per byte of two equally long pixel buffers. */
function meanDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

Deno.test("grabFrame() at 0 s returns the first frame as gst-launch decodes it", async () => {
  const png = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await firstFrameAsPng(CAR_VIDEO, png);
    const frame = await grabFrame(await resolveInput(CAR_VIDEO));
    const expected = await grabFrame(await resolveInput(png));

    assert.equal(frame.image.width, 768);
    assert.equal(frame.image.height, 432);
    assert.equal(frame.ptsNs, 0n);
    assert.equal(meanDifference(frame.image.data, expected.image.data), 0);
  } finally {
    await Deno.remove(png);
  }
});

Deno.test("grabFrame() seeks to the frame at the requested time", async () => {
  const input = await resolveInput(PERSON_VIDEO);
  const first = await grabFrame(input);
  const later = await grabFrame(input, { atSeconds: 12 });
  const again = await grabFrame(input, { atSeconds: 12 });

  // The video runs at 10 fps, so 12 s is exactly the pts of a frame.
  assert.equal(later.ptsNs, 12_000_000_000n);
  assert.ok(
    meanDifference(first.image.data, later.image.data) > 5,
    "the frame at 12 s equals the first frame",
  );
  assert.deepEqual(again.image.data, later.image.data, "the same time gives a different frame");
});

Deno.test("grabFrame() between two frames takes the one on display", async () => {
  // car-detection.mp4 runs at 12.5 fps: the frame of 10.00 s is shown until 10.08 s.
  const input = await resolveInput(CAR_VIDEO);
  const between = await grabFrame(input, { atSeconds: 10.01 });
  const before = await grabFrame(input, { atSeconds: 10 });
  const after = await grabFrame(input, { atSeconds: 10.08 });

  assert.equal(between.ptsNs, 10_010_000_000n, "the clipped frame starts at the seek position");
  assert.deepEqual(between.image.data, before.image.data);
  assert.notDeepEqual(between.image.data, after.image.data);
});

Deno.test("grabFrame() past the end of a file is a usage error", async () => {
  await assert.rejects(
    grabFrame(await resolveInput(CAR_VIDEO), { atSeconds: 31 }),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /--at 31 .*past the end of the input, which lasts 30\.\d+ s/);
      return true;
    },
  );
});

Deno.test("grabFrame() rejects a negative time", async () => {
  await assert.rejects(grabFrame(await resolveInput(CAR_VIDEO), { atSeconds: -1 }), UsageError);
});

Deno.test("grabFrame() reports a text file as not a video", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mp4" });
  try {
    await Deno.writeTextFile(path, "this is not a video\n".repeat(100));
    await assert.rejects(grabFrame(await resolveInput(path)), InvalidMediaError);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("grabFrame() reports an audio-only file as not a video", async () => {
  const path = await Deno.makeTempFile({ suffix: ".ogg" });
  try {
    const encoded = await new Deno.Command("gst-launch-1.0", {
      args: [
        "-q",
        "audiotestsrc",
        "num-buffers=50",
        "!",
        "audioconvert",
        "!",
        "opusenc",
        "!",
        "oggmux",
        "!",
        "filesink",
        `location=${path}`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(encoded.code, 0, "gst-launch-1.0 could not write the audio file");

    await assert.rejects(grabFrame(await resolveInput(path)), (error: unknown) => {
      assert.ok(error instanceof InvalidMediaError);
      assert.match(error.message, /no video stream/);
      return true;
    });
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("grabFrame() reports a file that disappeared as not found", async () => {
  const input: Input = {
    text: "/nonexistent/clip.mp4",
    uri: "file:///nonexistent/clip.mp4",
    path: "/nonexistent/clip.mp4",
    live: false,
  };

  await assert.rejects(grabFrame(input), InputNotFoundError);
});

Deno.test("grabFrame() reports a scheme without a GStreamer source", async () => {
  const input: Input = { text: "gopher://camera/1", uri: "gopher://camera/1", live: false };

  await assert.rejects(grabFrame(input), (error: unknown) => {
    assert.ok(error instanceof UnsupportedInputError || error instanceof BackendUnavailableError);
    assert.match((error as Error).message, /gopher/);
    return true;
  });
});
