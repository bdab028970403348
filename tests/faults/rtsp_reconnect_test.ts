/**
 * An rtsp:// input whose server goes away in the middle of a run and comes back on the
 * same port. dskafka reconnects with backoff and logs each attempt. It keeps counting
 * where it was, with frame numbers and cumulative counts that never fall.
 *
 * The server is tests/faults/rtsp_server.py (gst-rtsp-server through Python), serving a
 * generated video in a loop on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { ExitCode } from "../../src/errors.ts";
import { generateVideo, SCENARIOS } from "../fixtures/generate_video.ts";
import { analyticsCounts } from "../fixtures/run_cli.ts";
import { closedPort } from "../kafka/_broker.ts";
import { CliProcess } from "./_cli_process.ts";

const SERVER_SCRIPT = fileURLToPath(new URL("./rtsp_server.py", import.meta.url));

// NOTE: with DSKAFKA_TEST_SANITIZED=1 the CLI runs with libasan preloaded, and GIO's
// libproxy resolver then aborts in ASan's __cxa_throw interceptor before any frame is
// read. Loopback URLs need no proxy, so the CLI children get GIO's dummy resolver.
Deno.env.set("GIO_USE_PROXY_RESOLVER", "dummy");
const STEP_LIMIT_MS = 90_000;

// The first Python 3 that has GStreamer's RTSP server bindings: a Python from pyenv or
// a virtual environment may come first on PATH without the Debian packages.
async function findPython(): Promise<string> {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const probe = await new Deno.Command(candidate, {
      args: ["-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => undefined);
    if (probe?.code === 0) return candidate;
  }
  throw new Error(
    "no python3 with the GStreamer RTSP server bindings: install the Debian packages " +
      "python3-gi and gir1.2-gst-rtsp-server-1.0",
  );
}

/** The RTSP server process. */
class RtspServer {
  #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
  }

  static async start(python: string, args: string[]): Promise<RtspServer> {
    const child = new Deno.Command(python, {
      args: [SERVER_SCRIPT, ...args],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();

    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    reader.releaseLock();
    if (first.value?.trim() !== "ready") {
      child.kill("SIGKILL");
      const status = await child.status;
      throw new Error(`rtsp_server.py did not start (exit code ${status.code})`);
    }
    child.stdout.cancel().catch(() => undefined);
    return new RtspServer(child);
  }

  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#child.status;
  }
}

function cumulativeTotal(message: Record<string, unknown>): number {
  return Object.entries(analyticsCounts(message))
    .filter(([key]) => key.startsWith("lc_cum_"))
    .reduce((sum, [, value]) => sum + value, 0);
}

function maxCumulative(messages: Record<string, unknown>[]): number {
  return Math.max(0, ...messages.map(cumulativeTotal));
}

Deno.test({
  name: "dskafka reconnects an rtsp input and keeps its counts",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const python = await findPython();
    const directory = await Deno.makeTempDir({ prefix: "dskafka-rtsp-" });
    let server: RtspServer | undefined;
    let cli: CliProcess | undefined;

    try {
      const video = await generateVideo(SCENARIOS.two_way, directory);
      const stream = `${directory}/two_way.h264`;
      const convert = await new Deno.Command("gst-launch-1.0", {
        args: [
          "-q",
          "filesrc",
          `location=${video.videoPath}`,
          "!",
          "qtdemux",
          "!",
          "h264parse",
          "!",
          "video/x-h264,stream-format=byte-stream",
          "!",
          "filesink",
          `location=${stream}`,
        ],
      }).output();
      assert.equal(convert.code, 0, new TextDecoder().decode(convert.stderr));

      const port = closedPort();
      const serverArgs = [String(port), "two_way", stream, String(SCENARIOS.two_way.fps)];
      server = await RtspServer.start(python, serverArgs);

      cli = CliProcess.start([
        "--input",
        `rtsp://127.0.0.1:${port}/two_way`,
        "--analytics-config",
        video.analyticsConfigPath,
        "--device-id",
        "camera",
        "--emit",
        "frames:15",
        "--reconnect-max-delay",
        "2",
      ]);
      await cli.waitFor(/stream started/, STEP_LIMIT_MS);
      await cli.waitForMessages(
        (messages) => maxCumulative(messages) >= 2,
        "message with two crossings",
        STEP_LIMIT_MS,
      );

      await server.kill();
      server = undefined;
      const beforeOutage = maxCumulative(cli.messages());
      await cli.waitFor(/stream lost its source; reconnecting .* attempt=2 /, STEP_LIMIT_MS);

      server = await RtspServer.start(python, serverArgs);
      await cli.waitFor(/stream reconnected/, STEP_LIMIT_MS);
      await cli.waitForMessages(
        (messages) => maxCumulative(messages) > beforeOutage,
        "crossing after the reconnect",
        STEP_LIMIT_MS,
      );

      cli.kill("SIGINT");
      const run = await cli.exit(STEP_LIMIT_MS);
      cli = undefined;
      assert.equal(run.code, ExitCode.Interrupted, run.stderr);

      const attempts = run.stderr.split("\n")
        .filter((line) => line.includes("stream lost its source; reconnecting"));
      assert.ok(attempts.length >= 2, run.stderr);
      assert.match(attempts[0], /stream=0 device=camera attempt=1 delayMs=1000 /);
      assert.match(attempts[1], /attempt=2 delayMs=2000 /);

      const frames = run.messages.map((message) => (message.frame as { number: number }).number);
      for (let i = 1; i < run.messages.length; i++) {
        assert.ok(frames[i] > frames[i - 1], `frame ${frames[i]} after ${frames[i - 1]}`);
        for (const [key, value] of Object.entries(analyticsCounts(run.messages[i]))) {
          if (!key.startsWith("lc_cum_")) continue;
          const before = analyticsCounts(run.messages[i - 1])[key] ?? 0;
          assert.ok(
            value >= before,
            `${key} fell from ${before} to ${value} at frame ${frames[i]}`,
          );
        }
      }
      assert.ok(maxCumulative(run.messages) > beforeOutage);
    } finally {
      if (cli !== undefined) {
        cli.kill("SIGKILL");
        await cli.exit(STEP_LIMIT_MS).catch(() => undefined);
      }
      await server?.kill();
      await Deno.remove(directory, { recursive: true });
    }
  },
});
