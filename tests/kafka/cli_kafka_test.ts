/**
 * End-to-end through Kafka: `cli.ts` decodes a video, counts line crossings and publishes
 * to the real local broker (`scripts/kafka/broker start`). kcat reads the topic back as
 * an independent client. Every record is checked against the schema and the key, each
 * device's sequence is checked for order and consistent counts, and the counts are
 * compared with what the stdout sink prints for the same input. Each test uses a fresh
 * topic with three partitions.
 */

import assert from "node:assert/strict";

import { generateVideo, SCENARIOS } from "../fixtures/generate_video.ts";
import { assertValidMessage } from "../fixtures/message_schema.ts";
import { analyticsCounts, REPOSITORY_ROOT, runCli } from "../fixtures/run_cli.ts";
import { sharedDataPath } from "../fixtures/shared_data.ts";
import {
  BROKER,
  freshTopic,
  header,
  type KcatRecord,
  readTopic,
  requireBroker,
} from "./_broker.ts";

/** The delivery counters of the `[kafka] closed` log line. */
interface ClosedSummary {
  topic: string;
  sent: number;
  acknowledged: number;
  failed: number;
}

/** One published message with where kcat found it. */
interface PublishedMessage {
  record: KcatRecord;
  payload: Record<string, unknown>;
}

/** A CLI run that published to Kafka, and what kcat read back. */
interface KafkaRun {
  topic: string;
  summary: ClosedSummary;
  records: KcatRecord[];
  stderr: string;
}

const CLOSED_LINE =
  /dskafka info \[kafka\] closed topic=(\S+) sent=(\d+) acknowledged=(\d+) failed=(\d+)/;

function parseClosedLine(stderr: string): ClosedSummary {
  const match = CLOSED_LINE.exec(stderr);
  assert.ok(match, `no "[kafka] closed" line on stderr:\n${stderr}`);
  return {
    topic: match[1],
    sent: Number(match[2]),
    acknowledged: Number(match[3]),
    failed: Number(match[4]),
  };
}

/** Runs the CLI with `args` into a fresh topic of three partitions and reads it back. */
async function publishToKafka(args: string[], label: string): Promise<KafkaRun> {
  await requireBroker();
  const topic = freshTopic(label);

  const run = await runCli([
    ...args,
    "--kafka",
    BROKER,
    "--topic",
    topic,
    "--create-topic",
    "--partitions",
    "3",
  ]);

  assert.equal(run.code, 0, `exit code ${run.code}, stderr: ${run.stderr}`);
  assert.equal(run.messages.length, 0, "with --kafka nothing is printed on stdout");
  const summary = parseClosedLine(run.stderr);
  assert.equal(summary.topic, topic);
  assert.equal(summary.failed, 0, `failed messages, stderr: ${run.stderr}`);
  assert.equal(summary.sent, summary.acknowledged, "every sent message is acknowledged");

  const records = await readTopic(topic);
  return { topic, summary, records, stderr: run.stderr };
}

/**
 * Checks every record and each device's sequence, and returns the messages per device
 * in offset order.
 */
function assertConsistentRecords(run: KafkaRun): Map<string, PublishedMessage[]> {
  assert.equal(
    run.records.length,
    run.summary.acknowledged,
    "kcat reads as many records as the CLI reports acknowledged",
  );

  const byDevice = new Map<string, PublishedMessage[]>();
  for (const record of run.records) {
    assert.ok(record.payload !== null, `record without payload at offset ${record.offset}`);
    const payload = JSON.parse(record.payload) as Record<string, unknown>;
    assertValidMessage(payload);
    assert.equal(record.key, payload.deviceId, `key of the record at offset ${record.offset}`);
    assert.equal(header(record, "messageid"), payload.messageid, "messageid header");

    const deviceId = payload.deviceId as string;
    if (!byDevice.has(deviceId)) byDevice.set(deviceId, []);
    byDevice.get(deviceId)!.push({ record, payload });
  }

  for (const [deviceId, messages] of byDevice) {
    const partitions = new Set(messages.map((message) => message.record.partition));
    assert.equal(partitions.size, 1, `${deviceId} spread over partitions ${[...partitions]}`);
    messages.sort((a, b) => a.record.offset - b.record.offset);
    assertDeviceSequence(deviceId, messages.map((message) => message.payload));
  }
  return byDevice;
}

