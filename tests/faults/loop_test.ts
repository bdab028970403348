/**
 * `--loop`: a file input starts again at its end, frame numbers and counts keep rising
 * across passes, and `--max-frames` ends the run.
 */
import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { generateVideo, SCENARIOS } from "../fixtures/generate_video.ts";
import { analyticsCounts, runCli } from "../fixtures/run_cli.ts";

Deno.test("dskafka --loop keeps counting across passes until --max-frames", async () => {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-loop-" });
  try {
    const video = await generateVideo(SCENARIOS.two_way, directory);
    const truth = video.groundTruth;
    const passes = 2;
    const lastPassFrames = 100;
    const maxFrames = passes * truth.frames + lastPassFrames;

    const run = await runCli([
      "--input",
      video.videoPath,
      "--analytics-config",
      video.analyticsConfigPath,
      "--loop",
      "--max-frames",
      String(maxFrames),
      "--emit",
      "frames:30",
    ]);

    assert.equal(run.code, ExitCode.Ok, run.stderr);
    assert.equal(run.stderr.match(/stream looped to its start/g)?.length, passes, run.stderr);

    // The video's crossings, once per full pass and those of the last, partial pass.
    // No crossing lies near frame 100, so detection latency cannot move one across it.
    const expected: Record<string, number> = {};
    for (const [label, count] of Object.entries(truth.expectedCounts)) {
      const partial = truth.crossings.filter((crossing) =>
        crossing.label === label && crossing.frame <= lastPassFrames
      ).length;
      expected[label] = passes * count + partial;
    }

    const frames = run.messages.map((message) => (message.frame as { number: number }).number);
    const pts = run.messages.map((message) => (message.frame as { ptsMs: number }).ptsMs);
    assert.equal(frames.at(-1), maxFrames);
    for (let i = 1; i < run.messages.length; i++) {
      assert.ok(frames[i] > frames[i - 1], `frame ${frames[i]} after frame ${frames[i - 1]}`);
      assert.ok(pts[i] > pts[i - 1], `ptsMs ${pts[i]} after ${pts[i - 1]} (frame ${frames[i]})`);
    }

    const last = analyticsCounts(run.messages.at(-1)!);
    for (const [label, count] of Object.entries(expected)) {
      assert.equal(last[`lc_cum_${label}`], count, `lc_cum_${label}`);
      const sumOfCurrent = run.messages
        .map((message) => analyticsCounts(message)[`lc_curr_${label}`] ?? 0)
        .reduce((sum, value) => sum + value, 0);
      assert.equal(sumOfCurrent, count, `sum of lc_curr_${label}`);
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
