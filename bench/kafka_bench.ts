/**
 * Benchmark of KafkaSink against kcat (librdkafka) producing the same payloads to the
 * same broker in the same run. Prints a markdown table.
 *
 * Two phases, each run once per client on its own fresh topic:
 *
 * 1. Throughput: `--messages` payloads as fast as the client takes them, timed from
 *    the start of the connection to the last acknowledgement. For KafkaSink that is
 *    connect, send all and close. For kcat it is the process from start to exit,
 *    because kcat waits for every delivery report before it exits.
 * 2. Latency: `--rate` messages per second for `--seconds`, offered in 10 ms ticks by
 *    the same loop for both clients. Each payload carries its send time, and the topic
 *    stamps each record with the broker's append time (LogAppendTime), so
 *    "send → append" is measured the same way for both clients, at 1 ms resolution.
 *    For KafkaSink the send → acknowledgement time of each `send()` is reported too.
 *
 * Both clients use acks=all, an idempotent producer, linger 5 ms and no compression.
 *
 * Usage: deno run -A bench/kafka_bench.ts [--brokers 127.0.0.1:9092] [--messages 100000]
 *          [--rate 1000] [--seconds 5]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";

import { logSettings } from "../src/log.ts";
import { KafkaSink } from "../src/sink/kafka.ts";
import type { OutgoingMessage } from "../src/sink/sink.ts";

const DEVICES = ["cam-01", "cam-02", "cam-03", "cam-04"];
const LINGER_MS = 5;
const TICK_MS = 10;

const { values } = parseArgs({
  options: {
    brokers: {
      type: "string",
      default: `127.0.0.1:${Deno.env.get("DSKAFKA_KAFKA_PORT") ?? "9092"}`,
    },
    messages: { type: "string", default: "100000" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "5" },
  },
});
const brokers = values.brokers;
const messageCount = Number(values.messages);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
logSettings.level = "warn";

/** Builds an analytics message like the ones dskafka emits, about 330 bytes of JSON. */
function analyticsMessage(sequence: number, sentAt?: number): OutgoingMessage {
  const deviceId = DEVICES[sequence % DEVICES.length];
  const messageId = `${deviceId}-${String(sequence).padStart(9, "0")}`;
  const payload = JSON.stringify({
    messageid: messageId,
    "@timestamp": "2026-12-04T20:00:00.000Z",
    deviceId,
    analyticsModule: {
      id: "XYZ",
      description: "line crossing and ROI counts",
      source: "dskafka",
      version: "1.0",
      lc_curr_Entry: sequence % 3,
      lc_cum_Entry: sequence,
      lc_curr_Exit: sequence % 2,
      lc_cum_Exit: sequence >> 1,
      roi_RF: 4,
    },
    sentAt: sentAt ?? 0,
  });
  return { deviceId, messageId, payload };
}

