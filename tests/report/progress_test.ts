import assert from "node:assert/strict";

import { UsageError } from "../../src/errors.ts";
import { logSettings } from "../../src/log.ts";
import {
  formatDuration,
  ProgressReporter,
  resolveProgressMode,
} from "../../src/report/progress.ts";
import type { ProgressMode, ProgressStream } from "../../src/report/progress.ts";
import type { SinkStats } from "../../src/sink/sink.ts";

/** Creates a reporter over an in-memory output and a clock the test moves by hand. */
function harness(mode: ProgressMode, options: { columns?: number; sink?: SinkStats } = {}) {
  const output: string[] = [];
  const clock = { now: 0 };
  const reporter = new ProgressReporter(
    [{ streamId: 0, deviceId: "gate" }, { streamId: 1, deviceId: "yard" }],
    {
      mode,
      write: (text) => output.push(text),
      now: () => clock.now,
      columns: options.columns ?? 200,
      sinkStats: options.sink ? () => options.sink! : undefined,
    },
  );
  return { output, clock, reporter };
}

function stream(
  streamId: number,
  frames: number,
  extra: Partial<ProgressStream> = {},
): ProgressStream {
  return {
    streamId,
    deviceId: streamId === 0 ? "gate" : "yard",
    frames,
    messages: Math.floor(frames / 30),
    lineCrossings: {},
    state: "started",
    ...extra,
  };
}

Deno.test("resolveProgressMode() defaults to on only for a terminal", () => {
  assert.equal(resolveProgressMode(undefined, true), "on");
  assert.equal(resolveProgressMode(undefined, false), "off");
  assert.equal(resolveProgressMode("on", false), "on");
  assert.equal(resolveProgressMode("off", true), "off");
  assert.equal(resolveProgressMode("json", true), "json");
});

Deno.test("resolveProgressMode() rejects an unknown value", () => {
  assert.throws(() => resolveProgressMode("yes", true), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, '--progress "yes" is invalid: use on, off or json');
    return true;
  });
});

Deno.test("ProgressReporter on draws one line per stream and rewrites them in place", () => {
  const { output, clock, reporter } = harness("on");

  reporter.update(stream(0, 1));
  clock.now = 2000;
  reporter.update(stream(0, 51, { lineCrossings: { Up: 2, Down: 1 } }));

  assert.equal(output.length, 2);
  assert.equal(output[0].startsWith("\x1b["), false, "the first drawing moves the cursor");
  assert.equal(output[0].split("\n").length - 1, 2);
  assert.ok(output[1].startsWith("\x1b[2A\x1b[0J"), JSON.stringify(output[1]));
  const [gate, yard] = output[1].slice("\x1b[2A\x1b[0J".length).split("\n");
  assert.equal(gate, "[0] gate  51 frames  25.0 fps  0:02  Up 2, Down 1  1 msgs");
  assert.equal(yard, "[1] yard  0 frames  0.0 fps  0:00  0 msgs");
});

Deno.test("ProgressReporter redraws at most once per interval", () => {
  const { output, clock, reporter } = harness("on");

  for (let frame = 1; frame <= 100; frame++) {
    clock.now = frame * 10; // 100 frames in one second
    reporter.update(stream(0, frame));
  }

  // Drawn at the first frame, then at 260 ms, 510 ms and 760 ms: every 250 ms.
  assert.equal(output.length, 4);
});

Deno.test("ProgressReporter shows the sink counters on their own line", () => {
  const sink = { sent: 40, acknowledged: 38, failed: 0, spooled: 2, dropped: 0 };
  const { output, reporter } = harness("on", { sink });

  reporter.update(stream(1, 5));

  const lines = output[0].split("\n");
  assert.equal(lines.length - 1, 3);
  assert.equal(lines[2], "messages: 40 sent, 38 acknowledged, 2 spooled, 0 dropped, 0 failed");
});

Deno.test("ProgressReporter cuts lines to the terminal width", () => {
  const { output, reporter } = harness("on", { columns: 20 });

  reporter.update(stream(0, 1, { lineCrossings: { Northbound: 12, Southbound: 7 } }));

  for (const line of output[0].split("\n").slice(0, -1)) {
    assert.ok([...line].length < 20, `"${line}" is ${[...line].length} characters`);
  }
  assert.equal(output[0].split("\n")[0], "[0] gate  1 frames…");
});

