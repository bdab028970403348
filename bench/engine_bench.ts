/**
 * Analytics-engine throughput.
 *
 * Runs the engine over `../shared/bench-tracks/crowd_200x1000` (about 200 objects per
 * frame, 1000 frames) and over the largest real-track golden scenario, checks the
 * crowd run's counts against the library's `expected_counts.jsonl`, and prints frames/s
 * and object updates/s as a markdown table.
 *
 * NVIDIA's library processes the crowd file, parsing and output included, in about
 * 0.31 s on a 2-core machine (≈ 600,000 object updates/s); the target is half of that.
 *
 * Usage: `deno run -A bench/engine_bench.ts [--runs N]`, or with `--once` a single pass that
 * writes one JSON line per frame to stdout, to time the whole process like the reference.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AnalyticsEngine } from "../src/analytics/engine.ts";
import { loadAnalyticsConfig } from "../src/analytics/config.ts";
import { parseMotTracks } from "../src/source/tracks.ts";
import type { Frame, FrameAnalytics } from "../src/frame.ts";

const SHARED = new URL("../../shared/", import.meta.url);
const REFERENCE_UPDATES_PER_S = 600_000;

interface Scenario {
  fps: number;
  width: number;
  height: number;
  frames: number;
  config: string;
  tracks: string;
}

interface Measurement {
  name: string;
  frames: number;
  updates: number;
  /** Parse times of every run, the cold first one first. */
  parseMs: number[];
  /** Engine times of every run, the cold first one first. */
  engineMs: number[];
  mismatches: number;
}

async function loadScenario(dir: URL) {
  const scenario: Scenario = JSON.parse(await Deno.readTextFile(new URL("scenario.json", dir)));
  const { config } = await loadAnalyticsConfig(new URL(scenario.config, dir).pathname);
  const text = await Deno.readTextFile(new URL(scenario.tracks, dir));
  return { scenario, config, text };
}

/** The counts of one frame in the shape of `expected_counts.jsonl`, keys sorted. */
function counts(analytics: FrameAnalytics): string {
  const sorted = (r: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return JSON.stringify({
    lc_cum: sorted(analytics.lineCrossingsCumulative),
    lc_curr: sorted(analytics.lineCrossingsCurrent),
    obj_cnt: sorted(analytics.objectCounts),
    oc: sorted(analytics.overcrowding),
    roi_count: sorted(analytics.roiCounts),
  });
}

/**
 * Parses the tracks and runs the engine over them `runs + 1` times. The first run is
 * cold (JIT not warmed up yet), like one invocation of a command-line tool; the others
 * show the steady state.
 */
async function measure(
  name: string,
  dir: URL,
  runs: number,
  expected?: string[],
): Promise<Measurement> {
  const { scenario, config, text } = await loadScenario(dir);
  const parseMs: number[] = [];
  const engineMs: number[] = [];
  let updates = 0;
  let frameCount = 0;
  let mismatches = 0;
  for (let run = 0; run <= runs; run++) {
    const parseStart = performance.now();
    const frames: Frame[] = [...parseMotTracks(text, scenario.tracks, {
      fps: scenario.fps,
      width: scenario.width,
      height: scenario.height,
      frameCount: scenario.frames,
    })];
    parseMs.push(performance.now() - parseStart);
    updates = frames.reduce((n, f) => n + f.objects.length, 0);
    frameCount = frames.length;

    const engine = new AnalyticsEngine(config, {
      streamId: 0,
      frameWidth: scenario.width,
      frameHeight: scenario.height,
    });
    const check = run === 0 && expected !== undefined;
    const results: FrameAnalytics[] = check ? new Array(frames.length) : [];
    const start = performance.now();
    if (check) { for (let i = 0; i < frames.length; i++) results[i] = engine.process(frames[i]); }
    else for (let i = 0; i < frames.length; i++) engine.process(frames[i]);
    engineMs.push(performance.now() - start);

    if (check) {
      for (let i = 0; i < frames.length; i++) {
        const want = JSON.stringify(withoutFrame(JSON.parse(expected[i])));
        const got = counts(results[i]);
        if (want !== got) {
          if (mismatches === 0) {
            console.error(`${name} frame ${i + 1}:\n  expected ${want}\n  got      ${got}`);
          }
          mismatches++;
        }
      }
    }
  }
  return { name, frames: frameCount, updates, parseMs, engineMs, mismatches };
}

function withoutFrame(record: Record<string, unknown>): Record<string, unknown> {
  const { frame: _frame, ...rest } = record;
  const sorted = (r: unknown) =>
    Object.fromEntries(
      Object.entries(r as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  return Object.fromEntries(
    Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sorted(v)]),
  );
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function largestRealScenario(): URL | undefined {
  const golden = new URL("golden/", SHARED);
  let best: { url: URL; rows: number } | undefined;
  for (const entry of Deno.readDirSync(golden)) {
    if (!entry.isDirectory || !entry.name.startsWith("real_")) continue;
    const dir = new URL(`${entry.name}/`, golden);
    const scenario: Scenario = JSON.parse(Deno.readTextFileSync(new URL("scenario.json", dir)));
    const rows = Deno.readTextFileSync(new URL(scenario.tracks, dir)).split("\n").filter((l) =>
      l
    ).length;
    if (!best || rows > best.rows) best = { url: dir, rows };
  }
  return best?.url;
}

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "7" }, once: { type: "boolean", default: false } },
});
const runs = Math.max(1, Number(values.runs));

