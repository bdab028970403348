/**
 * Bad input, case by case: broken and wrong media, unreachable and missing remote
 * inputs, malformed analytics configs, Kafka that is unreachable, missing or refuses the
 * credentials, unusable spool directories and invalid option values. Each case ends with
 * its own exit code and one `dskafka: ` line on stderr that names the value, and prints
 * no stack trace. Paths and URLs that contain pipeline syntax (`!`, quotes, spaces,
 * `name=value`) are only data: copies of a real video under such names decode with the
 * video's exact frame count.
 *
 * tests/cli/bad_input_test.ts has the basic cases (missing file, empty file, text file,
 * unknown option, ...); this table adds to them.
 */
import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { Spool } from "../../src/sink/spool.ts";
import { generateVideo, SCENARIOS } from "../fixtures/generate_video.ts";
import { runCli } from "../fixtures/run_cli.ts";
import { BROKER, closedPort, freshTopic, requireBroker } from "../kafka/_broker.ts";
import { PrivateBroker } from "./_private_broker.ts";

// NOTE: with DSKAFKA_TEST_SANITIZED=1 the CLI runs with libasan preloaded, and GIO's
// libproxy resolver then aborts in ASan's __cxa_throw interceptor when an http:// or
// rtsp:// input opens. Loopback URLs need no proxy, so the CLI children get GIO's
// dummy resolver.
Deno.env.set("GIO_USE_PROXY_RESOLVER", "dummy");

const SASL_USER = "camera";
const SASL_PASSWORD = "camera-Secret-42";
const WRONG_PASSWORD_ENV = "DSKAFKA_TEST_WRONG_SASL_PASSWORD";
Deno.env.set(WRONG_PASSWORD_ENV, "not-the-password");

const scratch = await Deno.makeTempDir({ prefix: "dskafka-bad-input-table-" });
const video = await generateVideo(SCENARIOS.with_audio, `${scratch}/video`);
const CONFIG = video.analyticsConfigPath;
const FRAMES = video.groundTruth.frames;
const videoBytes = await Deno.readFile(video.videoPath);

// ---------------------------------------------------------------------------------------
// Media files

async function gstLaunch(args: string[]): Promise<void> {
  const output = await new Deno.Command("gst-launch-1.0", { args: ["-q", ...args] }).output();
  if (output.code !== 0) {
    throw new Error(
      `gst-launch-1.0 ${args.join(" ")} failed:\n${new TextDecoder().decode(output.stderr)}`,
    );
  }
}

async function writeBytes(name: string, bytes: Uint8Array): Promise<string> {
  const path = `${scratch}/${name}`;
  await Deno.writeFile(path, bytes);
  return path;
}

// Returns a copy of the video with `count` bytes from `offset` on replaced by noise.
function damaged(offset: number, count: number): Uint8Array {
  const copy = videoBytes.slice();
  let state = 12345;
  for (let i = offset; i < Math.min(copy.length, offset + count); i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    copy[i] = state >>> 24;
  }
  return copy;
}

function atomOffset(name: string): number {
  const text = new TextDecoder("latin1").decode(videoBytes);
  const offset = text.indexOf(name);
  if (offset < 0) throw new Error(`the generated MP4 has no ${name} atom`);
  return offset;
}

const halfVideo = await writeBytes("half.mp4", videoBytes.subarray(0, videoBytes.length / 2));
const badHeader = await writeBytes("bad-header.mp4", damaged(atomOffset("moov") + 8, 256));
const badFrames = await writeBytes("bad-frames.mp4", damaged(atomOffset("mdat") + 2_000, 30_000));
const noise = await writeBytes("noise.mp4", damaged(0, videoBytes.length));

const png = `${scratch}/image.png`;
await gstLaunch([
  "videotestsrc",
  "num-buffers=1",
  "!",
  "pngenc",
  "!",
  "filesink",
  `location=${png}`,
]);
const jpeg = `${scratch}/image.jpg`;
await gstLaunch([
  "videotestsrc",
  "num-buffers=1",
  "!",
  "jpegenc",
  "!",
  "filesink",
  `location=${jpeg}`,
]);
const pngNamedMp4 = await writeBytes("image-named.mp4", await Deno.readFile(png));
const opus = `${scratch}/audio.ogg`;
await gstLaunch([
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
  `location=${opus}`,
]);
const wav = `${scratch}/audio.wav`;
await gstLaunch([
  "audiotestsrc",
  "num-buffers=50",
  "!",
  "wavenc",
  "!",
  "filesink",
  `location=${wav}`,
]);

