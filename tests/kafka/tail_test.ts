/**
 * `dskafka tail` against the real local broker (`scripts/kafka/broker start`): the CLI
 * publishes a generated video's counts for two devices into a fresh topic, then tail
 * reads them back, with kcat as the independent reference. The table and message
 * helpers of tail are tested here too, with an injected writer.
 */

import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { parseCountsMessage } from "../../src/commands/_tail_message.ts";
import { LatestCounts, LiveTable, renderTable } from "../../src/commands/_tail_table.ts";
import { generateVideo, SCENARIOS } from "../fixtures/generate_video.ts";
import { cliEnvironment, REPOSITORY_ROOT, runCli } from "../fixtures/run_cli.ts";
import {
  BROKER,
  closedPort,
  freshTopic,
  type KcatRecord,
  readTopic,
  requireBroker,
} from "./_broker.ts";

/** One JSON line that tail prints when stdout is not a terminal. */
interface TailLine {
  deviceId: string;
  frame: number;
  timestamp: string;
  lines: Record<string, { current: number; cumulative: number }>;
  key: string | null;
  partition: number;
  offset: number;
}

/** The outcome of one `cli.ts tail` run. */
interface TailRun {
  code: number;
  lines: TailLine[];
  stderr: string;
}

/** A topic that the CLI filled with the two_way counts of devices gate-a and gate-b. */
interface ProducedTopic {
  topic: string;
  records: KcatRecord[];
  expectedCounts: Record<string, number>;
}

const DEVICES = ["gate-a", "gate-b"];

