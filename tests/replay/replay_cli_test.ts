/**
 * `dskafka --replay` on every golden scenario: the messages carry the same cumulative
 * line counts and ROI counts as NVIDIA's library produced for those frames.
 */
import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { runCli } from "../fixtures/run_cli.ts";
import { sharedDirectory } from "../fixtures/shared_data.ts";

const GOLDEN = `${sharedDirectory()}/golden`;

interface ExpectedFrame {
  frame: number;
  lc_cum: Record<string, number>;
  roi_count: Record<string, number>;
}

const scenarios: string[] = [];
for await (const entry of Deno.readDir(GOLDEN)) {
  if (entry.isDirectory) scenarios.push(entry.name);
}
scenarios.sort();

Deno.test("golden scenarios are found", () => {
  assert.ok(scenarios.length > 0, `no scenario folders in ${GOLDEN}`);
});

for (const name of scenarios) {
  Deno.test(`dskafka --replay ${name} reports NVIDIA's counts`, async () => {
    const folder = `${GOLDEN}/${name}`;
    const scenario = JSON.parse(await Deno.readTextFile(`${folder}/scenario.json`));
    const expected: ExpectedFrame[] = (await Deno.readTextFile(`${folder}/expected.jsonl`))
      .trim().split("\n").map((line) => JSON.parse(line));

    const run = await runCli([
      "--replay", `${folder}/${scenario.tracks}`,
      "--fps", String(scenario.fps),
      "--frame-size", `${scenario.width}x${scenario.height}`,
      "--analytics-config", `${folder}/${scenario.config}`,
      "--device-id", name,
      "--emit", "frames:10",
      // Some tracks files have rows past the scenario's last frame.
      "--max-frames", String(scenario.frames),
    ]);
    assert.equal(run.code, ExitCode.Ok, run.stderr);
    assert.ok(run.messages.length > 0);

    const totals: Record<string, number> = {};
    for (const message of run.messages) {
      const frame = (message.frame as { number: number }).number;
      const module = message.analyticsModule as Record<string, unknown>;
      const reference = expected[frame - 1];
      assert.equal(message.deviceId, name);

      for (const [label, cumulative] of Object.entries(reference.lc_cum)) {
        assert.equal(module[`lc_cum_${label}`], cumulative, `frame ${frame} lc_cum_${label}`);
        totals[label] = (totals[label] ?? 0) + (module[`lc_curr_${label}`] as number);
      }
      assert.deepEqual(module.roi, reference.roi_count, `frame ${frame} roi`);
    }

    const final = expected.at(-1)!;
    for (const [label, cumulative] of Object.entries(final.lc_cum)) {
      assert.equal(totals[label], cumulative, `sum of lc_curr_${label} equals the final lc_cum`);
    }
  });
}