// Copies of the video under names that look like pipeline syntax.
const specialNames = [
  "clip ! fakesink.mp4",
  `clip "double" 'single'.mp4`,
  "clip with  spaces.mp4",
  "location=other.mp4 uri=x.mp4",
];
for (const name of specialNames) await Deno.copyFile(video.videoPath, `${scratch}/${name}`);
const specialUri = new URL(`file://${scratch}/clip ! fakesink.mp4`).href;

// ---------------------------------------------------------------------------------------
// Configs

const PROPERTY = "[property]\nenable=1\nconfig-width=640\nconfig-height=360\n\n";

async function writeConfig(name: string, text: string): Promise<string> {
  const path = `${scratch}/${name}`;
  await Deno.writeTextFile(path, text);
  return path;
}

const oddRoi = await writeConfig(
  "odd-roi.txt",
  `${PROPERTY}[roi-filtering-stream-0]\nenable=1\nroi-Gate=10;10;100;10;100\n`,
);
const sevenValues = await writeConfig(
  "seven-values.txt",
  `${PROPERTY}[line-crossing-stream-0]\nenable=1\nline-crossing-Down=320;150;320;210;40;180;600\n`,
);
const notNumeric = await writeConfig(
  "not-numeric.txt",
  `${PROPERTY}[line-crossing-stream-0]\nenable=1\nline-crossing-Down=320;150;320;abc;40;180;600;180\n`,
);
const streamSuffix = await writeConfig(
  "stream-suffix.txt",
  `${PROPERTY}[line-crossing-stream-one]\nenable=1\nline-crossing-Down=320;150;320;210;40;180;600;180\n`,
);
const parallelArrow = await writeConfig(
  "parallel-arrow.txt",
  `${PROPERTY}[line-crossing-stream-0]\nenable=1\nline-crossing-Down=40;180;600;180;40;180;600;180\n`,
);
const noPropertyGroup = await writeConfig("no-property.txt", "enable=1\n");
const binaryConfig = await writeBytes("binary-config.txt", new Uint8Array([0xff, 0xfe, 0, 0x80]));

// ---------------------------------------------------------------------------------------
// Servers: HTTP on 127.0.0.1, a Kafka broker with SASL, a spool of another topic

const HTTP_VIDEO_PATH = "/clips/a!b name=value.mp4";
const http = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path === "/page.mp4") {
      return new Response("<html><body>not a video</body></html>\n".repeat(50), {
        headers: { "content-type": "text/html" },
      });
    }
    if (path === HTTP_VIDEO_PATH) return serveBytes(request, videoBytes);
    return new Response("not found\n", { status: 404 });
  },
);
const httpBase = `http://127.0.0.1:${http.addr.port}`;

// Serves `bytes` with byte-range support, which qtdemux needs to seek in an MP4.
function serveBytes(request: Request, bytes: Uint8Array<ArrayBuffer>): Response {
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("range") ?? "");
  const headers = { "content-type": "video/mp4", "accept-ranges": "bytes" };
  if (range === null) return new Response(bytes, { headers });

  const start = Number(range[1]);
  const end = range[2] === "" ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
  return new Response(bytes.subarray(start, end + 1), {
    status: 206,
    headers: { ...headers, "content-range": `bytes ${start}-${end}/${bytes.length}` },
  });
}

let saslPort = 0;
const saslBroker = await PrivateBroker.start(({ port, controllerPort }) => {
  saslPort = closedPort();
  return {
    DSKAFKA_KAFKA_EXTRA_PROPERTIES: [
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort},` +
      `SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT," +
      "SASL_PLAINTEXT:SASL_PLAINTEXT",
      "sasl.enabled.mechanisms=PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config=" +
      "org.apache.kafka.common.security.plain.PlainLoginModule required " +
      `user_${SASL_USER}="${SASL_PASSWORD}";`,
    ].join("\n"),
  };
});

const otherTopicSpool = `${scratch}/spool-of-other-topic`;
await (await Spool.open({ directory: otherTopicSpool, topic: "other-topic" })).close();
const plainFile = await writeBytes("plain-file", new TextEncoder().encode("a file\n"));

// ---------------------------------------------------------------------------------------
// The table

