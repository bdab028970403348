/**
 * `--annotate`: the shim's video writer and frame reader through FFI, the recording, and
 * the CLI end to end on the sample video, checked with ffprobe and decoded pixels.
 */

import assert from "node:assert/strict";

import { parseAnalyticsConfig } from "../../src/analytics/config.ts";
import { Annotator, checkAnnotatePath } from "../../src/annotate/annotate.ts";
import { formatCounts } from "../../src/annotate/draw.ts";
import { AnnotationRecording } from "../../src/annotate/recording.ts";
import { FrameReader, VideoWriter } from "../../src/annotate/video_io.ts";
import { UsageError } from "../../src/errors.ts";
import { RgbaImage } from "../../src/preview/image.ts";
import { REPOSITORY_ROOT, runCli } from "../fixtures/run_cli.ts";

const SAMPLE = `${REPOSITORY_ROOT}/samples/car-detection.mp4`;
const CONFIG = `${REPOSITORY_ROOT}/configs/car-detection.txt`;
const SAMPLE_WIDTH = 768;
const SAMPLE_HEIGHT = 432;
const SAMPLE_FRAMES = 377;

interface VideoStream {
  codec_name: string;
  width: number;
  height: number;
  nb_read_frames: string;
}

/** Returns ffprobe's view of the first video stream, with its frames counted by decoding. */
async function probe(path: string): Promise<VideoStream> {
  const { code, stdout, stderr } = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-count_frames",
      "-show_entries",
      "stream=codec_name,width,height,nb_read_frames",
      "-of",
      "json",
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.deepEqual(code, 0, `ffprobe ${path} failed: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(new TextDecoder().decode(stdout)).streams[0];
}

/** Decodes frame `index` (zero-based) of `path` with ffmpeg into an RGBA image. */
async function extractFrame(path: string, index: number, width: number, height: number) {
  const { code, stdout, stderr } = await new Deno.Command("ffmpeg", {
    args: [
      "-v",
      "error",
      "-i",
      path,
      "-vf",
      `select=eq(n\\,${index})`,
      "-frames:v",
      "1",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgba",
      "-",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.deepEqual(
    code,
    0,
    `ffmpeg frame ${index} of ${path} failed: ${new TextDecoder().decode(stderr)}`,
  );
  return new RgbaImage(width, height, new Uint8Array(stdout));
}

/** Counts the pixels of `image` for which `match(r, g, b)` holds. */
function countPixels(
  image: RgbaImage,
  match: (r: number, g: number, b: number) => boolean,
  rows: Iterable<number> = Array.from({ length: image.height }, (_, y) => y),
): number {
  let count = 0;
  for (const y of rows) {
    for (let x = 0; x < image.width; x++) {
      const [r, g, b] = image.pixel(x, y);
      if (match(r, g, b)) count++;
    }
  }
  return count;
}

// The counting line of configs/car-detection.txt is cyan (the overlay's second rule
// colour, [0, 229, 255]); 4:2:0 chroma blurs it into greyish cyan, still far bluer and
// greener than red.
const isLineColor = (r: number, g: number, b: number) => g - r > 80 && b - r > 80;
// Tracked boxes are pure green [0, 255, 0].
const isBoxColor = (r: number, g: number, b: number) => g - r > 80 && g - b > 80;

Deno.test("VideoWriter writes ten frames that ffprobe and FrameReader count", async () => {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-annotate-" });
  try {
    const path = `${directory}/ten.mp4`;
    const writer = VideoWriter.create(path, { width: 64, height: 48, fpsNumerator: 10 });
    for (let i = 0; i < 10; i++) {
      const frame = RgbaImage.filled(64, 48, [i * 25, 255 - i * 25, 128, 255]);
      writer.push(frame, BigInt(i) * 100_000_000n);
    }
    await writer.close();
    assert.deepEqual(writer.frames, 10);

    const stream = await probe(path);
    assert.deepEqual(stream.codec_name, "h264");
    assert.deepEqual([stream.width, stream.height], [64, 48]);
    assert.deepEqual(stream.nb_read_frames, "10");

    const reader = FrameReader.open(path);
    const times: bigint[] = [];
    try {
      for (let frame = await reader.next(); frame !== null; frame = await reader.next()) {
        assert.deepEqual([frame.image.width, frame.image.height], [64, 48]);
        times.push(frame.ptsNs);
      }
    } finally {
      reader.close();
    }
    assert.deepEqual(times, Array.from({ length: 10 }, (_, i) => BigInt(i) * 100_000_000n));
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("VideoWriter rejects an odd frame size", () => {
  assert.throws(
    () => VideoWriter.create("/tmp/never-written.mp4", { width: 63, height: 48, fpsNumerator: 10 }),
    /frame size 63x48 is invalid: use even sizes/,
  );
});

Deno.test("VideoWriter push rejects a frame of another size", async () => {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-annotate-" });
  try {
    const writer = VideoWriter.create(`${directory}/size.mp4`, {
      width: 64,
      height: 48,
      fpsNumerator: 10,
    });
    assert.throws(
      () => writer.push(RgbaImage.filled(32, 48, [0, 0, 0, 255]), 0n),
      /the frame has 6144 bytes, a 64x48 RGBA frame has 12288/,
    );
    writer.push(RgbaImage.filled(64, 48, [0, 0, 0, 255]), 0n);
    await writer.close();
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("FrameReader reports a missing input", async () => {
  const reader = FrameReader.open("/nonexistent/video.mp4");
  try {
    await assert.rejects(() => reader.next(), /decoding a frame for --annotate failed/);
  } finally {
    reader.close();
  }
});

Deno.test("AnnotationRecording grows and keeps frames", () => {
  const recording = new AnnotationRecording(["Up", "Down"]);
  for (let frame = 1; frame <= 3000; frame++) {
    const boxes = Array.from({ length: 5 }, (_, i) => ({
      left: frame,
      top: i,
      width: 10,
      height: 20,
      trackId: i === 4 ? null : BigInt(i + frame),
    }));
    recording.add(frame, BigInt(frame - 1) * 80_000_000n, 768, 432, boxes, { Up: frame, Down: 1 });
  }

  const frame = recording.frame(2500);
  assert(frame !== undefined);
  assert.deepEqual(frame.objects.length, 5);
  assert.deepEqual(frame.objects[0], { left: 2500, top: 0, width: 10, height: 20, trackId: 2500n });
  assert.deepEqual(frame.objects[4].trackId, null);
  assert.deepEqual(frame.counts, [2500, 1]);
  assert.deepEqual(recording.frame(3001), undefined);
  assert.deepEqual(recording.frameRate(), { numerator: 25, denominator: 2 });
});

Deno.test("formatCounts joins labels and totals", () => {
  assert.deepEqual(formatCounts(["Up", "Down"], [2, 1]), "Up 2  Down 1");
});

Deno.test("Annotator rejects other backends", () => {
  const { config } = parseAnalyticsConfig(
    "[property]\nenable=1\nconfig-width=640\nconfig-height=360\n",
    "x.txt",
  );
  assert.throws(
    () => new Annotator({ config, backend: "deepstream" }),
    (error) =>
      error instanceof UsageError && /needs the cpu backend, not deepstream/.test(error.message),
  );
  assert.throws(
    () => new Annotator({ config, backend: "replay" }),
    (error) => error instanceof UsageError && /not --replay/.test(error.message),
  );
});

Deno.test("checkAnnotatePath rejects a missing folder", async () => {
  await assert.rejects(
    () => checkAnnotatePath("/nonexistent/folder/out.mp4"),
    (error) =>
      error instanceof UsageError &&
      error.message === "--annotate /nonexistent/folder/out.mp4: the folder /nonexistent/folder " +
          "does not exist: create it first",
  );
  await checkAnnotatePath(`${Deno.cwd()}/out.mp4`);
});

Deno.test("cli --annotate draws lines, boxes and counts on every frame", async () => {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-annotate-" });
  try {
    const out = `${directory}/out.mp4`;
    const run = await runCli([
      "--input",
      SAMPLE,
      "--analytics-config",
      CONFIG,
      "--backend",
      "cpu",
      "--annotate",
      out,
    ]);
    assert.deepEqual(run.code, 0, run.stderr);
    assert(
      run.stderr.includes(`annotated video written stream=0 path=${out} frames=${SAMPLE_FRAMES}`),
      run.stderr,
    );

    const stream = await probe(out);
    assert.deepEqual(stream.codec_name, "h264");
    assert.deepEqual([stream.width, stream.height], [SAMPLE_WIDTH, SAMPLE_HEIGHT]);
    assert.deepEqual(stream.nb_read_frames, String(SAMPLE_FRAMES));

    // A frame with an object, as the run's own messages report it.
    const withObject = run.messages.find((message) => {
      const counts =
        (message.analyticsModule as { objectCounts: Record<string, number> }).objectCounts;
      return Object.values(counts).some((count) => count > 0);
    });
    assert(withObject !== undefined, "the run reported no object in any message");
    const frameNumber = (withObject.frame as { number: number }).number;

    const annotated = await extractFrame(out, frameNumber - 1, SAMPLE_WIDTH, SAMPLE_HEIGHT);
    const original = await extractFrame(SAMPLE, frameNumber - 1, SAMPLE_WIDTH, SAMPLE_HEIGHT);

    // The line runs along y=216 from x=8 to x=760: most of that row is the line colour,
    // which the input itself does not contain.
    const lineRows = [215, 216];
    const annotatedLine = countPixels(annotated, isLineColor, lineRows);
    const inputLine = countPixels(original, isLineColor, lineRows);
    assert.ok(
      annotatedLine > 0.8 * 2 * (760 - 8),
      `only ${annotatedLine} line-coloured pixels on rows 215-216 of frame ${frameNumber}`,
    );
    assert.ok(inputLine < 50, `${inputLine} line-coloured pixels on rows 215-216 of the input`);

    // At least one box outline: a 2-pixel frame around a car has hundreds of pixels.
    const annotatedBox = countPixels(annotated, isBoxColor);
    const inputBox = countPixels(original, isBoxColor);
    assert.ok(
      annotatedBox > 300,
      `only ${annotatedBox} box-coloured pixels in frame ${frameNumber}`,
    );
    assert.ok(inputBox < 50, `${inputBox} box-coloured pixels in the input's frame ${frameNumber}`);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
