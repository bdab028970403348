/**
 * KafkaSink against the real local broker (`scripts/kafka/broker start`), with kcat as
 * the independent reader. Each test uses a fresh topic.
 */

import assert from "node:assert/strict";

import { ExitCode } from "../../src/errors.ts";
import { KafkaSink } from "../../src/sink/kafka.ts";
import {
  KafkaDeliveryError,
  KafkaOptionsError,
  KafkaUnavailableError,
  TopicCreateError,
  TopicMissingError,
} from "../../src/sink/kafka_errors.ts";
import type { OutgoingMessage } from "../../src/sink/sink.ts";
import {
  BROKER,
  closedPort,
  freshTopic,
  header,
  type KcatRecord,
  readTopic,
  requireBroker,
  topicExists,
} from "./_broker.ts";

function message(deviceId: string, sequence: number): OutgoingMessage {
  const messageId = `${deviceId}-${String(sequence).padStart(6, "0")}`;
  return {
    deviceId,
    messageId,
    payload: JSON.stringify({ messageid: messageId, deviceId, sequence }),
  };
}

function sequenceOf(record: KcatRecord): number {
  return (JSON.parse(record.payload ?? "null") as { sequence: number }).sequence;
}

Deno.test("KafkaSink.send() delivers keyed messages in order per device", async () => {
  await requireBroker();
  const topic = freshTopic("order");
  const devices = ["cam-north", "cam-south"];
  const perDevice = 300;

  const sink = await KafkaSink.connect({
    brokers: [BROKER],
    topic,
    createTopic: { partitions: 3, replicationFactor: 1 },
    maxBatchMessages: 64,
  });
  const sends: Promise<void>[] = [];
  for (let sequence = 0; sequence < perDevice; sequence++) {
    for (const device of devices) sends.push(sink.send(message(device, sequence)));
  }
  await Promise.all(sends);
  await sink.close();

  const stats = sink.stats();
  assert.equal(stats.sent, devices.length * perDevice);
  assert.equal(stats.acknowledged, devices.length * perDevice);
  assert.equal(stats.failed, 0);

  const records = await readTopic(topic);
  assert.equal(records.length, stats.acknowledged);

  for (const device of devices) {
    const ofDevice = records.filter((record) => record.key === device);
    assert.equal(ofDevice.length, perDevice, `records keyed ${device}`);

    const partitions = new Set(ofDevice.map((record) => record.partition));
    assert.equal(partitions.size, 1, `${device} spread over partitions ${[...partitions]}`);

    const byOffset = ofDevice.toSorted((a, b) => a.offset - b.offset);
    assert.deepEqual(
      byOffset.map(sequenceOf),
      Array.from({ length: perDevice }, (_, i) => i),
      `sequence of ${device} in offset order`,
    );
  }

  for (const record of records) {
    const payload = JSON.parse(record.payload ?? "null");
    assert.equal(header(record, "messageid"), payload.messageid);
    assert.equal(record.key, payload.deviceId);
  }
});

Deno.test("KafkaSink.send() awaited one by one with gzip", async () => {
  await requireBroker();
  const topic = freshTopic("gzip");

  const sink = await KafkaSink.connect({
    brokers: [BROKER],
    topic,
    createTopic: { partitions: 1, replicationFactor: 1 },
    compression: "gzip",
  });
  const sent: OutgoingMessage[] = [];
  for (let sequence = 0; sequence < 5; sequence++) {
    const outgoing = message("cam-1", sequence);
    await sink.send(outgoing);
    sent.push(outgoing);
    assert.equal(sink.stats().acknowledged, sequence + 1, "acknowledged when send() resolves");
  }
  await sink.close();

  const records = await readTopic(topic);
  assert.deepEqual(records.map((record) => record.payload), sent.map((m) => m.payload));
  assert.deepEqual(
    records.map((record) => header(record, "messageid")),
    sent.map((m) => m.messageId),
  );
});

Deno.test("KafkaSink.connect() missing topic throws TopicMissingError", async () => {
  await requireBroker();
  const topic = freshTopic("missing");

  const error = await KafkaSink.connect({ brokers: [BROKER], topic }).then(
    () => undefined,
    (caught: unknown) => caught,
  );

  assert.ok(error instanceof TopicMissingError, `got ${error}`);
  assert.equal(error.exitCode, ExitCode.TopicMissing);
  assert.equal(error.topic, topic);
  assert.match(error.message, new RegExp(`"${topic}"`));
  assert.match(error.message, /--create-topic/);
  assert.equal(await topicExists(topic), false, "the topic must not be created");
});

