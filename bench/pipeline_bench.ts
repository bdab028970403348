/**
 * CPU backend throughput against decode-only throughput of the same file, measured in
 * the same run, alternating, so that both see the same machine load.
 *
 *   deno run -A bench/pipeline_bench.ts [VIDEO] [--runs N] [--config FILE]
 *
 * - decode only: `gst-launch-1.0 uridecodebin ! fakesink sync=false`, wall time of the
 *   process minus its start-up on a one-frame run (`num-buffers` cannot bound a
 *   uridecodebin, so start-up is measured on a pipeline that ends at once);
 * - CPU backend: the whole job in-process (shim decode + motion detection, tracker,
 *   analytics engine, messages built and discarded), timed from the first poll to the
 *   end of the stream.
 *
 * Prints a markdown table with the median of each and their ratio.
 *
 * @module
 */

import { parseArgs } from "node:util";

import { loadAnalyticsConfig } from "../src/analytics/config.ts";
import { parseEmitPolicy } from "../src/emit/policy.ts";
import { logSettings } from "../src/log.ts";
import { runStreams } from "../src/run.ts";
import { DiscardSink } from "../src/sink/discard.ts";
import { resolveInput } from "../src/source/input.ts";
import { openVideoSource } from "../src/source/video.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    runs: { type: "string", default: "5" },
    config: { type: "string", default: "configs/one-by-one-person-detection.txt" },
  },
});
const video = positionals[0] ?? new URL("../../shared/data/one-by-one-person-detection.mp4", import.meta.url).pathname;
const runs = Number(values.runs);
logSettings.level = "warn";

async function decodeOnlySeconds(uri: string): Promise<{ seconds: number }> {
  const started = performance.now();
  const result = await new Deno.Command("gst-launch-1.0", {
    args: ["-q", "uridecodebin", `uri=${uri}`, "caps=video/x-raw", "!", "fakesink", "sync=false"],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!result.success) throw new Error(new TextDecoder().decode(result.stderr));
  return { seconds: (performance.now() - started) / 1000 };
}

async function startupSeconds(): Promise<number> {
  const started = performance.now();
  await new Deno.Command("gst-launch-1.0", {
    args: ["-q", "videotestsrc", "num-buffers=1", "!", "fakesink"],
    stdout: "null",
    stderr: "null",
  }).output();
  return (performance.now() - started) / 1000;
}

async function cpuBackendSeconds(path: string, configPath: string): Promise<{ seconds: number; frames: number }> {
  const input = await resolveInput(path);
  const { config } = await loadAnalyticsConfig(configPath);
  const source = openVideoSource([input], { backend: "cpu" });

  const started = performance.now();
  const result = await runStreams({
    streams: [{ input: path, deviceId: "bench", sessionKey: "bench" }],
    source,
    sink: new DiscardSink(),
    analyticsConfig: config,
    emit: parseEmitPolicy("frames:30"),
  });
  const seconds = (performance.now() - started) / 1000;
  await source.close();
  return { seconds, frames: result.streams[0].frames };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const input = await resolveInput(video);
const decodeFps: number[] = [];
const cpuFps: number[] = [];
let frames = 0;

for (let run = 0; run < runs; run++) {
  const startup = await startupSeconds();
  const cpu = await cpuBackendSeconds(video, values.config);
  frames = cpu.frames;
  const decode = await decodeOnlySeconds(input.uri);

  decodeFps.push(frames / Math.max(decode.seconds - startup, 1e-3));
  cpuFps.push(frames / cpu.seconds);
  console.error(`run ${run + 1}: decode only ${decodeFps.at(-1)!.toFixed(0)} fps, cpu backend ${cpuFps.at(-1)!.toFixed(0)} fps`);
}

const decodeMedian = median(decodeFps);
const cpuMedian = median(cpuFps);
console.log(`| measurement | frames/s (median of ${runs}) |`);
console.log("| --- | --- |");
console.log(`| decode only (gst-launch uridecodebin ! fakesink) | ${decodeMedian.toFixed(0)} |`);
console.log(`| CPU backend, whole job (decode, detect, track, analytics, messages) | ${cpuMedian.toFixed(0)} |`);
console.log(`| ratio | ${(cpuMedian / decodeMedian).toFixed(2)} |`);
console.log(`\n${frames} frames of ${video}`);