/**
 * Checks one device's messages in the order they were sent: frame numbers increase,
 * each lc_cum never decreases, and the lc_curr values add up to the final lc_cum.
 */
function assertDeviceSequence(deviceId: string, messages: Record<string, unknown>[]): void {
  assert.ok(messages.length > 0, `no messages of ${deviceId}`);

  let previousFrame = 0;
  const previousCumulative = new Map<string, number>();
  const sumOfCurrent = new Map<string, number>();
  for (const message of messages) {
    const frame = (message.frame as { number: number }).number;
    assert.ok(frame > previousFrame, `${deviceId}: frame ${frame} after frame ${previousFrame}`);
    previousFrame = frame;

    for (const [field, value] of Object.entries(analyticsCounts(message))) {
      const cumulative = /^lc_cum_(.+)$/.exec(field);
      if (cumulative) {
        const label = cumulative[1];
        const before = previousCumulative.get(label) ?? 0;
        assert.ok(value >= before, `${deviceId}: ${field} fell from ${before} to ${value}`);
        previousCumulative.set(label, value);
      }
      const current = /^lc_curr_(.+)$/.exec(field);
      if (current) sumOfCurrent.set(current[1], (sumOfCurrent.get(current[1]) ?? 0) + value);
    }
  }

  const last = analyticsCounts(messages[messages.length - 1]);
  for (const [label, sum] of sumOfCurrent) {
    assert.equal(sum, last[`lc_cum_${label}`], `${deviceId}: sum of lc_curr_${label}`);
  }
}

/** Lists the frame number, message id and line counts of each message, in frame order. */
function countsByFrame(
  messages: Record<string, unknown>[],
): [number, string, Record<string, number>][] {
  return messages
    .map((message) =>
      [
        (message.frame as { number: number }).number,
        message.messageid as string,
        analyticsCounts(message),
      ] as [number, string, Record<string, number>]
    )
    .sort((a, b) => a[0] - b[0]);
}

/**
 * Runs the CLI on `args` again without Kafka and requires the same messages per device:
 * the same frame numbers, message ids and line counts.
 */
async function assertSameAsStdout(
  args: string[],
  byDevice: Map<string, PublishedMessage[]>,
): Promise<void> {
  const run = await runCli(args);
  assert.equal(run.code, 0, `stdout run: exit code ${run.code}, stderr: ${run.stderr}`);

  const stdoutDevices = new Set(run.messages.map((message) => message.deviceId as string));
  assert.deepEqual([...stdoutDevices].sort(), [...byDevice.keys()].sort(), "devices");

  for (const [deviceId, published] of byDevice) {
    const printed = run.messages.filter((message) => message.deviceId === deviceId);
    assert.deepEqual(
      countsByFrame(published.map((message) => message.payload)),
      countsByFrame(printed),
      `${deviceId}: Kafka messages differ from the stdout sink's`,
    );
  }
}

function lastCounts(messages: PublishedMessage[]): Record<string, number> {
  return analyticsCounts(messages[messages.length - 1].payload);
}

async function requireSharedVideo(name: string): Promise<string> {
  const path = sharedDataPath(name);
  await Deno.stat(path).catch((error) => {
    throw new Error(`test video ${path} not found; set DSKAFKA_SHARED to the shared directory`, {
      cause: error,
    });
  });
  return path;
}