async function createTopic(topic: string, logAppendTime: boolean): Promise<void> {
  const kafka = new Kafka({
    clientId: "dskafka-bench",
    brokers: [brokers],
    logLevel: logLevel.WARN,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{
        topic,
        numPartitions: DEVICES.length,
        replicationFactor: 1,
        configEntries: logAppendTime
          ? [{ name: "message.timestamp.type", value: "LogAppendTime" }]
          : [],
      }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

function freshTopic(label: string): string {
  return `dskafka-bench-${label}-${crypto.randomUUID().slice(0, 8)}`;
}

// kcat settings that match KafkaSink's.
function kcatProducerArgs(topic: string): string[] {
  return [
    "-P",
    "-b",
    brokers,
    "-t",
    topic,
    "-K",
    "\t",
    "-H",
    "messageid=cam-00-000000000",
    "-X",
    "acks=all",
    "-X",
    "enable.idempotence=true",
    "-X",
    `linger.ms=${LINGER_MS}`,
  ];
}

function kcatLine(message: OutgoingMessage): string {
  return `${message.deviceId}\t${message.payload}\n`;
}

async function sinkThroughput(): Promise<number> {
  const topic = freshTopic("sink-rate");
  await createTopic(topic, false);
  const messages = Array.from({ length: messageCount }, (_, i) => analyticsMessage(i));

  const start = performance.now();
  const sink = await KafkaSink.connect({ brokers: [brokers], topic, lingerMs: LINGER_MS });
  await Promise.all(messages.map((message) => sink.send(message)));
  await sink.close();
  const elapsed = (performance.now() - start) / 1000;

  check(
    sink.stats().acknowledged === messageCount,
    `KafkaSink acknowledged ${sink.stats().acknowledged}`,
  );
  return elapsed;
}

async function kcatThroughput(): Promise<number> {
  const topic = freshTopic("kcat-rate");
  await createTopic(topic, false);
  const dir = await Deno.makeTempDir({ prefix: "dskafka-bench-" });
  const input = `${dir}/input.txt`;
  const lines = Array.from({ length: messageCount }, (_, i) => kcatLine(analyticsMessage(i)));
  await Deno.writeTextFile(input, lines.join(""));

  try {
    const start = performance.now();
    const output = await new Deno.Command("kcat", {
      args: [...kcatProducerArgs(topic), "-l", input],
      stdout: "null",
      stderr: "piped",
    }).output();
    const elapsed = (performance.now() - start) / 1000;

    check(output.code === 0, `kcat failed: ${new TextDecoder().decode(output.stderr)}`);
    return elapsed;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// Calls `offer(sequence, sentAt)` for `rate` messages per second, in 10 ms ticks.
async function paced(offer: (sequence: number, sentAt: number) => void): Promise<void> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sequence = 0;

  while (sequence < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; sequence < due; sequence++) offer(sequence, Date.now());
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
}

interface LatencyResult {
  appendMs: number[];
  ackMs?: number[];
}

async function sinkLatency(): Promise<LatencyResult> {
  const topic = freshTopic("sink-latency");
  await createTopic(topic, true);
  const sink = await KafkaSink.connect({ brokers: [brokers], topic, lingerMs: LINGER_MS });
  const ackMs: number[] = [];
  const sends: Promise<void>[] = [];

  await paced((sequence, sentAt) => {
    const started = performance.now();
    sends.push(
      sink.send(analyticsMessage(sequence, sentAt)).then(() => {
        ackMs.push(performance.now() - started);
      }),
    );
  });
  await Promise.all(sends);
  await sink.close();

  return { appendMs: await appendLatencies(topic), ackMs };
}

async function kcatLatency(): Promise<LatencyResult> {
  const topic = freshTopic("kcat-latency");
  await createTopic(topic, true);
  const child = new Deno.Command("kcat", {
    args: kcatProducerArgs(topic),
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const writes: Promise<void>[] = [];

  await paced((sequence, sentAt) => {
    writes.push(writer.write(encoder.encode(kcatLine(analyticsMessage(sequence, sentAt)))));
  });
  await Promise.all(writes);
  await writer.close();
  const output = await child.output();
  check(output.code === 0, `kcat failed: ${new TextDecoder().decode(output.stderr)}`);

  return { appendMs: await appendLatencies(topic) };
}

// Reads a LogAppendTime topic with kcat and returns append time minus send time.
async function appendLatencies(topic: string): Promise<number[]> {
  const output = await new Deno.Command("kcat", {
    args: ["-C", "-b", brokers, "-t", topic, "-e", "-q", "-J", "-o", "beginning"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  check(output.code === 0, `kcat -C failed: ${new TextDecoder().decode(output.stderr)}`);

  const records = new TextDecoder().decode(output.stdout).split("\n").filter((line) => line);
  const expected = Math.round(rate * seconds);
  check(records.length === expected, `topic ${topic} has ${records.length} of ${expected} records`);

  return records.map((line) => {
    const record = JSON.parse(line) as { ts: number; tstype: string; payload: string };
    check(record.tstype === "logappend", `record timestamp type is ${record.tstype}`);
    return record.ts - (JSON.parse(record.payload) as { sentAt: number }).sentAt;
  });
}

function percentile(samples: number[], fraction: number): number {
  const sorted = samples.toSorted((a, b) => a - b);
  const rank = Math.max(0, Math.ceil(fraction * sorted.length) - 1);
  return sorted[rank];
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark invalid: ${message}`);
}

function format(value: number | undefined, digits = 1): string {
  return value === undefined ? "–" : value.toFixed(digits);
}

const sinkSeconds = await sinkThroughput();
const kcatSeconds = await kcatThroughput();
const sinkLatencies = await sinkLatency();
const kcatLatencies = await kcatLatency();

const sinkRate = messageCount / sinkSeconds;
const kcatRate = messageCount / kcatSeconds;
const rows = [
  ["KafkaSink (kafkajs 2.2.4)", sinkSeconds, sinkRate, sinkLatencies],
  ["kcat -P (librdkafka)", kcatSeconds, kcatRate, kcatLatencies],
] as const;

console.log(
  `${messageCount} messages for throughput; ${rate} messages/s for ${seconds} s for latency; ` +
    `broker ${brokers}\n`,
);
console.log(
  "| client | throughput run (s) | messages/s | send → append p50 (ms) | p99 (ms) | send → ack p50 (ms) | p99 (ms) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const [name, elapsed, messagesPerSecond, latency] of rows) {
  const ack = latency.ackMs;
  console.log(
    `| ${name} | ${format(elapsed, 2)} | ${messagesPerSecond.toFixed(0)} | ` +
      `${format(percentile(latency.appendMs, 0.5))} | ${
        format(percentile(latency.appendMs, 0.99))
      } | ` +
      `${format(ack && percentile(ack, 0.5))} | ${format(ack && percentile(ack, 0.99))} |`,
  );
}
console.log(
  `\nthroughput ratio KafkaSink / kcat: ${(sinkRate / kcatRate).toFixed(2)} (target ≥ 0.5)`,
);
