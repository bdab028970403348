/**
 * The Kafka sink: publishes each message to one topic with kafkajs, keyed by device id.
 *
 * Delivery model:
 * - `send()` queues the message and resolves once the broker has acknowledged it with
 *   acks=all. The producer is idempotent, so a retried request is not written twice.
 * - Queued messages go out in batches: the first message of a batch waits up to
 *   `lingerMs` for company while no request is in flight, and messages that arrive
 *   while a request is in flight form the next batch.
 * - At most one produce request is in flight. kafkajs resets the sequence numbers of
 *   a failed request, so a second request in flight could overtake a retried one and
 *   break the order of a device's messages. When a batch fails for good, every queued
 *   message fails with it, in order, so a caller that spools failures keeps the order.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from "kafkajs";

import { getLogger } from "../log.ts";
import type { OutgoingMessage, Sink, SinkStats } from "./sink.ts";
import {
  KafkaDeliveryError,
  type KafkaErrorContext,
  KafkaUnavailableError,
  toKafkaError,
  TopicCreateError,
  TopicMissingError,
} from "./kafka_errors.ts";
import { connectTimeoutError, createKafkaClient, withDeadline } from "./kafka_client.ts";
import {
  type KafkaSinkOptions,
  type ResolvedKafkaSinkOptions,
  validateKafkaSinkOptions,
} from "./kafka_options.ts";
import { describeSecurity, resolveSecurity } from "./kafka_security.ts";

const log = getLogger("kafka");

// Bytes a record adds beyond its key, value and header: the record and header
// framing and a share of the batch header. An estimate, used only to size batches.
const RECORD_OVERHEAD_BYTES = 64;

// How long close() waits for kafkajs to close its connections.
const DISCONNECT_TIMEOUT_MS = 5_000;

/** One queued message and the promise of its `send()` call. */
interface PendingMessage {
  record: Message;
  messageId: string;
  bytes: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * A {@linkcode Sink} that publishes to a Kafka topic.
 *
 * @example Publish one message
 * ```ts ignore
 * import { KafkaSink } from "./kafka.ts";
 *
 * const sink = await KafkaSink.connect({ brokers: ["127.0.0.1:9092"], topic: "analytics" });
 * try {
 *   await sink.send({ deviceId: "cam-1", messageId: "cam-1-0", payload: "{}" });
 * } finally {
 *   await sink.close();
 * }
 * ```
 */
export class KafkaSink implements Sink {
  /** Sink name for logs. */
  readonly name = "kafka";

  readonly #options: ResolvedKafkaSinkOptions;
  readonly #producer: Producer;
  readonly #compression: CompressionTypes;
  readonly #sendContext: KafkaErrorContext;

  #queue: PendingMessage[] = [];
  #queuedBytes = 0;
  #inFlight: PendingMessage[] = [];
  #draining: Promise<void> | undefined;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: Promise<void> | undefined;
  #sent = 0;
  #acknowledged = 0;
  #failed = 0;

  private constructor(options: ResolvedKafkaSinkOptions, producer: Producer) {
    this.#options = options;
    this.#producer = producer;
    this.#compression = options.compression === "gzip"
      ? CompressionTypes.GZIP
      : CompressionTypes.None;
    this.#sendContext = { brokers: options.brokers, topic: options.topic, phase: "send" };
  }

  /**
   * Validates the options, connects, makes sure the topic exists and returns a sink
   * ready to send.
   *
   * @throws {KafkaOptionsError} for an invalid option, before any connection.
   * @throws {KafkaUnavailableError} when no broker responds within `connectTimeoutMs`.
   * @throws {TopicMissingError} when the topic is missing and `createTopic` is not set.
   * @throws {TopicCreateError} when the broker refuses to create the topic.
   * @throws {KafkaAuthError} when SASL authentication, TLS or an ACL check fails.
   */
  static async connect(options: KafkaSinkOptions): Promise<KafkaSink> {
    const config = validateKafkaSinkOptions(options);
    const security = await resolveSecurity(config.security);
    warnAboutRiskySettings(config);

    const kafka = createKafkaClient({
      clientId: config.clientId,
      brokers: config.brokers,
      security,
      connectTimeoutMs: config.connectTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      retryBackoffMs: config.retryBackoffMs,
      maxRetryBackoffMs: config.maxRetryBackoffMs,
      log,
    });
    const context: KafkaErrorContext = {
      brokers: config.brokers,
      topic: config.topic,
      phase: "connect",
    };

    await withDeadline(
      prepareTopic(kafka, config),
      config.connectTimeoutMs,
      () => connectTimeoutError(config, "checking the topic"),
    ).catch((error) => {
      throw toKafkaError(error, context);
    });

    const producer = kafka.producer({
      idempotent: true,
      allowAutoTopicCreation: false,
      // The Java client's murmur2 partitioner, so a device id maps to the same
      // partition as with Java producers.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: {
        retries: config.retries,
        initialRetryTime: config.retryBackoffMs,
        maxRetryTime: config.maxRetryBackoffMs,
      },
    });

