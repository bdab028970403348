import assert from "node:assert/strict";

import { ExitCode, UsageError } from "../../src/errors.ts";
import { getLogger, logSettings } from "../../src/log.ts";
import { REPORT_CLI_HELP, REPORT_CLI_OPTIONS } from "../../src/report/cli_options.ts";
import { RunReport } from "../../src/report/run_report.ts";
import type { RunResult, StreamResult } from "../../src/run.ts";

const STREAMS = [{ streamId: 0, deviceId: "gate" }];

function finished(frames: number): StreamResult {
  return {
    streamId: 0,
    deviceId: "gate",
    input: "gate.mp4",
    frames,
    messages: 3,
    lineCrossings: { In: 4 },
    state: "ended",
    framesDropped: 0,
  };
}

const RESULT: RunResult = {
  streams: [finished(90)],
  sink: { sent: 3, acknowledged: 1, failed: 0, spooled: 2, dropped: 0 },
  exitCode: ExitCode.Ok,
};

Deno.test("RunReport.start() rejects invalid options before the run", async () => {
  await assert.rejects(RunReport.start({ progress: "always" }, { streams: STREAMS }), UsageError);
  await assert.rejects(
    RunReport.start({ summary: "/nonexistent/dir/summary.json" }, { streams: STREAMS }),
    /--summary "\/nonexistent\/dir\/summary.json" cannot be written/,
  );
});

Deno.test("RunReport keeps log lines and the status block apart", async () => {
  const screen: string[] = [];
  const original = logSettings.write;
  logSettings.write = (line) => screen.push(`LOG ${line}`);
  try {
    const report = await RunReport.start({}, {
      streams: STREAMS,
      stderrIsTerminal: true,
      write: (text) => screen.push(text),
    });
    report.onFrame({ ...finished(1), state: "started" });
    getLogger("test").info("stream started");
    report.dispose();
    getLogger("test").info("after the run");
    await report.finish(RESULT);

    assert.deepEqual(screen.slice(1, 3), [
      "\x1b[1A\x1b[0J",
      "LOG dskafka info [test] stream started",
    ]);
    assert.ok(
      screen[3].startsWith("[0] gate  1 frames"),
      "the block is drawn again below the log line",
    );
    assert.equal(screen[4], "\x1b[1A\x1b[0J", "dispose() takes the block off the screen");
    assert.equal(screen[5], "LOG dskafka info [test] after the run");
    assert.ok(
      screen[6].startsWith("[0] gate  ended  90 frames"),
      "finish() draws the final state last",
    );
    assert.ok(!screen[6].includes("\x1b["), "the final block does not overwrite the log line");
    assert.equal(screen.length, 7);
  } finally {
    logSettings.write = original;
  }
});

Deno.test("RunReport is silent off a terminal without --progress", async () => {
  const screen: string[] = [];
  const report = await RunReport.start({}, {
    streams: STREAMS,
    stderrIsTerminal: false,
    write: (text) => screen.push(text),
  });
  report.onFrame(finished(1));
  await report.finish(RESULT);

  assert.deepEqual(screen, []);
});

Deno.test("RunReport.finish() writes the summary with the sink's final counters", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dskafka-report-" });
  try {
    let clock = Date.parse("2026-03-01T08:00:00Z");
    const report = await RunReport.start({ summary: `${dir}/summary.json`, progress: "off" }, {
      streams: STREAMS,
      now: () => clock,
    });
    clock += 2500;
    await report.finish(RESULT, {
      sinkName: "kafka",
      sinkStats: { sent: 3, acknowledged: 2, failed: 0, spooled: 1, dropped: 0 },
      exitCode: ExitCode.Spooled,
    });

    const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    assert.equal(summary.durationSeconds, 2.5);
    assert.deepEqual(summary.sink, {
      name: "kafka",
      sent: 3,
      acknowledged: 2,
      failed: 0,
      spooled: 1,
      dropped: 0,
    });
    assert.equal(summary.exitCode, 12);
    assert.equal(summary.exitReason, "the run finished, but messages are still in the spool");
    assert.deepEqual(summary.devices[0].lineCrossings, { In: 4 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report help names every report option", () => {
  for (const name of Object.keys(REPORT_CLI_OPTIONS)) {
    assert.ok(REPORT_CLI_HELP.includes(`--${name} `), `--${name} is missing from the help`);
  }
});