interface Case {
  name: string;
  args: string[];
  exitCode: number;
  /** Matches the one `dskafka: ` line of a failure, or stderr of a success. */
  message: RegExp;
  /** Runs that succeed: the exact number of frames decoded. */
  frames?: number;
  /** Needs the shared test broker. */
  broker?: boolean;
}

const input = (path: string, config = CONFIG) => ["--input", path, "--analytics-config", config];
const unreachable = () => ["--kafka", `127.0.0.1:${closedPort()}`, "--topic", "t"];
const SPOOL_DIR = `${scratch}/spool`;

const CASES: Case[] = [
  // Media
  {
    name: "video cut at half its size",
    args: input(halfVideo),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*half\.mp4" (could not be decoded|is not a video) \(.+\)/,
  },
  {
    name: "video with a corrupt header",
    args: input(badHeader),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*bad-header\.mp4" (could not be decoded|is not a video) \(.+\)/,
  },
  {
    name: "file of random bytes",
    args: input(noise),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*noise\.mp4" is not a video \(.+\): give a file or stream with a video track/,
  },
  {
    name: "PNG image",
    args: input(png),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*image\.png" is not a video \(the input is a still image, not a video\)/,
  },
  {
    name: "JPEG image",
    args: input(jpeg),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*image\.jpg" is not a video \(the input is a still image, not a video\)/,
  },
  {
    name: "PNG image named .mp4",
    args: input(pngNamedMp4),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*image-named\.mp4" is not a video \(the input is a still image/,
  },
  {
    name: "audio-only Ogg Opus file",
    args: input(opus),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*audio\.ogg" is not a video \(the input has no video stream\)/,
  },
  {
    name: "audio-only WAV file",
    args: input(wav),
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*audio\.wav" is not a video \(the input has no video stream\)/,
  },
  {
    // NOTE: GStreamer's parser and decoder skip the frames they cannot read without an
    // error or a warning, so such a run succeeds with fewer frames than the file has.
    name: "video with corrupt frame data",
    args: input(badFrames),
    exitCode: ExitCode.Ok,
    message: /stream summary stream=0 device=bad-frames state=ended frames=\d+ /,
  },

  // URIs
  {
    name: "URI with an unknown scheme",
    args: input("s3://bucket/gate.mp4"),
    exitCode: ExitCode.UnsupportedInput,
    message: /input "s3:\/\/bucket\/gate\.mp4" has the unsupported scheme "s3": use a file path/,
  },
  {
    name: "udp:// URI",
    args: input("udp://127.0.0.1:5000"),
    exitCode: ExitCode.UnsupportedInput,
    message: /input "udp:\/\/127\.0\.0\.1:5000" has the unsupported scheme "udp"/,
  },
  {
    name: "rtsp:// URL on a closed local port",
    args: input(`rtsp://127.0.0.1:${closedPort()}/camera`),
    exitCode: ExitCode.InputNotFound,
    message:
      /input "rtsp:\/\/127\.0\.0\.1:\d+\/camera" could not be opened \(.+\): check that the camera or server is reachable/,
  },
  {
    name: "http:// URL that answers 404",
    args: input(`${httpBase}/missing.mp4`),
    exitCode: ExitCode.InputNotFound,
    message:
      /input "http:\/\/127\.0\.0\.1:\d+\/missing\.mp4" could not be opened \(Not Found\): check the path or URL/,
  },
  {
    name: "http:// URL on a closed local port",
    args: input(`http://127.0.0.1:${closedPort()}/gate.mp4`),
    exitCode: ExitCode.InputNotFound,
    message:
      /input "http:\/\/127\.0\.0\.1:\d+\/gate\.mp4" could not be opened \(nothing could be read from the source: .+\): check the path or URL/,
  },
  {
    name: "http:// URL that serves a web page",
    args: input(`${httpBase}/page.mp4`),
    exitCode: ExitCode.InvalidMedia,
    message: /input "http:\/\/127\.0\.0\.1:\d+\/page\.mp4" is not a video \(.+\)/,
  },

  // Analytics configs
  {
    name: "ROI with an odd number of coordinates",
    args: input(video.videoPath, oddRoi),
    exitCode: ExitCode.InvalidConfig,
    message: /odd-roi\.txt:8: \[roi-filtering-stream-0\] roi-Gate: has 5 values, an odd count/,
  },
  {
    name: "line crossing with 7 values",
    args: input(video.videoPath, sevenValues),
    exitCode: ExitCode.InvalidConfig,
    message:
      /seven-values\.txt:8: \[line-crossing-stream-0\] line-crossing-Down: has 7 values, a line needs exactly 8/,
  },
  {
    name: "non-numeric coordinate",
    args: input(video.videoPath, notNumeric),
    exitCode: ExitCode.InvalidConfig,
    message:
      /not-numeric\.txt:8: \[line-crossing-stream-0\] line-crossing-Down: "abc" is not an integer/,
  },
  {
    name: "stream suffix that is not a number",
    args: input(video.videoPath, streamSuffix),
    exitCode: ExitCode.InvalidConfig,
    message:
      /stream-suffix\.txt:6: group \[line-crossing-stream-one\] has "one" where the stream number belongs/,
  },
  {
    name: "direction arrow parallel to its line",
    args: input(video.videoPath, parallelArrow),
    exitCode: ExitCode.InvalidConfig,
    message:
      /parallel-arrow\.txt:8: \[line-crossing-stream-0\] line-crossing-Down: has an arrow parallel to its line/,
  },
  {
    name: "config without [property]",
    args: input(video.videoPath, noPropertyGroup),
    exitCode: ExitCode.InvalidConfig,
    message: /no-property\.txt:1: key-value line "enable=1" comes before any \[group\] header/,
  },
  {
    name: "config that is not UTF-8",
    args: input(video.videoPath, binaryConfig),
    exitCode: ExitCode.InvalidConfig,
    message:
      /binary-config\.txt:1: .* is neither a \[group\] header, a key=value line nor a # comment/,
  },
  {
    name: "directory as config",
    args: input(video.videoPath, scratch),
    exitCode: ExitCode.InvalidConfig,
    message: /: is a directory; give the analytics config file/,
  },

  // Kafka
  {
    name: "broker address that does not answer",
    args: [...input(video.videoPath), ...unreachable()],
    exitCode: ExitCode.KafkaUnavailable,
    message:
      /cannot connect to Kafka broker\(s\) 127\.0\.0\.1:\d+: .*check that a broker runs there/,
  },
  {
    name: "missing topic",
    args: [...input(video.videoPath), "--kafka", BROKER, "--topic", freshTopic("missing")],
    exitCode: ExitCode.TopicMissing,
    message:
      /Kafka topic "dskafka-test-missing-\w+" does not exist on 127\.0\.0\.1:\d+: create it, or pass --create-topic/,
    broker: true,
  },
  {
    name: "missing topic with a spool",
    args: [
      ...input(video.videoPath),
      "--kafka",
      BROKER,
      "--topic",
      freshTopic("missing"),
      "--spool-dir",
      `${scratch}/spool-missing-topic`,
    ],
    exitCode: ExitCode.TopicMissing,
    message: /Kafka topic "dskafka-test-missing-\w+" does not exist/,
    broker: true,
  },
  {
    name: "wrong SASL password",
    args: [
      ...input(video.videoPath),
      "--kafka",
      `127.0.0.1:${saslPort}`,
      "--topic",
      "t",
      "--create-topic",
      "--sasl-mechanism",
      "plain",
      "--sasl-username",
      SASL_USER,
      "--sasl-password-env",
      WRONG_PASSWORD_ENV,
    ],
    exitCode: ExitCode.KafkaAuth,
    message:
      /SASL authentication with Kafka broker\(s\) 127\.0\.0\.1:\d+ failed: .*check the SASL mechanism, user name and password/,
  },

  // Spool
  {
    name: "spool directory below a regular file",
    args: [...input(video.videoPath), ...unreachable(), "--spool-dir", `${plainFile}/spool`],
    exitCode: ExitCode.SpoolFailed,
    message:
      /cannot create the spool directory ".*plain-file\/spool" \(.+\): give a writable directory/,
  },
  {
    name: "spool directory that is a file",
    args: [...input(video.videoPath), ...unreachable(), "--spool-dir", plainFile],
    exitCode: ExitCode.SpoolFailed,
    message: /spool directory ".*plain-file" \(.+\): give a writable directory with --spool-dir/,
  },
  {
    name: "spool directory of another topic",
    args: [...input(video.videoPath), ...unreachable(), "--spool-dir", otherTopicSpool],
    exitCode: ExitCode.SpoolFailed,
    message: /contains messages for Kafka topic "other-topic", not "t": give another --spool-dir/,
  },
  {
    name: "spool size that is not a number",
    args: [
      ...input(video.videoPath),
      ...unreachable(),
      "--spool-dir",
      SPOOL_DIR,
      "--spool-max-bytes",
      "lots",
    ],
    exitCode: ExitCode.Usage,
    message:
      /--spool-max-bytes "lots" is invalid: use a whole number of bytes, optionally with K, M, G or T/,
  },
  {
    name: "spool size below 1M",
    args: [
      ...input(video.videoPath),
      ...unreachable(),
      "--spool-dir",
      SPOOL_DIR,
      "--spool-max-bytes",
      "64K",
    ],
    exitCode: ExitCode.Usage,
    message: /--spool-max-bytes "64K" is invalid: use at least 1M and at most 1024T/,
  },
  {
    name: "unknown spool policy",
    args: [
      ...input(video.videoPath),
      ...unreachable(),
      "--spool-dir",
      SPOOL_DIR,
      "--spool-full",
      "maybe",
    ],
    exitCode: ExitCode.Usage,
    message: /--spool-full "maybe" is invalid: use block or drop-oldest/,
  },
  {
    name: "spool without Kafka",
    args: [...input(video.videoPath), "--spool-dir", SPOOL_DIR],
    exitCode: ExitCode.Usage,
    message: /--spool-dir applies only with a Kafka destination \(--kafka or --conn-str\)/,
  },
  {
    name: "spool policy without a spool",
    args: [...input(video.videoPath), ...unreachable(), "--spool-full", "block"],
    exitCode: ExitCode.Usage,
    message: /--spool-full applies only with --spool-dir DIR/,
  },
  {
    name: "negative reconnect delay",
    args: [...input(video.videoPath), "--reconnect-max-delay=-1"],
    exitCode: ExitCode.Usage,
    message: /--reconnect-max-delay "-1" is invalid: use seconds from 0\.001 to 3600/,
  },
  {
    name: "reconnect delay in words",
    args: [...input(video.videoPath), "--reconnect-max-delay", "soon"],
    exitCode: ExitCode.Usage,
    message: /--reconnect-max-delay "soon" is invalid: use seconds/,
  },

  // Pipeline syntax in paths and URLs is data
  ...specialNames.map((name): Case => ({
    name: `file name ${JSON.stringify(name)}`,
    args: input(`${scratch}/${name}`),
    exitCode: ExitCode.Ok,
    message: new RegExp(`stream summary stream=0 .* state=ended frames=${FRAMES} `),
    frames: FRAMES,
  })),
  {
    name: "file:// URI with an encoded ! and spaces",
    args: input(specialUri),
    exitCode: ExitCode.Ok,
    message: new RegExp(`stream summary stream=0 .* state=ended frames=${FRAMES} `),
    frames: FRAMES,
  },
  {
    name: "http:// URL with ! and name=value in its path",
    args: input(`${httpBase}${encodeURI(HTTP_VIDEO_PATH)}`),
    exitCode: ExitCode.Ok,
    message: new RegExp(`stream summary stream=0 .* state=ended frames=${FRAMES} `),
    frames: FRAMES,
  },
];