/** Runs `cli.ts tail ARGS` with stdout piped, so tail prints JSON lines. */
async function runTailCli(args: string[]): Promise<TailRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPOSITORY_ROOT}/cli.ts`, "tail", ...args],
    cwd: REPOSITORY_ROOT,
    env: cliEnvironment(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  const stderr = decoder.decode(output.stderr);
  const lines = decoder.decode(output.stdout)
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as TailLine);
  return { code: output.code, lines, stderr };
}

/**
 * Publishes the generated two_way video as two devices into a fresh topic with three
 * partitions, and reads the topic back with kcat.
 */
async function produceTwoDevices(label: string): Promise<ProducedTopic> {
  await requireBroker();
  const topic = freshTopic(label);
  const directory = await Deno.makeTempDir({ prefix: "dskafka-tail-" });
  try {
    const video = await generateVideo(SCENARIOS.two_way, directory);
    const streamZero = video.groundTruth.analyticsConfigText;
    const lineSection = streamZero.slice(streamZero.indexOf("[line-crossing-stream-0]"));
    const configPath = `${directory}/two_streams.txt`;
    await Deno.writeTextFile(
      configPath,
      `${streamZero}\n${
        lineSection.replace("[line-crossing-stream-0]", "[line-crossing-stream-1]")
      }`,
    );

    const run = await runCli([
      "--input",
      video.videoPath,
      "--input",
      video.videoPath,
      "--device-id",
      DEVICES[0],
      "--device-id",
      DEVICES[1],
      "--analytics-config",
      configPath,
      "--kafka",
      BROKER,
      "--topic",
      topic,
      "--create-topic",
      "--partitions",
      "3",
    ]);
    assert.equal(run.code, 0, `producer exit code ${run.code}, stderr: ${run.stderr}`);

    const records = await readTopic(topic);
    assert.ok(records.length > 0, `the producer wrote nothing, stderr: ${run.stderr}`);
    return { topic, records, expectedCounts: { ...video.groundTruth.expectedCounts } };
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

/** Appends records with kcat's producer, one per line of `lines`, all with key `key`. */
async function appendRecords(topic: string, key: string, lines: string[]): Promise<void> {
  const child = new Deno.Command("kcat", {
    args: ["-P", "-b", BROKER, "-t", topic, "-k", key],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.map((line) => line + "\n").join("")));
  await writer.close();

  const output = await child.output();
  assert.equal(output.code, 0, `kcat -P failed: ${new TextDecoder().decode(output.stderr)}`);
}

/** Checks one tail line against the kcat record at the same partition and offset. */
function assertMatchesRecord(line: TailLine, records: KcatRecord[]): void {
  const record = records.find((candidate) =>
    candidate.partition === line.partition && candidate.offset === line.offset
  );
  assert.ok(record, `no record at partition ${line.partition} offset ${line.offset}`);

  const payload = JSON.parse(record.payload ?? "null");
  const where = `partition ${line.partition} offset ${line.offset}`;
  assert.equal(line.key, record.key, `key at ${where}`);
  assert.equal(line.deviceId, payload.deviceId, `deviceId at ${where}`);
  assert.equal(line.frame, payload.frame.number, `frame at ${where}`);
  assert.equal(line.timestamp, payload["@timestamp"], `timestamp at ${where}`);
  assert.deepEqual(line.lines, expectedLines(payload), `lines at ${where}`);
}

/** The `lines` object tail should print for a message payload. */
function expectedLines(
  payload: { analyticsModule: Record<string, unknown> },
): Record<string, { current: number; cumulative: number }> {
  const lines: Record<string, { current: number; cumulative: number }> = {};
  for (const [field, value] of Object.entries(payload.analyticsModule)) {
    const match = /^lc_cum_(.+)$/.exec(field);
    if (match === null) continue;

    const label = match[1];
    lines[label] = {
      current: payload.analyticsModule[`lc_curr_${label}`] as number,
      cumulative: value as number,
    };
  }
  return lines;
}

/** Returns the last record of `deviceId` in offset order. */
function lastRecordOf(records: KcatRecord[], deviceId: string): KcatRecord {
  const ofDevice = records
    .filter((record) => record.key === deviceId)
    .sort((a, b) => a.offset - b.offset);
  assert.ok(ofDevice.length > 0, `no records of ${deviceId}`);
  return ofDevice[ofDevice.length - 1];
}

/** Checks that the latest tail line of each device equals that device's last record. */
function assertLatestPerDevice(lines: TailLine[], produced: ProducedTopic): void {
  for (const deviceId of DEVICES) {
    const ofDevice = lines.filter((line) => line.deviceId === deviceId);
    assert.ok(ofDevice.length > 0, `tail printed nothing for ${deviceId}`);
    const latest = ofDevice[ofDevice.length - 1];
    const lastRecord = lastRecordOf(produced.records, deviceId);

    assert.equal(latest.partition, lastRecord.partition, `${deviceId}: partition of the latest`);
    assert.equal(latest.offset, lastRecord.offset, `${deviceId}: offset of the latest`);
    assert.deepEqual(
      latest.lines,
      expectedLines(JSON.parse(lastRecord.payload ?? "null")),
      `${deviceId}: latest counts`,
    );
    for (const [label, expected] of Object.entries(produced.expectedCounts)) {
      assert.equal(latest.lines[label]?.cumulative, expected, `${deviceId}: cumulative ${label}`);
    }
  }
}

Deno.test("tail --max-messages shows the latest counts", async () => {
  const produced = await produceTwoDevices("tail-max");

  const run = await runTailCli([
    "--kafka",
    BROKER,
    "--topic",
    produced.topic,
    "--from-beginning",
    "--max-messages",
    String(produced.records.length),
  ]);

  assert.equal(run.code, ExitCode.Ok, `exit code ${run.code}, stderr: ${run.stderr}`);
  assert.equal(run.lines.length, produced.records.length, "one JSON line per record");
  for (const line of run.lines) assertMatchesRecord(line, produced.records);
  assertLatestPerDevice(run.lines, produced);
  assert.match(run.stderr, /\[tail\] stopped .*reason=max-messages/);
});

Deno.test("tail --conn-str --idle-timeout-ms reads everything", async () => {
  const produced = await produceTwoDevices("tail-idle");

  const run = await runTailCli([
    "--conn-str",
    `${BROKER.replace(":", ";")};${produced.topic}`,
    "--from-beginning",
    "--idle-timeout-ms",
    "3000",
  ]);

  assert.equal(run.code, ExitCode.Ok, `exit code ${run.code}, stderr: ${run.stderr}`);
  assert.equal(run.lines.length, produced.records.length, "one JSON line per record");
  assertLatestPerDevice(run.lines, produced);
  assert.match(run.stderr, /\[tail\] stopped .*reason=idle-timeout/);
});

Deno.test("tail skips records that are not dskafka messages", async () => {
  const produced = await produceTwoDevices("tail-skip");
  await appendRecords(produced.topic, "intruder", [
    "not json at all",
    JSON.stringify({ deviceId: "intruder", frame: { number: 1 } }),
  ]);
  const intruders = (await readTopic(produced.topic)).filter((record) => record.key === "intruder");
  assert.equal(intruders.length, 2);

  const run = await runTailCli([
    "--kafka",
    BROKER,
    "--topic",
    produced.topic,
    "--from-beginning",
    "--max-messages",
    String(produced.records.length + intruders.length),
  ]);

  assert.equal(run.code, ExitCode.Ok, `exit code ${run.code}, stderr: ${run.stderr}`);
  assert.equal(run.lines.length, produced.records.length, "skipped records print no line");
  assert.ok(run.lines.every((line) => line.key !== "intruder"), "no line for a skipped record");
  assertLatestPerDevice(run.lines, produced);
  for (const record of intruders) {
    const where = `topic=${produced.topic} partition=${record.partition} offset=${record.offset}`;
    assert.ok(
      run.stderr.includes(`record is not a dskafka message, skipped ${where}`),
      `no warning for ${where}, stderr: ${run.stderr}`,
    );
  }
  assert.match(run.stderr, /reason="the value is not JSON text"/);
  assert.match(run.stderr, /reason="\\"@timestamp\\" is missing or not a string"/);
  assert.match(run.stderr, /received=\d+ skipped=2/);
});

Deno.test("tail SIGTERM disconnects and exits 0", async () => {
  const produced = await produceTwoDevices("tail-signal");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${REPOSITORY_ROOT}/cli.ts`,
      "tail",
      "--kafka",
      BROKER,
      "--topic",
      produced.topic,
      "--from-beginning",
    ],
    cwd: REPOSITORY_ROOT,
    env: cliEnvironment(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  // A watchdog, not a timing check: a tail that never prints every record ends the
  // test with a failure instead of hanging it.
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 120_000);

  // Wait until every record has been printed, so the signal arrives while tail idles.
  let stdout = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (stdout.split("\n").length - 1 < produced.records.length) {
    const chunk = await reader.read();
    if (chunk.done) break;
    stdout += chunk.value;
  }
  if (stdout.split("\n").length - 1 >= produced.records.length) child.kill("SIGTERM");
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    stdout += chunk.value;
  }
  const status = await child.status;
  const stderr = await stderrText;
  clearTimeout(watchdog);

  assert.equal(status.code, ExitCode.Ok, `exit code ${status.code}, stderr: ${stderr}`);
  assert.equal(stdout.trim().split("\n").length, produced.records.length);
  assert.match(stderr, /\[tail\] stopped .*reason=signal/);
});