Deno.test("cli.ts --kafka generated two_way video", async () => {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-kafka-e2e-" });
  try {
    const video = await generateVideo(SCENARIOS.two_way, directory);
    const args = ["--input", video.videoPath, "--analytics-config", video.analyticsConfigPath];

    const run = await publishToKafka(args, "two-way");
    const byDevice = assertConsistentRecords(run);

    assert.deepEqual([...byDevice.keys()], ["two_way"]);
    const last = lastCounts(byDevice.get("two_way")!);
    for (const [label, expected] of Object.entries(video.groundTruth.expectedCounts)) {
      assert.equal(last[`lc_cum_${label}`], expected, `final lc_cum_${label}`);
    }
    await assertSameAsStdout(args, byDevice);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("cli.ts --kafka car-detection video", async () => {
  const videoPath = await requireSharedVideo("car-detection.mp4");
  const args = [
    "--input",
    videoPath,
    "--analytics-config",
    `${REPOSITORY_ROOT}/configs/car-detection.txt`,
  ];

  const run = await publishToKafka(args, "car-detection");
  const byDevice = assertConsistentRecords(run);

  assert.deepEqual([...byDevice.keys()], ["car-detection"]);
  // The expected counts were established by eye, and the CPU detector may be off by one.
  const last = lastCounts(byDevice.get("car-detection")!);
  for (const [label, expected] of Object.entries({ Up: 2, Down: 2 })) {
    const actual = last[`lc_cum_${label}`];
    assert.ok(
      Math.abs(actual - expected) <= 1,
      `lc_cum_${label} ${actual}, expected ${expected} ± 1`,
    );
  }
  await assertSameAsStdout(args, byDevice);
});

Deno.test("cli.ts --kafka one-by-one-person-detection video", async () => {
  const videoPath = await requireSharedVideo("one-by-one-person-detection.mp4");
  const args = [
    "--input",
    videoPath,
    "--analytics-config",
    `${REPOSITORY_ROOT}/configs/one-by-one-person-detection.txt`,
  ];

  const run = await publishToKafka(args, "one-by-one");
  const byDevice = assertConsistentRecords(run);

  assert.deepEqual([...byDevice.keys()], ["one-by-one-person-detection"]);
  const last = lastCounts(byDevice.get("one-by-one-person-detection")!);
  for (const [label, expected] of Object.entries({ In: 6, Out: 6 })) {
    const actual = last[`lc_cum_${label}`];
    assert.ok(
      Math.abs(actual - expected) <= 1,
      `lc_cum_${label} ${actual}, expected ${expected} ± 1`,
    );
  }
  await assertSameAsStdout(args, byDevice);
});

Deno.test("cli.ts --kafka two inputs keyed by device", async () => {
  const directory = await Deno.makeTempDir({ prefix: "dskafka-kafka-e2e-" });
  try {
    const video = await generateVideo(SCENARIOS.two_way, directory);
    // The same lines for stream 1 as for stream 0, so both devices count the same.
    const streamZero = video.groundTruth.analyticsConfigText;
    const lineSection = streamZero.slice(streamZero.indexOf("[line-crossing-stream-0]"));
    const configPath = `${directory}/two_streams.txt`;
    await Deno.writeTextFile(
      configPath,
      `${streamZero}\n${
        lineSection.replace("[line-crossing-stream-0]", "[line-crossing-stream-1]")
      }`,
    );
    const args = [
      "--input",
      video.videoPath,
      "--input",
      video.videoPath,
      "--device-id",
      "gate-a",
      "--device-id",
      "gate-b",
      "--analytics-config",
      configPath,
    ];

    const run = await publishToKafka(args, "two-inputs");
    const byDevice = assertConsistentRecords(run);

    assert.deepEqual([...byDevice.keys()].sort(), ["gate-a", "gate-b"]);
    for (const [deviceId, messages] of byDevice) {
      const keys = new Set(messages.map((message) => message.record.key));
      assert.deepEqual([...keys], [deviceId], `keys of ${deviceId}'s records`);

      const streamIds = new Set(
        messages.map((message) => (message.payload.frame as { streamId: number }).streamId),
      );
      assert.deepEqual([...streamIds], [deviceId === "gate-a" ? 0 : 1], `stream of ${deviceId}`);

      const last = lastCounts(messages);
      for (const [label, expected] of Object.entries(video.groundTruth.expectedCounts)) {
        assert.equal(last[`lc_cum_${label}`], expected, `${deviceId}: final lc_cum_${label}`);
      }
    }
    await assertSameAsStdout(args, byDevice);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