    try {
      await withDeadline(
        producer.connect(),
        config.connectTimeoutMs,
        () => connectTimeoutError(config, "connecting the producer"),
      );
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw toKafkaError(error, context);
    }

    log.info("connected", {
      brokers: config.brokers.join(","),
      topic: config.topic,
      security: describeSecurity(config.security),
      compression: config.compression,
    });
    return new KafkaSink(config, producer);
  }

  /** The topic this sink publishes to. */
  get topic(): string {
    return this.#options.topic;
  }

  /**
   * Queues one message. The promise resolves when the broker has acknowledged it and
   * rejects with a {@linkcode KafkaUnavailableError} or {@linkcode KafkaDeliveryError}
   * when it failed for good. Keep several sends outstanding for throughput: awaiting
   * each one before the next sends one message per request.
   */
  send(message: OutgoingMessage): Promise<void> {
    if (this.#closing) {
      return Promise.reject(
        new Error(`KafkaSink.send() called after close() (topic ${this.#options.topic})`),
      );
    }

    this.#sent++;
    const bytes = Buffer.byteLength(message.payload) + Buffer.byteLength(message.deviceId) +
      Buffer.byteLength(message.messageId) + RECORD_OVERHEAD_BYTES;

    if (bytes > this.#options.maxMessageBytes) {
      this.#failed++;
      const error = new KafkaDeliveryError(
        this.#options.brokers,
        this.#options.topic,
        `message ${message.messageId} of device ${message.deviceId} is ${bytes} bytes, more ` +
          `than maxMessageBytes (${this.#options.maxMessageBytes})`,
      );
      log.error("message rejected", {
        topic: this.#options.topic,
        device: message.deviceId,
        messageId: message.messageId,
        error: error.message,
      });
      return Promise.reject(error);
    }

    return new Promise<void>((resolve, reject) => {
      this.#queue.push({
        record: {
          key: message.deviceId,
          value: message.payload,
          headers: { messageid: message.messageId },
        },
        messageId: message.messageId,
        bytes,
        settled: false,
        resolve,
        reject,
      });
      this.#queuedBytes += bytes;
      this.#schedule();
    });
  }

  /**
   * Sends what is queued, waits up to `closeTimeoutMs` for the acknowledgements, fails
   * what is still outstanding after that, and disconnects. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  /** Current delivery counters. The Kafka sink never spools or drops by itself. */
  stats(): SinkStats {
    return {
      sent: this.#sent,
      acknowledged: this.#acknowledged,
      failed: this.#failed,
      spooled: 0,
      dropped: 0,
    };
  }

  // Starts a batch now when one is full or the sink is closing, otherwise after the
  // linger time. A running drain loop picks new messages up by itself.
  #schedule(): void {
    if (this.#draining) return;

    const full = this.#queue.length >= this.#options.maxBatchMessages ||
      this.#queuedBytes >= this.#options.maxBatchBytes;
    if (full || this.#closing || this.#options.lingerMs === 0) {
      this.#startDrain();
      return;
    }

    this.#lingerTimer ??= setTimeout(() => {
      this.#lingerTimer = undefined;
      this.#startDrain();
    }, this.#options.lingerMs);
  }

  #startDrain(): void {
    if (this.#lingerTimer !== undefined) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
    if (this.#draining) return;

    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0) this.#schedule();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      this.#inFlight = batch;

      // NOTE: kafkajs cannot cancel a request that it is retrying. A batch that failed
      // by the delivery or close timeout may still be written by such a retry, after
      // messages sent later. Consumers de-duplicate on messageid, but the order of that
      // device's messages is then broken.
      try {
        await withDeadline(
          this.#producer.send({
            topic: this.#options.topic,
            acks: -1,
            timeout: this.#options.requestTimeoutMs,
            compression: this.#compression,
            messages: batch.map((pending) => pending.record),
          }),
          this.#options.deliveryTimeoutMs,
          () => this.#deliveryTimeoutError(batch.length),
        );
        this.#settle(batch, undefined);
      } catch (error) {
        // Later messages must not overtake the failed ones, so they fail too.
        const failure = toKafkaError(error, this.#sendContext);
        const failed = batch.concat(this.#takeAll());
        log.error("delivery failed", {
          topic: this.#options.topic,
          messages: failed.length,
          firstMessageId: failed[0]?.messageId,
          error: failure.message,
        });
        this.#settle(failed, failure);
      } finally {
        this.#inFlight = [];
      }
    }
  }

  // Takes the oldest messages up to the batch limits; always at least one.
  #takeBatch(): PendingMessage[] {
    let count = 0;
    let bytes = 0;
    while (
      count < this.#queue.length &&
      count < this.#options.maxBatchMessages &&
      (count === 0 || bytes + this.#queue[count].bytes <= this.#options.maxBatchBytes)
    ) {
      bytes += this.#queue[count].bytes;
      count++;
    }

    this.#queuedBytes -= bytes;
    return this.#queue.splice(0, count);
  }

  #takeAll(): PendingMessage[] {
    const all = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    return all;
  }

  #settle(messages: PendingMessage[], error: Error | undefined): void {
    for (const pending of messages) {
      if (pending.settled) continue;
      pending.settled = true;

      if (error === undefined) {
        this.#acknowledged++;
        pending.resolve();
      } else {
        this.#failed++;
        pending.reject(error);
      }
    }
  }

  async #closeOnce(): Promise<void> {
    const { closeTimeoutMs, topic } = this.#options;
    const deadline = Date.now() + closeTimeoutMs;
    log.debug("closing", { topic, outstanding: this.#queue.length + this.#inFlight.length });

    if (this.#queue.length > 0) this.#startDrain();
    while (this.#draining) {
      const flushed = await settlesWithin(this.#draining, deadline - Date.now());
      if (!flushed) break;
    }

    const outstanding = this.#inFlight.concat(this.#takeAll()).filter((pending) =>
      !pending.settled
    );
    if (outstanding.length > 0) {
      const error = new KafkaUnavailableError(
        this.#options.brokers,
        `${outstanding.length} message(s) to Kafka topic ${topic} on ` +
          `${this.#options.brokers.join(",")} were not acknowledged within the close timeout ` +
          `of ${closeTimeoutMs} ms`,
        { topic },
      );
      log.error("close timed out", { topic, messages: outstanding.length, error: error.message });
      this.#settle(outstanding, error);
    }

    const disconnected = await settlesWithin(
      this.#producer.disconnect().catch((error) => {
        log.warn("disconnect failed", { topic, error: String(error) });
      }),
      DISCONNECT_TIMEOUT_MS,
    );
    if (!disconnected) {
      log.warn("disconnect timed out", { topic, timeoutMs: DISCONNECT_TIMEOUT_MS });
    }

    log.info("closed", {
      topic,
      sent: this.#sent,
      acknowledged: this.#acknowledged,
      failed: this.#failed,
    });
  }

  #deliveryTimeoutError(messages: number): KafkaUnavailableError {
    const { brokers, topic, deliveryTimeoutMs } = this.#options;
    return new KafkaUnavailableError(
      brokers,
      `${messages} message(s) to Kafka topic ${topic} on ${brokers.join(",")} were not ` +
        `acknowledged within the delivery timeout of ${deliveryTimeoutMs} ms`,
      { topic },
    );
  }
}

