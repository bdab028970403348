/**
 * End-to-end: generated videos with known ground truth through `cli.ts` (cpu backend),
 * requiring the exact cumulative count of every line label.
 */
import assert from "node:assert/strict";

import { generateVideo, type Scenario, SCENARIOS } from "../fixtures/generate_video.ts";
import { analyticsCounts, runCli } from "../fixtures/run_cli.ts";

async function assertExactCounts(scenario: Scenario): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-e2e-" });
  try {
    const generated = await generateVideo(scenario, directory);

    const run = await runCli([
      "--input",
      generated.videoPath,
      "--analytics-config",
      generated.analyticsConfigPath,
      "--emit",
      "frames:30",
    ]);

    assert.equal(run.code, 0, `exit code ${run.code}, stderr: ${run.stderr}`);
    assert.ok(run.messages.length > 0, `no messages, stderr: ${run.stderr}`);
    const last = analyticsCounts(run.messages[run.messages.length - 1]);
    for (const [label, expected] of Object.entries(generated.groundTruth.expectedCounts)) {
      assert.equal(last[`lc_cum_${label}`], expected, `lc_cum_${label} of ${scenario.name}`);

      // lc_curr counts since the previous message, so the per-message counts add up to
      // the cumulative count and no crossing is lost between messages.
      const sumOfCurrent = run.messages
        .map((message) => analyticsCounts(message)[`lc_curr_${label}`] ?? 0)
        .reduce((sum, count) => sum + count, 0);
      assert.equal(sumOfCurrent, expected, `sum of lc_curr_${label} of ${scenario.name}`);
    }
    for (const message of run.messages) {
      assert.equal(message.deviceId, scenario.name, "device id defaults to the file name");
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

Deno.test("cli.ts two_way counts 3 down and 2 up", async () => {
  await assertExactCounts(SCENARIOS.two_way);
});

Deno.test("cli.ts with_audio decodes and counts 1 down", async () => {
  await assertExactCounts(SCENARIOS.with_audio);
});

Deno.test("cli.ts stop_and_go counts the stopping object once", async () => {
  await assertExactCounts(SCENARIOS.stop_and_go);
});

Deno.test("cli.ts two_objects_parallel counts both objects", async () => {
  await assertExactCounts(SCENARIOS.two_objects_parallel);
});