for (const testCase of CASES) {
  Deno.test(`dskafka ends ${testCase.name} with exit code ${testCase.exitCode}`, async () => {
    if (testCase.broker) await requireBroker();
    const run = await runCli([...testCase.args, "--emit", "frames:30"]);
    const errorLines = run.stderr.split("\n").filter((line) => line.startsWith("dskafka: "));

    assert.equal(run.code, testCase.exitCode, run.stderr);
    assert.doesNotMatch(run.stderr, /^\s+at /m, "a user error must not print a stack trace");

    if (testCase.exitCode !== ExitCode.Ok) {
      assert.equal(errorLines.length, 1, run.stderr);
      assert.match(errorLines[0], testCase.message);
      assert.equal(run.messages.length, 0, "a failed input must not send messages");
      return;
    }

    assert.equal(errorLines.length, 0, run.stderr);
    assert.match(run.stderr, testCase.message);
    if (testCase.frames !== undefined) {
      const last = run.messages.at(-1)?.frame as { number: number } | undefined;
      assert.equal(last?.number, testCase.frames, "frame number of the last message");
    }
  });
}

Deno.test({
  name: "bad input table servers and scratch files are removed",
  fn: async () => {
    await http.shutdown();
    await saslBroker.remove();
    Deno.env.delete(WRONG_PASSWORD_ENV);
    await Deno.remove(scratch, { recursive: true });
  },
});