// Checks that the topic exists and creates it when that is allowed.
async function prepareTopic(kafka: Kafka, config: ResolvedKafkaSinkOptions): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();

  try {
    const topics = await admin.listTopics();
    if (topics.includes(config.topic)) {
      log.debug("topic exists", { topic: config.topic });
      return;
    }

    if (!config.createTopic) throw new TopicMissingError(config.brokers, config.topic);

    // -1 asks the broker for its num.partitions and default.replication.factor.
    const partitions = config.createTopic.partitions ?? -1;
    const replicationFactor = config.createTopic.replicationFactor ?? -1;
    let created: boolean;
    try {
      created = await admin.createTopics({
        topics: [{ topic: config.topic, numPartitions: partitions, replicationFactor }],
        waitForLeaders: true,
        timeout: config.requestTimeoutMs,
      });
    } catch (error) {
      throw topicCreateError(error, config, partitions, replicationFactor);
    }

    log.info(created ? "topic created" : "topic already created by another client", {
      topic: config.topic,
      partitions: partitions === -1 ? "broker default" : partitions,
      replicationFactor: replicationFactor === -1 ? "broker default" : replicationFactor,
    });
  } finally {
    await admin.disconnect();
  }
}

function topicCreateError(
  error: unknown,
  config: ResolvedKafkaSinkOptions,
  partitions: number,
  replicationFactor: number,
): Error {
  // kafkajs reports per-topic failures as a KafkaJSAggregateError with `errors`.
  const reasons =
    (error as { errors?: unknown[] }).errors?.map((inner) =>
      inner instanceof Error ? inner.message : String(inner)
    ) ?? [];
  const isProtocolFailure = reasons.length > 0 ||
    (error as { name?: string }).name === "KafkaJSProtocolError";
  if (!isProtocolFailure) return error instanceof Error ? error : new Error(String(error));

  const reason = reasons.length > 0 ? reasons.join("; ") : (error as Error).message;
  const describe = (value: number) => value === -1 ? "the broker default" : String(value);
  return new TopicCreateError(
    config.brokers,
    config.topic,
    `creating Kafka topic ${config.topic} on ${config.brokers.join(",")} with ` +
      `${describe(partitions)} partition(s) and replication factor ${
        describe(replicationFactor)
      } failed: ${reason}`,
    { cause: error },
  );
}

function warnAboutRiskySettings(config: ResolvedKafkaSinkOptions): void {
  const sasl = config.security.sasl;
  if (sasl?.mechanism === "plain" && !config.security.tls) {
    log.warn("SASL PLAIN without TLS sends the password in clear text", {
      brokers: config.brokers.join(","),
    });
  }

  if (config.retries === 0) {
    log.warn("retries is 0: a single failed request fails its messages", {
      topic: config.topic,
    });
  }
}

// Returns whether `work` settles within `ms`; never rejects.
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms <= 0) return false;

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });

  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
