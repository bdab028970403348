import assert from "node:assert/strict";

import { loadAnalyticsConfig } from "../../src/analytics/config.ts";
import { DEFAULT_EMIT_POLICY } from "../../src/emit/policy.ts";
import { ExitCode, InvalidMediaError, UsageError } from "../../src/errors.ts";
import { ProgressReporter } from "../../src/report/progress.ts";
import { buildRunSummary, checkSummaryTarget, writeRunSummary } from "../../src/report/summary.ts";
import type { RunSummary } from "../../src/report/summary.ts";
import { runStreams } from "../../src/run.ts";
import type { RunResult, StreamResult } from "../../src/run.ts";
import { JsonLinesSink } from "../../src/sink/stdout.ts";
import { resolveInput } from "../../src/source/input.ts";
import { openVideoSource } from "../../src/source/video.ts";
import { REPOSITORY_ROOT } from "../fixtures/run_cli.ts";
import { sharedDataPath } from "../fixtures/shared_data.ts";

const START = Date.parse("2026-03-01T08:00:00.000Z");

function streamResult(
  extra: Partial<StreamResult> & Pick<StreamResult, "streamId" | "deviceId">,
): StreamResult {
  return {
    input: `${extra.deviceId}.mp4`,
    frames: 100,
    messages: 4,
    lineCrossings: { In: 3 },
    state: "ended",
    framesDropped: 0,
    ...extra,
  };
}

function runResult(streams: StreamResult[], exitCode: RunResult["exitCode"]): RunResult {
  return {
    streams,
    sink: { sent: 8, acknowledged: 7, failed: 0, spooled: 1, dropped: 0 },
    exitCode,
  };
}

Deno.test("buildRunSummary() reports the run and every device", () => {
  const summary = buildRunSummary(
    runResult([
      streamResult({ streamId: 0, deviceId: "gate" }),
      streamResult({ streamId: 1, deviceId: "yard", state: "stopped" }),
    ], ExitCode.Interrupted),
    { startedAtMs: START, endedAtMs: START + 61_250, sinkName: "kafka" },
  );

  assert.equal(summary.summaryVersion, 1);
  assert.equal(summary.startedAt, "2026-03-01T08:00:00.000Z");
  assert.equal(summary.endedAt, "2026-03-01T08:01:01.250Z");
  assert.equal(summary.durationSeconds, 61.25);
  assert.equal(summary.exitCode, 130);
  assert.equal(summary.exitReason, "stopped by SIGINT or SIGTERM after a clean flush");
  assert.deepEqual(summary.sink, {
    name: "kafka",
    sent: 8,
    acknowledged: 7,
    failed: 0,
    spooled: 1,
    dropped: 0,
  });
  assert.deepEqual(summary.devices.map((d) => [d.deviceId, d.state, d.exitCode]), [[
    "gate",
    "ended",
    0,
  ], ["yard", "stopped", 130]]);
  assert.deepEqual(summary.devices[0].lineCrossings, { In: 3 });
  assert.deepEqual(summary.devices[0].messages, {
    sent: 4,
    acknowledged: null,
    spooled: null,
    dropped: null,
    failed: null,
  });
  assert.equal(summary.devices[0].durationSeconds, null);
});

Deno.test("buildRunSummary() names the failed input in the exit reason", () => {
  const error = new InvalidMediaError(
    "yard.mp4",
    'input "yard.mp4" could not be decoded (corrupt)',
  );
  const summary = buildRunSummary(
    runResult([
      streamResult({ streamId: 0, deviceId: "gate" }),
      streamResult({ streamId: 1, deviceId: "yard", state: "failed", error }),
    ], ExitCode.InvalidMedia),
    { startedAtMs: START, endedAtMs: START },
  );

  assert.equal(summary.exitCode, 5);
  assert.equal(
    summary.exitReason,
    'an input is not a decodable video: input "yard.mp4" could not be decoded (corrupt)',
  );
  assert.equal(summary.devices[1].exitCode, 5);
  assert.equal(summary.devices[1].exitReason, 'input "yard.mp4" could not be decoded (corrupt)');
  assert.equal(summary.devices[0].exitReason, "the input ended, or --max-frames was reached");
});

Deno.test("buildRunSummary() uses per-device delivery counts when given", () => {
  const summary = buildRunSummary(
    runResult([streamResult({ streamId: 0, deviceId: "gate" })], ExitCode.Spooled),
    {
      startedAtMs: START,
      endedAtMs: START,
      deviceSinkStats: { gate: { sent: 4, acknowledged: 3, failed: 0, spooled: 1, dropped: 0 } },
    },
  );

  assert.deepEqual(summary.devices[0].messages, {
    sent: 4,
    acknowledged: 3,
    spooled: 1,
    dropped: 0,
    failed: 0,
  });
  assert.equal(summary.exitReason, "the run finished, but messages are still in the spool");
});

