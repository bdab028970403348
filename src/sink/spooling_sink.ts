/**
 * A sink that sends to Kafka and keeps what Kafka does not take in a disk spool.
 *
 * Two modes:
 *
 * - direct: the spool is empty and Kafka responds. `send()` hands the message to the
 *   Kafka sink and resolves once the broker acknowledged it. A message that fails with
 *   {@linkcode KafkaUnavailableError}, or has no acknowledgement within
 *   `handoffTimeoutMs`, goes to the spool instead, and the sink switches to spooling.
 * - spooling: every new message is appended to the spool (`send()` resolves once it is
 *   written), behind the messages already there, so each device's messages keep their
 *   order. A replay loop sends the spool to Kafka in batches, oldest first, retrying
 *   with backoff while Kafka is unreachable (reconnecting when the first connection
 *   failed), and switches back to direct once the spool is empty.
 *
 * A message keeps its messageid through the spool and every retry. A message whose
 * hand-off timed out may still reach Kafka by the Kafka sink's own retries, and the
 * replay sends it again: consumers see a duplicate with the same messageid.
 *
 * On start, messages that an earlier run left in the spool are sent first. On close,
 * the replay continues for up to `closeTimeoutMs` while Kafka takes messages. What is
 * left stays in the spool for the next run and shows in `stats().spooled`.
 *
 * @module
 */

import { getLogger } from "../log.ts";
import { KafkaSink } from "./kafka.ts";
import { KafkaUnavailableError } from "./kafka_errors.ts";
import { type KafkaSinkOptions, validateKafkaSinkOptions } from "./kafka_options.ts";
import type { OutgoingMessage, Sink, SinkStats } from "./sink.ts";
import { Spool, type SpoolBatch, type SpoolOptions } from "./spool.ts";
import { SpoolError } from "./spool_errors.ts";

const log = getLogger("spool");

// All accepted messages are acknowledged or spooled before the inner Kafka sink is
// closed, so its close only ends replay requests, which the spool still holds.
const INNER_CLOSE_TIMEOUT_MS = 2_000;

/** Options of {@linkcode SpoolingSink.open}. */
export interface SpoolingSinkOptions {
  /** The Kafka destination. */
  kafka: KafkaSinkOptions;
  /** The spool, whose topic is `kafka.topic`. */
  spool: SpoolOptions;
  /** Time a message sent straight to Kafka may wait for its acknowledgement before it is spooled, in ms. @default 5000 */
  handoffTimeoutMs?: number;
  /** Wait after the first failed connection or replay, in ms, doubled per failure. @default 500 */
  retryInitialDelayMs?: number;
  /** Maximum wait between connection or replay attempts, in ms. @default 10000 */
  retryMaxDelayMs?: number;
  /** Maximum messages per replayed batch. @default 500 */
  replayBatchMessages?: number;
  /** Maximum bytes of records per replayed batch. @default 1048576, at most a quarter of the spool's maxBytes */
  replayBatchBytes?: number;
  /** Time close() keeps replaying the spool while Kafka takes messages, in ms. @default 30000 */
  closeTimeoutMs?: number;
}

/** Defaults of {@linkcode SpoolingSinkOptions}. */
export const SPOOLING_SINK_DEFAULTS = {
  handoffTimeoutMs: 5_000,
  retryInitialDelayMs: 500,
  retryMaxDelayMs: 10_000,
  replayBatchMessages: 500,
  replayBatchBytes: 1024 * 1024,
  closeTimeoutMs: 30_000,
} as const;

type Settled<T> =
  | { status: "fulfilled"; value: T }
  | { status: "rejected"; reason: unknown }
  | { status: "timeout" };

/**
 * A {@linkcode Sink} that sends to Kafka through a disk spool.
 *
 * @example Send through a spool
 * ```ts ignore
 * import { SpoolingSink } from "./spooling_sink.ts";
 *
 * const sink = await SpoolingSink.open({
 *   kafka: { brokers: ["127.0.0.1:9092"], topic: "analytics" },
 *   spool: { directory: "/var/spool/dskafka" },
 * });
 * try {
 *   await sink.send({ deviceId: "cam-1", messageId: "cam-1-0", payload: "{}" });
 * } finally {
 *   await sink.close();
 * }
 * console.log(`${sink.stats().spooled} message(s) wait in the spool`);
 * ```
 */
