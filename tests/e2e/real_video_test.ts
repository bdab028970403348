/**
 * End-to-end: the two real videos through `cli.ts` (cpu backend). The expected counts
 * were established by eye, and real_videos.md beside this file lists every crossing.
 * The CPU detector and tracker may split, merge or lose an object, so each line label
 * may be off by one.
 */
import assert from "node:assert/strict";

import { analyticsCounts, REPOSITORY_ROOT, runCli } from "../fixtures/run_cli.ts";
import { sharedDataPath } from "../fixtures/shared_data.ts";

async function assertCountsWithinOne(
  video: string,
  config: string,
  expected: Record<string, number>,
): Promise<void> {
  const videoPath = sharedDataPath(video);
  await Deno.stat(videoPath).catch((error) => {
    throw new Error(
      `test video ${videoPath} not found; set DSKAFKA_SHARED to the shared directory`,
      {
        cause: error,
      },
    );
  });

  const run = await runCli([
    "--input",
    videoPath,
    "--analytics-config",
    `${REPOSITORY_ROOT}/configs/${config}`,
    "--emit",
    "frames:30",
  ]);

  assert.equal(run.code, 0, `exit code ${run.code}, stderr: ${run.stderr}`);
  assert.ok(run.messages.length > 0, `no messages, stderr: ${run.stderr}`);
  const last = analyticsCounts(run.messages[run.messages.length - 1]);
  for (const [label, count] of Object.entries(expected)) {
    const actual = last[`lc_cum_${label}`];
    assert.equal(typeof actual, "number", `lc_cum_${label} missing in the last message`);
    assert.ok(Math.abs(actual - count) <= 1, `lc_cum_${label} ${actual}, expected ${count} ± 1`);
  }
}

Deno.test("cli.ts car-detection counts 2 up and 2 down", async () => {
  await assertCountsWithinOne("car-detection.mp4", "car-detection.txt", { Up: 2, Down: 2 });
});

Deno.test("cli.ts one-by-one-person-detection counts 6 in and 6 out", async () => {
  await assertCountsWithinOne(
    "one-by-one-person-detection.mp4",
    "one-by-one-person-detection.txt",
    {
      In: 6,
      Out: 6,
    },
  );
});