Deno.test("tail unreachable broker exits 8 naming it", async () => {
  const broker = `127.0.0.1:${closedPort()}`;

  const run = await runTailCli(["--kafka", broker, "--topic", freshTopic("tail-nobroker")]);

  assert.equal(run.code, ExitCode.KafkaUnavailable, `stderr: ${run.stderr}`);
  assert.equal(run.lines.length, 0);
  const errorLines = run.stderr.split("\n").filter((line) => line.startsWith("dskafka: "));
  assert.equal(errorLines.length, 1, `one error line expected, stderr: ${run.stderr}`);
  assert.ok(
    errorLines[0].includes(`cannot connect to Kafka broker(s) ${broker}`),
    errorLines[0],
  );
  assert.doesNotMatch(run.stderr, /^\s+at /m, "no stack trace");
});

Deno.test("tail missing topic exits 9 naming it", async () => {
  await requireBroker();
  const topic = freshTopic("tail-missing");

  const run = await runTailCli(["--kafka", BROKER, "--topic", topic]);

  assert.equal(run.code, ExitCode.TopicMissing, `stderr: ${run.stderr}`);
  assert.match(
    run.stderr,
    new RegExp(`dskafka: Kafka topic "${topic}" does not exist on ${BROKER}`),
  );
});

Deno.test("tail invalid options exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /tail needs a topic: give --kafka HOST:PORT --topic NAME/],
    [["--kafka", BROKER], /--kafka needs --topic NAME/],
    [["--kafka", BROKER, "--topic", "t", "--max-messages", "0"], /--max-messages "0" is invalid/],
    [["--kafka", BROKER, "--topic", "t", "--idle-timeout-ms", "1s"], /--idle-timeout-ms "1s"/],
    [["--kafka", BROKER, "--topic", "t", "--create-topic"], /--create-topic.*dskafka tail --help/],
    [["--conn-str", "localhost;9092"], /has no topic/],
  ];

  for (const [args, expected] of cases) {
    const run = await runTailCli(args);
    assert.equal(run.code, ExitCode.Usage, `${args.join(" ")}: stderr ${run.stderr}`);
    assert.match(run.stderr, expected, args.join(" "));
  }
});