Deno.test("KafkaSink.connect() existing topic with createTopic", async () => {
  await requireBroker();
  const topic = freshTopic("existing");
  const options = { brokers: [BROKER], topic, createTopic: { partitions: 2 } };

  const first = await KafkaSink.connect(options);
  await first.close();
  const second = await KafkaSink.connect(options);
  await second.send(message("cam-1", 0));
  await second.close();

  assert.equal((await readTopic(topic)).length, 1);
});

Deno.test("KafkaSink.connect() impossible replication factor throws TopicCreateError", async () => {
  await requireBroker();
  const topic = freshTopic("replicas");

  const error = await KafkaSink.connect({
    brokers: [BROKER],
    topic,
    createTopic: { partitions: 1, replicationFactor: 3 },
  }).then(() => undefined, (caught: unknown) => caught);

  assert.ok(error instanceof TopicCreateError, `got ${error}`);
  assert.equal(error.exitCode, ExitCode.TopicMissing);
  assert.match(error.message, new RegExp(topic));
  assert.match(error.message, /replication factor 3/);
});

Deno.test("KafkaSink.connect() unreachable broker throws KafkaUnavailableError", async () => {
  const broker = `127.0.0.1:${closedPort()}`;

  const error = await KafkaSink.connect({
    brokers: [broker],
    topic: freshTopic("unreachable"),
    connectTimeoutMs: 5_000,
  }).then(() => undefined, (caught: unknown) => caught);

  assert.ok(error instanceof KafkaUnavailableError, `got ${error}`);
  assert.equal(error.exitCode, ExitCode.KafkaUnavailable);
  assert.deepEqual(error.brokers, [broker]);
  assert.ok(error.message.includes(broker), error.message);
});

Deno.test("KafkaSink.connect() invalid options throw KafkaOptionsError", async () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["brokers", { brokers: [] }, /at least one broker/],
    ["brokers", { brokers: ["localhost"] }, /"localhost".*port from 1 to 65535/],
    ["brokers", { brokers: ["localhost:0"] }, /port from 1 to 65535/],
    ["brokers", { brokers: ["[::1]:9092"] }, /IPv6/],
    ["topic", { topic: "" }, /must not be empty/],
    ["topic", { topic: "counts per line" }, /invalid Kafka topic "counts per line"/],
    ["compression", { compression: "snappy" }, /"snappy".*none, gzip/],
    ["lingerMs", { lingerMs: -1 }, /invalid lingerMs -1: expected an integer from 0/],
    ["retries", { retries: 1.5 }, /invalid retries 1.5/],
    ["createTopic.partitions", { createTopic: { partitions: 0 } }, /partitions 0/],
  ];

  for (const [option, override, expected] of cases) {
    const options = { brokers: [BROKER], topic: "counts", ...override };
    const error = await KafkaSink.connect(options as never).then(
      () => undefined,
      (caught: unknown) => caught,
    );

    assert.ok(error instanceof KafkaOptionsError, `${JSON.stringify(override)}: got ${error}`);
    assert.equal(error.option, option);
    assert.equal(error.exitCode, ExitCode.Usage);
    assert.match(error.message, expected);
  }
});

Deno.test("KafkaSink.send() oversized message fails alone", async () => {
  await requireBroker();
  const topic = freshTopic("oversized");
  const sink = await KafkaSink.connect({
    brokers: [BROKER],
    topic,
    createTopic: { partitions: 1 },
    maxMessageBytes: 1_000,
  });

  const small = sink.send(message("cam-1", 0));
  const large = sink.send({ deviceId: "cam-1", messageId: "large", payload: "x".repeat(2_000) });
  const after = sink.send(message("cam-1", 1));

  await assert.rejects(large, (error: unknown) => {
    assert.ok(error instanceof KafkaDeliveryError, `got ${error}`);
    assert.match(error.message, /message large of device cam-1 is \d+ bytes/);
    return true;
  });
  await small;
  await after;
  await sink.close();

  assert.deepEqual(sink.stats(), { sent: 3, acknowledged: 2, failed: 1, spooled: 0, dropped: 0 });
  assert.deepEqual((await readTopic(topic)).map(sequenceOf), [0, 1]);
});

Deno.test("KafkaSink.close() twice, then send() rejects", async () => {
  await requireBroker();
  const topic = freshTopic("close");
  const sink = await KafkaSink.connect({ brokers: [BROKER], topic, createTopic: {} });

  const pending = sink.send(message("cam-1", 0));
  await Promise.all([sink.close(), sink.close()]);
  await pending;

  await assert.rejects(sink.send(message("cam-1", 1)), /called after close/);
  assert.equal(sink.stats().acknowledged, 1);
  assert.equal((await readTopic(topic)).length, 1);
});