const crowdDir = new URL("bench-tracks/crowd_200x1000/", SHARED);

if (values.once) {
  // What the reference measurement did: read the file, run every frame once, write one
  // JSON line per frame. Time the whole process: `time deno run -A … --once > /dev/null`.
  const { scenario, config, text } = await loadScenario(crowdDir);
  const engine = new AnalyticsEngine(config, {
    streamId: 0,
    frameWidth: scenario.width,
    frameHeight: scenario.height,
  });
  const lines: string[] = [];
  for (
    const frame of parseMotTracks(text, scenario.tracks, {
      fps: scenario.fps,
      width: scenario.width,
      height: scenario.height,
      frameCount: scenario.frames,
    })
  ) lines.push(counts(engine.process(frame)));
  await Deno.stdout.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  Deno.exit(0);
}
const expected = (await Deno.readTextFile(new URL("expected_counts.jsonl", crowdDir)))
  .split("\n")
  .filter((l) => l.trim() !== "");
const results = [await measure("crowd_200x1000", crowdDir, runs, expected)];
const real = largestRealScenario();
if (real) results.push(await measure(real.pathname.split("/").at(-2)!, real, runs * 5));

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(
  `| scenario | frames | object updates | cold: parse + engine ms | warm: parse ms | warm: engine ms | warm: frames/s | warm: object updates/s | warm: parse + engine, updates/s |`,
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  const parse = median(r.parseMs.slice(1));
  const engine = median(r.engineMs.slice(1));
  console.log(
    `| ${r.name} | ${r.frames} | ${fmt(r.updates)} | ${
      (r.parseMs[0] + r.engineMs[0]).toFixed(1)
    } | ${parse.toFixed(1)} | ${engine.toFixed(1)} | ${fmt(r.frames / (engine / 1000))} | ${
      fmt(r.updates / (engine / 1000))
    } | ${fmt(r.updates / ((parse + engine) / 1000))} |`,
  );
}
const crowd = results[0];
const coldRate = crowd.updates / ((crowd.parseMs[0] + crowd.engineMs[0]) / 1000);
const warmRate = crowd.updates /
  ((median(crowd.parseMs.slice(1)) + median(crowd.engineMs.slice(1))) / 1000);
const percent = (rate: number) => `${(rate / REFERENCE_UPDATES_PER_S * 100).toFixed(0)} %`;
console.log(
  `\ncrowd counts vs expected_counts.jsonl: ${
    crowd.mismatches === 0 ? "all 1000 frames equal" : `${crowd.mismatches} frames differ`
  }`,
);
console.log(
  `parse + engine vs the reference library's ~600,000 updates/s (target >= 50 %): cold ${
    fmt(coldRate)
  }/s = ${percent(coldRate)}, warm ${fmt(warmRate)}/s = ${percent(warmRate)}`,
);
if (crowd.mismatches > 0) Deno.exit(1);
