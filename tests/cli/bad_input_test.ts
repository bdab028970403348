/**
 * Bad input on the command line: each case ends with one line on stderr that names the
 * value and what to do, and a distinct exit code, and prints no message on stdout.
 */
import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { REPOSITORY_ROOT, runCli } from "../fixtures/run_cli.ts";

const CONFIG = `${REPOSITORY_ROOT}/configs/car-detection.txt`;
const VIDEO = `${REPOSITORY_ROOT}/samples/car-detection.mp4`;

const scratch = await Deno.makeTempDir({ prefix: "dskafka-bad-input-" });
const emptyFile = `${scratch}/empty.mp4`;
const textFile = `${scratch}/notes.mp4`;
const truncated = `${scratch}/truncated.mp4`;
await Deno.writeFile(emptyFile, new Uint8Array());
await Deno.writeTextFile(textFile, "this is not a video\n".repeat(100));
const videoBytes = await Deno.readFile(VIDEO);
await Deno.writeFile(truncated, videoBytes.subarray(0, 4096));

interface Case {
  name: string;
  args: string[];
  exitCode: number;
  message: RegExp;
}

const CASES: Case[] = [
  {
    name: "missing input file",
    args: ["--input", "/nonexistent/gate.mp4", "--analytics-config", CONFIG],
    exitCode: ExitCode.InputNotFound,
    message: /input file "\/nonexistent\/gate\.mp4" was not found: check the path/,
  },
  {
    name: "missing file:// input",
    args: ["--input", "file:///nonexistent/gate.mp4", "--analytics-config", CONFIG],
    exitCode: ExitCode.InputNotFound,
    message: /input file "file:\/\/\/nonexistent\/gate\.mp4" was not found/,
  },
  {
    name: "unsupported URI scheme",
    args: ["--input", "ftp://127.0.0.1/gate.mp4", "--analytics-config", CONFIG],
    exitCode: ExitCode.UnsupportedInput,
    message: /input "ftp:\/\/127\.0\.0\.1\/gate\.mp4" has the unsupported scheme "ftp": use a file path/,
  },
  {
    name: "empty file",
    args: ["--input", emptyFile, "--analytics-config", CONFIG],
    exitCode: ExitCode.InvalidMedia,
    message: /input file ".*empty\.mp4" is empty: give a video file/,
  },
  {
    name: "text file instead of a video",
    args: ["--input", textFile, "--analytics-config", CONFIG],
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*notes\.mp4" is not a video \(.*\): give a file or stream with a video track/,
  },
  {
    name: "truncated video",
    args: ["--input", truncated, "--analytics-config", CONFIG],
    exitCode: ExitCode.InvalidMedia,
    message: /input ".*truncated\.mp4" (could not be decoded|is not a video)/,
  },
  {
    name: "directory instead of a file",
    args: ["--input", scratch, "--analytics-config", CONFIG],
    exitCode: ExitCode.InvalidMedia,
    message: /is not a regular file: give a video file/,
  },
  {
    name: "missing analytics config",
    args: ["--input", VIDEO, "--analytics-config", "/nonexistent/analytics.txt"],
    exitCode: ExitCode.InvalidConfig,
    message: /\/nonexistent\/analytics\.txt/,
  },
  {
    name: "no --analytics-config",
    args: ["--input", VIDEO],
    exitCode: ExitCode.Usage,
    message: /--analytics-config is missing: give the nvdsanalytics config file/,
  },
  {
    name: "no input",
    args: ["--analytics-config", CONFIG],
    exitCode: ExitCode.Usage,
    message: /no input: give one or more --input URI/,
  },
  {
    name: "unknown option",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--frobnicate"],
    exitCode: ExitCode.Usage,
    message: /^dskafka: unknown option --frobnicate: see dskafka --help$/,
  },
  {
    name: "negative --max-frames",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--max-frames", "-3"],
    exitCode: ExitCode.Usage,
    message: /option --max-frames needs a value \(write --max-frames=VALUE when the value starts with -\)/,
  },
  {
    name: "invalid --max-frames",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--max-frames", "ten"],
    exitCode: ExitCode.Usage,
    message: /--max-frames "ten" is invalid: use a whole number >= 1/,
  },
  {
    name: "more device ids than inputs",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--device-id", "a", "--device-id", "b"],
    exitCode: ExitCode.Usage,
    message: /2 --device-id values for 1 inputs: give at most one per input/,
  },
  {
    name: "invalid --backend",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--backend", "gpu"],
    exitCode: ExitCode.Usage,
    message: /--backend "gpu" is invalid: use auto, cpu or deepstream/,
  },
  {
    name: "nvmsgbroker sink on the cpu backend",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--backend", "cpu", "--sink", "nvmsgbroker"],
    exitCode: ExitCode.Usage,
    message: /--sink needs the deepstream backend, but this run uses cpu/,
  },
  {
    name: "infer config without the deepstream backend",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--infer-config", CONFIG],
    exitCode: ExitCode.Usage,
    message: /--infer-config needs the deepstream backend, but this run uses cpu/,
  },
  {
    name: "odd processing size",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--processing-size", "641x360"],
    exitCode: ExitCode.Usage,
    message: /--processing-size "641x360" is invalid: use even WIDTHxHEIGHT/,
  },
  {
    name: "deepstream backend without the SDK",
    args: ["--input", VIDEO, "--analytics-config", CONFIG, "--backend", "deepstream"],
    exitCode: ExitCode.BackendUnavailable,
    message: /--backend deepstream: DeepStream SDK not found/,
  },
];

for (const testCase of CASES) {
  Deno.test(`dskafka rejects ${testCase.name} with exit code ${testCase.exitCode}`, async () => {
    const run = await runCli(testCase.args);
    const errorLines = run.stderr.split("\n").filter((line) => line.startsWith("dskafka: "));

    assert.equal(run.code, testCase.exitCode, run.stderr);
    assert.equal(errorLines.length, 1, run.stderr);
    assert.match(errorLines[0], testCase.message);
    assert.doesNotMatch(run.stderr, /^\s+at /m, "a user error must not print a stack trace");
    assert.equal(run.messages.length, 0);
  });
}

Deno.test("dskafka keeps counting the good input when another input fails", async () => {
  const run = await runCli([
    "--input", VIDEO, "--input", textFile,
    "--analytics-config", CONFIG, "--emit", "frames:100",
  ]);

  assert.equal(run.code, ExitCode.InvalidMedia, run.stderr);
  const devices = new Set(run.messages.map((message) => message.deviceId));
  assert.deepEqual([...devices], ["car-detection"]);
  assert.equal((run.messages.at(-1)?.frame as { number: number }).number, 377);
});

Deno.test({
  name: "bad input scratch files are removed",
  fn: async () => await Deno.remove(scratch, { recursive: true }),
});
