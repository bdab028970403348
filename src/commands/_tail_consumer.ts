/**
 * The Kafka consumer of `dskafka tail`: checks that the topic exists, then joins a
 * consumer group of its own and subscribes to every partition of the topic.
 *
 * The group id is new on every run and tail commits no offsets, so tail never moves
 * the position of another consumer and never resumes from an earlier run.
 *
 * @module
 */

import type { Consumer, Kafka } from "kafkajs";

import type { Logger } from "../log.ts";
import {
  type KafkaErrorContext,
  toKafkaError,
  TopicMissingError,
} from "../sink/kafka_errors.ts";
import { connectTimeoutError, createKafkaClient, withDeadline } from "../sink/kafka_client.ts";
import type { KafkaClientSecurity } from "../sink/kafka_security.ts";

/** Options of {@linkcode connectConsumer}. */
export interface TailConsumerOptions {
  /** Bootstrap brokers as `host:port`. */
  brokers: string[];
  /** The topic to read. */
  topic: string;
  /** Client id the brokers see. */
  clientId: string;
  /** kafkajs `ssl` and `sasl` options, from `resolveSecurity()`. */
  security: KafkaClientSecurity;
  /** Read from the first offset of each partition instead of the end. */
  fromBeginning: boolean;
  /** Time limit for connecting, checking the topic and subscribing, in ms. */
  connectTimeoutMs: number;
  /** Receives kafkajs's log entries and the consumer's own. */
  log: Logger;
}

/** A connected and subscribed consumer, not yet running. */
export interface TailConsumer {
  /** The kafkajs consumer. Call `run()` on it to start reading. */
  consumer: Consumer;
  /** The consumer group id, unique to this run. */
  groupId: string;
}

// Maximum wait of one fetch request for new records. It also bounds how long
// disconnect() waits for a fetch in flight, so it is short.
const MAX_FETCH_WAIT_MS = 1_000;

// How long disconnectConsumer() waits for kafkajs to leave the group and close.
const DISCONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects, checks that the topic exists and subscribes a consumer with a fresh group
 * id to the topic.
 *
 * @throws {KafkaUnavailableError} when no broker responds within `connectTimeoutMs`.
 * @throws {TopicMissingError} when the topic does not exist.
 * @throws {KafkaAuthError} when SASL authentication, TLS or an ACL check fails.
 */
export async function connectConsumer(options: TailConsumerOptions): Promise<TailConsumer> {
  const kafka = createKafkaClient({
    clientId: options.clientId,
    brokers: options.brokers,
    security: options.security,
    connectTimeoutMs: options.connectTimeoutMs,
    retryBackoffMs: 300,
    maxRetryBackoffMs: 10_000,
    log: options.log,
  });
  const context: KafkaErrorContext = {
    brokers: options.brokers,
    topic: options.topic,
    phase: "connect",
  };

  await withDeadline(
    checkTopic(kafka, options),
    options.connectTimeoutMs,
    () => connectTimeoutError(options, "checking the topic"),
  ).catch((error) => {
    throw toKafkaError(error, context);
  });

  const groupId = `dskafka-tail-${crypto.randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: MAX_FETCH_WAIT_MS,
  });

  try {
    await withDeadline(
      (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [options.topic], fromBeginning: options.fromBeginning });
      })(),
      options.connectTimeoutMs,
      () => connectTimeoutError(options, "subscribing to the topic"),
    );
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw toKafkaError(error, context);
  }

  return { consumer, groupId };
}

/**
 * Leaves the group and closes the connections. Never rejects. Returns whether kafkajs
 * finished within its time limit.
 */
export async function disconnectConsumer(consumer: Consumer, log: Logger): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), DISCONNECT_TIMEOUT_MS);
  });
  const disconnected = consumer.disconnect().then(
    () => true,
    (error) => {
      log.warn("disconnect failed", { error: String(error) });
      return true;
    },
  );

  try {
    return await Promise.race([disconnected, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function checkTopic(kafka: Kafka, options: TailConsumerOptions): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();

  try {
    const topics = await admin.listTopics();
    if (topics.includes(options.topic)) return;

    const error = new TopicMissingError(options.brokers, options.topic);
    // The class's own text advises --create-topic, which only the producer accepts.
    error.message = `Kafka topic "${options.topic}" does not exist on ` +
      `${options.brokers.join(",")}: check the topic name, or start the producer first ` +
      "(dskafka --kafka ... --create-topic creates it)";
    throw error;
  } finally {
    await admin.disconnect();
  }
}