export class SpoolingSink implements Sink {
  /** Sink name for logs. */
  readonly name: string;

  readonly #settings: Required<Omit<SpoolingSinkOptions, "kafka" | "spool">>;
  readonly #kafkaOptions: KafkaSinkOptions;
  readonly #spool: Spool;
  #kafka: KafkaSink | undefined;

  /** New messages go straight to Kafka. */
  #direct: boolean;
  /** The last Kafka attempt failed, or there is no connection yet. */
  #outage: boolean;
  /** A Kafka error that retrying cannot fix. Sends fail with it. */
  #fatal: Error | undefined;
  /** Settles once every message sent so far is acknowledged or spooled. */
  #chain: Promise<void> = Promise.resolve();
  /** Spool appends queued and not yet finished. */
  #queuedAppends = 0;

  #replayer: Promise<void>;
  #wakeReplayer: (() => void) | undefined;
  #progress = Promise.withResolvers<void>();
  #interrupt = new AbortController();
  #closing = false;
  #stopping = false;
  #closed: Promise<void> | undefined;
  #failedSinceClose = false;

  #sent = 0;
  #acknowledged = 0;
  #failed = 0;

  private constructor(options: SpoolingSinkOptions, spool: Spool, kafka: KafkaSink | undefined) {
    this.#settings = {
      ...SPOOLING_SINK_DEFAULTS,
      ...withoutUndefined(options),
    } as Required<Omit<SpoolingSinkOptions, "kafka" | "spool">>;
    this.#settings.replayBatchBytes = Math.min(
      this.#settings.replayBatchBytes,
      Math.floor(spool.maxBytes / 4),
    );
    this.#kafkaOptions = innerKafkaOptions(options.kafka);
    this.#spool = spool;
    this.#kafka = kafka;
    this.#outage = kafka === undefined;
    this.#direct = kafka !== undefined && spool.pendingMessages === 0;
    this.name = `kafka with spool ${spool.directory}`;
    this.#replayer = this.#replay();
  }

  /**
   * Opens the spool, recovers what an earlier run left, and connects to Kafka. An
   * unreachable broker is not an error: the sink spools and keeps trying.
   *
   * @throws {KafkaOptionsError} for an invalid Kafka option, before anything is opened.
   * @throws {SpoolError} when the spool cannot be opened.
   * @throws {TopicMissingError} or {KafkaAuthError} when the broker responds but the
   *   topic is missing or the credentials are rejected.
   */
  static async open(options: SpoolingSinkOptions): Promise<SpoolingSink> {
    validateKafkaSinkOptions(options.kafka);
    const spool = await Spool.open({ ...options.spool, topic: options.kafka.topic });

    let kafka: KafkaSink | undefined;
    try {
      kafka = await KafkaSink.connect(innerKafkaOptions(options.kafka));
    } catch (error) {
      if (!(error instanceof KafkaUnavailableError)) {
        await spool.close();
        throw error;
      }
      log.warn("Kafka is unreachable: messages are spooled until it responds", {
        directory: spool.directory,
        brokers: options.kafka.brokers.join(","),
        error: error.message,
      });
    }

    if (spool.pendingMessages > 0) {
      log.info("the spool contains messages of an earlier run: they are sent first", {
        directory: spool.directory,
        messages: spool.pendingMessages,
      });
    }
    return new SpoolingSink(options, spool, kafka);
  }

  /** The spool directory. */
  get directory(): string {
    return this.#spool.directory;
  }

  /**
   * Accepts one message. Resolves when Kafka acknowledged it or it is written to the
   * spool. Rejects with {@linkcode SpoolError} when the spool fails, with
   * {@linkcode SpoolInterruptedError} after {@linkcode interrupt} while the spool is
   * full, and with the Kafka error when the broker rejected the message for good.
   */
  send(message: OutgoingMessage): Promise<void> {
    if (this.#closing) {
      return Promise.reject(new Error(`SpoolingSink.send() called after close() (${this.name})`));
    }
    if (this.#fatal) return Promise.reject(this.#fatal);

    this.#sent++;
    const done = this.#direct ? this.#sendDirect(message) : this.#sendToSpool(message);
    this.#chain = done.then(noop, noop);
    return done;
  }

  /**
   * Stops waiting for room in a full spool: sends blocked by policy `block` reject with
   * {@linkcode SpoolInterruptedError}, and a replay that waits for its next attempt
   * tries at once. For SIGINT and SIGTERM.
   */
  interrupt(): void {
    this.#interrupt.abort();
    this.#wakeReplayer?.();
  }

  /**
   * Waits until every accepted message is acknowledged or spooled, replays the spool
   * for up to `closeTimeoutMs` while Kafka takes messages, then closes Kafka and the
   * spool. Safe to call twice.
   */
  close(): Promise<void> {
    this.#closed ??= this.#closeOnce();
    return this.#closed;
  }

  /**
   * Returns the current counters. `acknowledged` counts Kafka's acknowledgements, also of
   * messages an earlier run spooled, and `spooled` counts what waits in the spool now.
   */
  stats(): SinkStats {
    return {
      sent: this.#sent,
      acknowledged: this.#acknowledged,
      failed: this.#failed,
      spooled: this.#spool.pendingMessages,
      dropped: this.#spool.droppedMessages,
    };
  }

  #sendDirect(message: OutgoingMessage): Promise<void> {
    const delivery = this.#kafka!.send(message);
    const previous = this.#chain;
    return this.#deliverOrSpool(message, delivery, previous);
  }

  async #deliverOrSpool(
    message: OutgoingMessage,
    delivery: Promise<void>,
    previous: Promise<void>,
  ): Promise<void> {
    const outcome = await settleWithin(delivery, this.#settings.handoffTimeoutMs);
    if (outcome.status === "fulfilled") {
      this.#acknowledged++;
      return;
    }
    if (outcome.status === "rejected" && !(outcome.reason instanceof KafkaUnavailableError)) {
      this.#failed++;
      throw outcome.reason;
    }

    const reason = outcome.status === "timeout"
      ? `no acknowledgement within ${this.#settings.handoffTimeoutMs} ms`
      : (outcome.reason as Error).message;
    this.#startSpooling(reason);

    // Earlier messages are acknowledged or spooled before this one is spooled.
    this.#queuedAppends++;
    try {
      await previous;
      await this.#appendToSpool(message);
    } finally {
      this.#queuedAppends--;
      this.#wakeReplayer?.();
    }
  }

  async #sendToSpool(message: OutgoingMessage): Promise<void> {
    const previous = this.#chain;
    this.#queuedAppends++;
    try {
      await previous;
      await this.#appendToSpool(message);
    } finally {
      this.#queuedAppends--;
      this.#wakeReplayer?.();
    }
  }

  async #appendToSpool(message: OutgoingMessage): Promise<void> {
    await this.#spool.append([message], this.#interrupt.signal);
    log.debug("message spooled", {
      device: message.deviceId,
      messageId: message.messageId,
      spooled: this.#spool.pendingMessages,
    });
  }

  #startSpooling(reason: string): void {
    this.#outage = true;
    if (!this.#direct) return;

    this.#direct = false;
    log.warn("Kafka did not take a message: spooling messages until it does", {
      directory: this.#spool.directory,
      reason,
    });
  }

  // Goes back to direct mode when nothing waits in the spool and Kafka responds.
  #directIfIdle(): void {
    const idle = this.#spool.pendingMessages === 0 && this.#queuedAppends === 0;
    if (this.#direct || !idle || this.#kafka === undefined || this.#outage || this.#closing) {
      return;
    }

    this.#direct = true;
    log.info("spool is empty: sending straight to Kafka again", {
      directory: this.#spool.directory,
    });
  }

  // The replay loop: runs until close() stops it.
  async #replay(): Promise<void> {
    let delayMs = 0;
    let attempt = 0;
    let batch: SpoolBatch | undefined;

    while (!this.#stopping) {
      if (batch === undefined && this.#spool.pendingMessages === 0) {
        this.#directIfIdle();
        this.#signalProgress();
        await this.#sleep(Infinity);
        continue;
      }

      try {
        if (this.#kafka === undefined) {
          this.#kafka = await KafkaSink.connect(this.#kafkaOptions);
          log.info("connected to Kafka: sending the spooled messages", {
            directory: this.#spool.directory,
            messages: this.#spool.pendingMessages,
          });
        }

        batch ??= await this.#spool.read(
          this.#settings.replayBatchMessages,
          this.#settings.replayBatchBytes,
        );
        if (batch === undefined) continue;

        await this.#sendBatch(this.#kafka, batch);
        await this.#spool.commit(batch);
        this.#acknowledged += batch.messages.length;
        batch = undefined;

        if (this.#outage) {
          log.info("Kafka takes messages again: replaying the spool", {
            directory: this.#spool.directory,
            spooled: this.#spool.pendingMessages,
          });
        }
        this.#outage = false;
        delayMs = 0;
        attempt = 0;
        this.#signalProgress();
      } catch (error) {
        if (error instanceof SpoolError || !(error instanceof KafkaUnavailableError)) {
          this.#fail(error as Error);
          break;
        }

        this.#outage = true;
        this.#failedSinceClose ||= this.#closing;
        this.#signalProgress();
        if (this.#stopping) break;

        attempt++;
        delayMs = Math.min(
          this.#settings.retryMaxDelayMs,
          delayMs === 0 ? this.#settings.retryInitialDelayMs : 2 * delayMs,
        );
        log.warn("Kafka is unreachable: retrying the spool", {
          directory: this.#spool.directory,
          spooled: this.#spool.pendingMessages,
          attempt,
          delayMs,
          error: error.message,
        });
        await this.#sleep(delayMs);
      }
    }

    if (batch !== undefined) this.#spool.abandon(batch);
  }

  // Sends a batch and waits for every message, so that no rejection goes unhandled.
  async #sendBatch(kafka: KafkaSink, batch: SpoolBatch): Promise<void> {
    const results = await Promise.allSettled(batch.messages.map((message) => kafka.send(message)));
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  #fail(error: Error): void {
    this.#fatal = error;
    this.#direct = false;
    this.#signalProgress();
    log.error("replaying the spool failed for good: the messages stay in the spool", {
      directory: this.#spool.directory,
      spooled: this.#spool.pendingMessages,
      error: error.message,
    });
  }

  // Waits `ms` milliseconds, or less when woken by new work, interrupt() or close().
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : undefined;
      const done = () => {
        clearTimeout(timer);
        this.#wakeReplayer = undefined;
        resolve();
      };
      this.#wakeReplayer = done;
    });
  }

  #signalProgress(): void {
    this.#progress.resolve();
    this.#progress = Promise.withResolvers<void>();
  }

  async #closeOnce(): Promise<void> {
    this.#closing = true;
    await this.#chain;

    const deadline = Date.now() + this.#settings.closeTimeoutMs;
    if (this.#spool.pendingMessages > 0 && this.#fatal === undefined) {
      log.info("sending the spooled messages before closing", {
        directory: this.#spool.directory,
        spooled: this.#spool.pendingMessages,
        timeoutMs: this.#settings.closeTimeoutMs,
      });
      this.#wakeReplayer?.();
    }

    while (
      this.#spool.pendingMessages > 0 && this.#fatal === undefined && !this.#failedSinceClose
    ) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;

      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#progress.promise,
        new Promise<void>((resolve) => timer = setTimeout(resolve, remaining)),
      ]);
      clearTimeout(timer);
    }

    this.#stopping = true;
    this.#wakeReplayer?.();
    const kafka = this.#kafka;
    await kafka?.close();
    await this.#replayer;
    if (this.#kafka !== kafka) await this.#kafka?.close();
    await this.#spool.close();

    log.info("closed", {
      directory: this.#spool.directory,
      sent: this.#sent,
      acknowledged: this.#acknowledged,
      spooled: this.#spool.pendingMessages,
      dropped: this.#spool.droppedMessages,
    });
  }
}

// Resolves with the outcome of `work`, or with "timeout" after `ms`. A later rejection
// of `work` is absorbed, so it never becomes an unhandled rejection.
async function settleWithin<T>(work: Promise<T>, ms: number): Promise<Settled<T>> {
  const outcome = work.then(
    (value): Settled<T> => ({ status: "fulfilled", value }),
    (reason): Settled<T> => ({ status: "rejected", reason }),
  );

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Settled<T>>((resolve) => {
    timer = setTimeout(() => resolve({ status: "timeout" }), ms);
  });

  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function innerKafkaOptions(options: KafkaSinkOptions): KafkaSinkOptions {
  const closeTimeoutMs = Math.min(options.closeTimeoutMs ?? Infinity, INNER_CLOSE_TIMEOUT_MS);
  return { ...options, closeTimeoutMs };
}

function noop(): void {}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([key, value]) =>
      value !== undefined && key !== "kafka" && key !== "spool"
    ),
  ) as Partial<T>;
}