Deno.test("tail --help prints the usage", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPOSITORY_ROOT}/cli.ts`, "tail", "--help"],
    cwd: REPOSITORY_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);

  assert.equal(output.code, 0);
  assert.match(text, /dskafka tail --kafka HOST:PORT/);
  for (const option of ["--from-beginning", "--max-messages", "--idle-timeout-ms", "--conn-str"]) {
    assert.ok(text.includes(option), `--help lacks ${option}`);
  }
});

Deno.test("parseCountsMessage() rejects other records", () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const valid = {
    deviceId: "gate-1",
    "@timestamp": "2024-05-01T12:00:00.000Z",
    frame: { streamId: 0, number: 30, ptsMs: 1000 },
    analyticsModule: { lc_curr_Up: 1, lc_cum_Up: 3, lc_curr_Down: 0, lc_cum_Down: 2 },
  };

  const parsed = parseCountsMessage(encode(valid));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.update.lines, {
    Up: { current: 1, cumulative: 3 },
    Down: { current: 0, cumulative: 2 },
  });

  const cases: [Uint8Array | null, RegExp][] = [
    [null, /tombstone/],
    [new TextEncoder().encode("{"), /not JSON/],
    [new Uint8Array([0xff, 0xfe]), /not JSON/],
    [encode([1, 2]), /not a JSON object/],
    [encode({ ...valid, deviceId: "" }), /"deviceId"/],
    [encode({ ...valid, frame: { number: 1.5 } }), /"frame.number"/],
    [encode({ ...valid, "@timestamp": 5 }), /"@timestamp"/],
    [encode({ ...valid, analyticsModule: null }), /"analyticsModule"/],
    [encode({ ...valid, analyticsModule: { lc_cum_Up: -1 } }), /"analyticsModule.lc_cum_Up"/],
  ];
  for (const [value, reason] of cases) {
    const result = parseCountsMessage(value);
    assert.equal(result.ok, false, `accepted ${value && new TextDecoder().decode(value)}`);
    if (!result.ok) assert.match(result.reason, reason);
  }
});

Deno.test("renderTable() one row per device and line", () => {
  const counts = new LatestCounts();
  const position = { key: null, partition: 0, offset: 0 };
  counts.update({
    deviceId: "gate-b",
    frame: 90,
    timestamp: "2024-05-01T12:00:03.000Z",
    lines: { In: { current: 0, cumulative: 12 } },
  }, position);
  counts.update({
    deviceId: "gate-a",
    frame: 30,
    timestamp: "2024-05-01T12:00:01.000Z",
    lines: { Up: { current: 1, cumulative: 1 }, Down: { current: 0, cumulative: 0 } },
  }, position);
  counts.update({
    deviceId: "gate-a",
    frame: 60,
    timestamp: "2024-05-01T12:00:02.000Z",
    lines: { Up: { current: 2, cumulative: 3 } },
  }, position);
  counts.update({ deviceId: "cam", frame: 5, timestamp: "t", lines: {} }, position);

  assert.deepEqual(renderTable(counts, "topic counts"), [
    "topic counts",
    "DEVICE  LINE  CURRENT  CUMULATIVE  FRAME  TIMESTAMP",
    "cam     -           -           -      5  t",
    "gate-a  Up          2           3     60  2024-05-01T12:00:02.000Z",
    "gate-a  Down        0           0     60  2024-05-01T12:00:02.000Z",
    "gate-b  In          0          12     90  2024-05-01T12:00:03.000Z",
  ]);
});

Deno.test("LiveTable.draw() redraws in place", () => {
  const written: string[] = [];
  const table = new LiveTable((text) => written.push(text), () => 10);

  table.draw(["first", "a line longer than the terminal"]);
  table.draw(["one"]);
  table.erase();
  table.erase();

  assert.deepEqual(written, [
    "first\na line lo\n",
    "\r\x1b[2A\x1b[Jone\n",
    "\r\x1b[1A\x1b[J",
  ]);
});