Deno.test("ProgressReporter keeps log lines above the status block", () => {
  const { output, reporter } = harness("on");
  const logged: string[] = [];
  const writeLog = reporter.wrapLogWrite((line) => {
    output.push(`LOG ${line}`);
    logged.push(line);
  });

  reporter.update(stream(0, 1));
  writeLog("dskafka info [run] stream started");

  assert.deepEqual(logged, ["dskafka info [run] stream started"]);
  assert.equal(output[1], "\x1b[2A\x1b[0J", "the block is cleared before the log line");
  assert.equal(output[2], "LOG dskafka info [run] stream started");
  assert.ok(output[3].startsWith("[0] gate"), "the block is drawn again below the log line");
});

Deno.test("ProgressReporter json writes one object per started stream", () => {
  const { output, clock, reporter } = harness("json", {
    sink: { sent: 1, acknowledged: 1, failed: 0, spooled: 0, dropped: 0 },
  });

  reporter.update(stream(0, 1));
  clock.now = 1500;
  reporter.update(stream(0, 31, { lineCrossings: { Up: 1 } }));

  assert.equal(output.length, 2);
  const record = JSON.parse(output[1]);
  assert.deepEqual(record, {
    type: "progress",
    stream: 0,
    device: "gate",
    state: "started",
    frames: 31,
    fps: 20,
    elapsedMs: 1500,
    lineCrossings: { Up: 1 },
    messages: 1,
    sink: { sent: 1, acknowledged: 1, failed: 0, spooled: 0, dropped: 0 },
    final: false,
  });
  assert.equal(output.join("").split("\n").filter(Boolean).length, 2, "stream 1 has not started");
});

Deno.test("ProgressReporter finish() writes the final state of every stream once", () => {
  const { output, reporter } = harness("json");

  reporter.update(stream(0, 10));
  reporter.finish([stream(0, 377, { state: "ended" }), stream(1, 0, { state: "failed" })]);
  reporter.finish();
  reporter.update(stream(0, 400));

  const final = output.slice(1).join("").split("\n").filter(Boolean).map((line) =>
    JSON.parse(line)
  );
  assert.deepEqual(final.map((r) => [r.stream, r.state, r.frames, r.final]), [
    [0, "ended", 377, true],
    [1, "failed", 0, true],
  ]);
});

Deno.test("ProgressReporter stop() clears the block and ignores updates", () => {
  const { output, clock, reporter } = harness("on");

  reporter.update(stream(0, 1));
  reporter.stop();
  clock.now = 5000;
  reporter.update(stream(0, 2));
  reporter.finish([stream(0, 9, { state: "ended" })]);

  assert.equal(output.length, 3);
  assert.equal(output[1], "\x1b[2A\x1b[0J");
  assert.ok(output[2].startsWith("[0] gate  ended  9 frames"), output[2]);
});

Deno.test("ProgressReporter off writes nothing", () => {
  const { output, reporter } = harness("off");

  reporter.update(stream(0, 1));
  reporter.finish();

  assert.equal(output.length, 0);
  const write = (line: string) => console.error(line);
  assert.equal(reporter.wrapLogWrite(write), write);
});

Deno.test("ProgressReporter stops drawing when the output fails", () => {
  let calls = 0;
  const warnings: string[] = [];
  const reporter = new ProgressReporter([{ streamId: 0, deviceId: "gate" }], {
    mode: "on",
    write: () => {
      calls++;
      throw new Deno.errors.BrokenPipe("stderr closed");
    },
    now: () => calls * 1000,
  });
  const logWrite = logSettings.write;
  logSettings.write = (line) => warnings.push(line);
  try {
    reporter.update(stream(0, 1));
    reporter.update(stream(0, 2));
    reporter.finish();
  } finally {
    logSettings.write = logWrite;
  }

  assert.equal(calls, 1);
  assert.deepEqual(warnings, [
    'dskafka warn [progress] progress display stopped: writing it failed error="stderr closed"',
  ]);
});

Deno.test("formatDuration() switches to hours after 59:59", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(61_999), "1:01");
  assert.equal(formatDuration(3_599_000), "59:59");
  assert.equal(formatDuration(3_723_000), "1:02:03");
});
