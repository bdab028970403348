/**
 * The kafkajs client setup that the producer (`KafkaSink`) and the consumer of
 * `dskafka tail` share: connection limits, retries, logging, and the deadline and error
 * used when the brokers do not answer in time.
 *
 * @module
 */

import { Kafka } from "kafkajs";

import type { Logger } from "../log.ts";
import { KafkaUnavailableError } from "./kafka_errors.ts";
import { kafkajsLogCreator, kafkajsLogLevel } from "./kafka_log.ts";
import type { KafkaClientSecurity } from "./kafka_security.ts";

/** Options of {@linkcode createKafkaClient}. */
export interface KafkaClientOptions {
  /** Client id the brokers see. */
  clientId: string;
  /** Bootstrap brokers as `host:port`. */
  brokers: string[];
  /** kafkajs `ssl` and `sasl` options, from `resolveSecurity()`. */
  security: KafkaClientSecurity;
  /** Time limit for connecting and authenticating, in ms. */
  connectTimeoutMs: number;
  /** Time limit of one request, in ms; absent keeps kafkajs's default. */
  requestTimeoutMs?: number;
  /** First delay between retries, in ms. */
  retryBackoffMs: number;
  /** Longest delay between retries, in ms. */
  maxRetryBackoffMs: number;
  /** Receives kafkajs's log entries. */
  log: Logger;
}

/** Creates a kafkajs client with dskafka's connection, retry and logging settings. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ssl: options.security.ssl,
    sasl: options.security.sasl,
    connectionTimeout: Math.min(options.connectTimeoutMs, 3_000),
    authenticationTimeout: options.connectTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    // Reconnects and metadata requests. Three quick retries keep an unreachable
    // broker list from holding the start-up for long.
    retry: {
      retries: 3,
      initialRetryTime: options.retryBackoffMs,
      maxRetryTime: options.maxRetryBackoffMs,
    },
    logLevel: kafkajsLogLevel(),
    logCreator: kafkajsLogCreator(options.log),
  });
}

/** Returns the error for a connection `step` that did not finish within `connectTimeoutMs`. */
export function connectTimeoutError(
  target: { brokers: string[]; topic: string; connectTimeoutMs: number },
  step: string,
): KafkaUnavailableError {
  return new KafkaUnavailableError(
    target.brokers,
    `cannot connect to Kafka broker(s) ${target.brokers.join(",")}: ${step} timed out after ` +
      `${target.connectTimeoutMs} ms; check that a broker runs there and that the address is right`,
    { topic: target.topic },
  );
}

/**
 * Resolves like `work`, or rejects with `onTimeout()` after `ms`. A later rejection of
 * `work` is absorbed, so it never becomes an unhandled rejection.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  work.catch(() => {});

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });

  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