Deno.test("buildRunSummary() reads the stream time of the last frame when present", () => {
  const timed = { ...streamResult({ streamId: 0, deviceId: "gate" }), lastPtsMs: 30_080 };
  const summary = buildRunSummary(runResult([timed], ExitCode.Ok), {
    startedAtMs: START,
    endedAtMs: START,
  });

  assert.equal(summary.devices[0].durationSeconds, 30.08);
});

Deno.test("writeRunSummary() replaces the file atomically", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dskafka-summary-" });
  try {
    const path = `${dir}/summary.json`;
    await Deno.writeTextFile(path, "old");
    const summary = buildRunSummary(
      runResult([streamResult({ streamId: 0, deviceId: "gate" })], ExitCode.Ok),
      {
        startedAtMs: START,
        endedAtMs: START + 1000,
      },
    );

    await writeRunSummary(path, summary);

    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), summary);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["summary.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeRunSummary() writes - to stdout", async () => {
  const printed: string[] = [];
  const summary = buildRunSummary(runResult([], ExitCode.Ok), {
    startedAtMs: START,
    endedAtMs: START,
  });

  await writeRunSummary("-", summary, (text) => printed.push(text));

  assert.equal(printed.length, 1);
  assert.ok(printed[0].endsWith("}\n"));
  assert.deepEqual(JSON.parse(printed[0]), summary);
});

Deno.test("writeRunSummary() names a file it cannot write", async () => {
  const summary = buildRunSummary(runResult([], ExitCode.Ok), {
    startedAtMs: START,
    endedAtMs: START,
  });

  await assert.rejects(
    writeRunSummary("/nonexistent/dir/summary.json", summary),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(
        error.message,
        /^--summary "\/nonexistent\/dir\/summary.json" could not be written/,
      );
      return true;
    },
  );
});

Deno.test("checkSummaryTarget() rejects a missing folder and a folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dskafka-summary-" });
  try {
    await checkSummaryTarget("-");
    await checkSummaryTarget(`${dir}/summary.json`);
  } finally {
    await Deno.remove(dir);
  }

  await assert.rejects(
    checkSummaryTarget("/nonexistent/dir/summary.json"),
    /the folder \/nonexistent\/dir does not exist/,
  );
  await assert.rejects(
    checkSummaryTarget(Deno.cwd()),
    /is a folder: give a file name, or - for stdout/,
  );
});

Deno.test("summary and progress of a real run agree with its messages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dskafka-summary-" });
  try {
    const input = await resolveInput(sharedDataPath("car-detection.mp4"));
    const { config } = await loadAnalyticsConfig(`${REPOSITORY_ROOT}/configs/car-detection.txt`);
    const file = await Deno.open(`${dir}/messages.jsonl`, { write: true, create: true });
    const sink = new JsonLinesSink(file.writable, "file", true);
    const progressLines: string[] = [];
    const progress = new ProgressReporter([{ streamId: 0, deviceId: "car" }], {
      mode: "json",
      write: (text) => progressLines.push(text),
      sinkStats: () => sink.stats(),
    });
    const source = openVideoSource([input], { backend: "cpu" });

    const startedAtMs = Date.now();
    let result: RunResult;
    try {
      result = await runStreams({
        streams: [{ input: input.text, deviceId: "car", sessionKey: "summary-test" }],
        source,
        sink,
        analyticsConfig: config,
        emit: DEFAULT_EMIT_POLICY,
        onFrame: (stream) => progress.update(stream),
      });
    } finally {
      await source.close();
      await sink.close();
    }
    progress.finish(result.streams);
    const summary: RunSummary = buildRunSummary(result, {
      startedAtMs,
      endedAtMs: Date.now(),
      sinkName: sink.name,
    });

    const messages = (await Deno.readTextFile(`${dir}/messages.jsonl`)).trim().split("\n").map((
      line,
    ) => JSON.parse(line));
    const last = messages.at(-1)!.analyticsModule;
    assert.equal(summary.exitCode, 0);
    assert.equal(summary.devices[0].frames, 377);
    assert.equal(summary.devices[0].messages.sent, messages.length);
    assert.equal(summary.sink.acknowledged, messages.length);
    assert.deepEqual(summary.devices[0].lineCrossings, {
      Up: last.lc_cum_Up,
      Down: last.lc_cum_Down,
    });

    const final = JSON.parse(progressLines.at(-1)!);
    assert.equal(final.final, true);
    assert.equal(final.frames, 377);
    assert.equal(final.messages, messages.length);
    assert.deepEqual(final.lineCrossings, summary.devices[0].lineCrossings);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
