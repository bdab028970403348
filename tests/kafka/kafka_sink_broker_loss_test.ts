/**
 * KafkaSink when its broker dies and comes back. The test runs its own broker with
 * `scripts/kafka/broker` on free ports and a temporary state folder, so killing it
 * does not disturb the shared test broker.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { KafkaSink } from "../../src/sink/kafka.ts";
import { KafkaUnavailableError } from "../../src/sink/kafka_errors.ts";
import { closedPort, freshTopic, readTopic } from "./_broker.ts";

const BROKER_SCRIPT = fileURLToPath(new URL("../../scripts/kafka/broker", import.meta.url));

async function broker(command: "start" | "stop" | "kill", env: Record<string, string>) {
  const output = await new Deno.Command(BROKER_SCRIPT, {
    args: [command],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();

  if (output.code !== 0) {
    const decoder = new TextDecoder();
    throw new Error(
      `scripts/kafka/broker ${command} failed with exit code ${output.code}:\n` +
        decoder.decode(output.stdout) + decoder.decode(output.stderr),
    );
  }
}

function message(sequence: number) {
  const messageId = `cam-1-${sequence}`;
  return { deviceId: "cam-1", messageId, payload: JSON.stringify({ messageId, sequence }) };
}

Deno.test("KafkaSink.send() broker killed fails, then recovers", async () => {
  const port = closedPort();
  const stateDir = await Deno.makeTempDir({ prefix: "dskafka-broker-" });
  const env = {
    DSKAFKA_KAFKA_PORT: String(port),
    DSKAFKA_KAFKA_CONTROLLER_PORT: String(closedPort()),
    DSKAFKA_KAFKA_HOME: stateDir,
  };
  const address = `127.0.0.1:${port}`;
  const topic = freshTopic("broker-loss");

  try {
    await broker("start", env);
    const sink = await KafkaSink.connect({
      brokers: [address],
      topic,
      createTopic: { partitions: 1, replicationFactor: 1 },
      retries: 2,
      retryBackoffMs: 100,
      maxRetryBackoffMs: 500,
    });

    await Promise.all([0, 1, 2, 3, 4].map((sequence) => sink.send(message(sequence))));
    assert.equal(sink.stats().acknowledged, 5);

    await broker("kill", env);
    const whileDown = await Promise.allSettled(
      [5, 6, 7].map((sequence) => sink.send(message(sequence))),
    );
    for (const result of whileDown) {
      assert.equal(result.status, "rejected");
      const error = (result as PromiseRejectedResult).reason;
      assert.ok(error instanceof KafkaUnavailableError, `got ${error}`);
      assert.ok(error.message.includes(address), error.message);
      assert.equal(error.topic, topic);
    }
    assert.equal(sink.stats().failed, 3);

    await broker("start", env);
    await Promise.all([8, 9].map((sequence) => sink.send(message(sequence))));
    await sink.close();

    assert.deepEqual(sink.stats(), {
      sent: 10,
      acknowledged: 7,
      failed: 3,
      spooled: 0,
      dropped: 0,
    });
    const records = await readTopic(topic, address);
    assert.deepEqual(
      records.map((record) => JSON.parse(record.payload ?? "null").sequence),
      [0, 1, 2, 3, 4, 8, 9],
    );
  } finally {
    await broker("stop", env);
    await Deno.remove(stateDir, { recursive: true });
  }
});
