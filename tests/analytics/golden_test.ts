/**
 * The engine against NVIDIA's nvdsanalytics library: every scenario folder under
 * `../shared/golden/` (tracks, config, and the library's per-frame output) must be
 * reproduced field for field. A new scenario folder is picked up without a code change.
 */

import { AnalyticsEngine } from "../../src/analytics/engine.ts";
import { loadAnalyticsConfig } from "../../src/analytics/config.ts";
import { readMotTracks } from "../../src/source/tracks.ts";
import type { Frame, FrameAnalytics } from "../../src/frame.ts";

const GOLDEN = new URL("../../../shared/golden/", import.meta.url);

interface Scenario {
  fps: number;
  width: number;
  height: number;
  frames: number;
  config: string;
  tracks: string;
}

function scenarioFolders(): string[] {
  try {
    return [...Deno.readDirSync(GOLDEN)]
      .filter((e) => e.isDirectory)
      .map((e) => e.name)
      .filter((name) => {
        try {
          return Deno.statSync(new URL(`${name}/scenario.json`, GOLDEN)).isFile;
        } catch {
          return false;
        }
      })
      .sort();
  } catch {
    return [];
  }
}

/** Parses JSON keeping `id` values exact (they are unsigned 64-bit). */
function parseExpected(line: string): Record<string, unknown> {
  // The third reviver argument (JSON.parse source text access) carries the literal text.
  const reviver = (key: string, value: unknown, context?: { source?: string }) =>
    key === "id" && typeof value === "number" && context?.source !== undefined
      ? BigInt(context.source)
      : value;
  return JSON.parse(line, reviver as (key: string, value: unknown) => unknown);
}

/** The engine's output in the golden file's shape. */
function toGolden(frame: Frame, analytics: FrameAnalytics, ties: readonly number[]) {
  return {
    frame: frame.frameNumber,
    source: frame.streamId,
    pts: Number(frame.ptsNs),
    lc_curr: analytics.lineCrossingsCurrent,
    lc_cum: analytics.lineCrossingsCumulative,
    roi_count: analytics.roiCounts,
    oc: analytics.overcrowding,
    obj_cnt: analytics.objectCounts,
    obj_cnt_tie: [...ties],
    objects: analytics.objects.map((o) => ({
      id: o.trackId,
      class: o.classId,
      meta: o.meta,
      roi: o.roi,
      oc: o.overcrowding,
      lc: o.lineCrossings,
      dir: o.direction,
      status: o.status,
    })),
  };
}

/** The first difference between two JSON-like values, as `path: expected …, got …`. */
function firstDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  if (
    typeof expected !== "object" || expected === null || typeof actual !== "object" ||
    actual === null
  ) {
    return Object.is(expected, actual)
      ? undefined
      : `${path}: expected ${show(expected)}, got ${show(actual)}`;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) {
    return `${path}: expected ${show(expected)}, got ${show(actual)}`;
  }
  if (Array.isArray(expected)) {
    const a = actual as unknown[];
    if (expected.length !== a.length) {
      return `${path}: expected ${expected.length} items ${show(expected)}, got ${a.length} ${
        show(a)
      }`;
    }
    for (let i = 0; i < expected.length; i++) {
      const d = firstDifference(expected[i], a[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])].sort();
  for (const key of keys) {
    if (!(key in a)) return `${path}.${key}: expected ${show(e[key])}, missing`;
    if (!(key in e)) return `${path}.${key}: not expected, got ${show(a[key])}`;
    const d = firstDifference(e[key], a[key], `${path}.${key}`);
    if (d) return d;
  }
  return undefined;
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
}

const folders = scenarioFolders();

if (folders.length === 0) {
  Deno.test({ name: "golden: no scenarios found under ../shared/golden", ignore: true, fn() {} });
}

for (const name of folders) {
  Deno.test(`golden ${name}: engine output equals nvdsanalytics on every frame`, async () => {
    const dir = new URL(`${name}/`, GOLDEN);
    const scenario: Scenario = JSON.parse(await Deno.readTextFile(new URL("scenario.json", dir)));
    const { config } = await loadAnalyticsConfig(new URL(scenario.config, dir).pathname);
    const expectedLines = (await Deno.readTextFile(new URL("expected.jsonl", dir)))
      .split("\n")
      .filter((l) => l.trim() !== "");
    if (expectedLines.length !== scenario.frames) {
      throw new Error(
        `${name}: expected.jsonl has ${expectedLines.length} lines for ${scenario.frames} frames`,
      );
    }

    const engine = new AnalyticsEngine(config, {
      streamId: 0,
      frameWidth: scenario.width,
      frameHeight: scenario.height,
    });
    let index = 0;
    for await (
      const frame of readMotTracks(new URL(scenario.tracks, dir).pathname, {
        fps: scenario.fps,
        width: scenario.width,
        height: scenario.height,
        frameCount: scenario.frames,
      })
    ) {
      const analytics = engine.process(frame);
      const actual = toGolden(frame, analytics, engine.lastObjectCountTies);
      const expected = parseExpected(expectedLines[index]);
      const difference = firstDifference(expected, actual, "");
      if (difference) {
        const objects = (expected.objects as { id: bigint }[]).map((o) => String(o.id)).join(",");
        throw new Error(
          `${name}: first difference at frame ${frame.frameNumber} (line ${
            index + 1
          } of expected.jsonl), ` +
            `field ${difference.slice(1)}\n  objects in frame (ids): ${objects}`,
        );
      }
      index++;
    }
    if (index !== scenario.frames) {
      throw new Error(`${name}: ${index} frames read, ${scenario.frames} expected`);
    }
  });
}
