/**
 * Named errors of the Kafka sink.
 *
 * Each error carries the broker list and, where one is involved, the topic, so the
 * one-line message the CLI prints names the cluster and topic that failed and what to
 * do next. The kafkajs error that led to it is kept as `cause`.
 *
 * @module
 */

import { DskafkaError, ExitCode, UsageError } from "../errors.ts";

/** An invalid Kafka sink option, found before anything is connected. */
export class KafkaOptionsError extends UsageError {
  /** The option as the user spells it, for example `--kafka` or `brokers`. */
  readonly option: string;

  constructor(option: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.option = option;
  }
}

/** No broker of the list responded, or a message could not be delivered for good. */
export class KafkaUnavailableError extends DskafkaError {
  /** The bootstrap brokers, as `host:port`. */
  readonly brokers: readonly string[];
  /** The topic involved, when there is one. */
  readonly topic?: string;

  constructor(
    brokers: readonly string[],
    message: string,
    details: { topic?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, ExitCode.KafkaUnavailable, options);
    this.brokers = brokers;
    this.topic = details.topic;
  }
}

/** The broker rejected a message for good, for example because it is too large. */
export class KafkaDeliveryError extends DskafkaError {
  /** The bootstrap brokers, as `host:port`. */
  readonly brokers: readonly string[];
  /** The topic the message was sent to. */
  readonly topic: string;

  constructor(brokers: readonly string[], topic: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.KafkaUnavailable, options);
    this.brokers = brokers;
    this.topic = topic;
  }
}

/** The topic does not exist, and the sink was not asked to create it. */
export class TopicMissingError extends DskafkaError {
  /** The bootstrap brokers, as `host:port`. */
  readonly brokers: readonly string[];
  /** The missing topic. */
  readonly topic: string;

  constructor(brokers: readonly string[], topic: string, options?: ErrorOptions) {
    super(
      `Kafka topic "${topic}" does not exist on ${brokers.join(",")}: ` +
        "create it, or pass --create-topic to let dskafka create it",
      ExitCode.TopicMissing,
      options,
    );
    this.brokers = brokers;
    this.topic = topic;
  }
}

/** The broker refused to create the topic, for example for a too high replication factor. */
export class TopicCreateError extends DskafkaError {
  /** The bootstrap brokers, as `host:port`. */
  readonly brokers: readonly string[];
  /** The topic that could not be created. */
  readonly topic: string;

  constructor(brokers: readonly string[], topic: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.TopicMissing, options);
    this.brokers = brokers;
    this.topic = topic;
  }
}

/** The broker rejected the SASL credentials or the TLS handshake failed. */
export class KafkaAuthError extends DskafkaError {
  /** The bootstrap brokers, as `host:port`. */
  readonly brokers: readonly string[];

  constructor(brokers: readonly string[], message: string, options?: ErrorOptions) {
    super(message, ExitCode.KafkaAuth, options);
    this.brokers = brokers;
  }
}

/** Context of a kafkajs error, for {@linkcode toKafkaError}. */
export interface KafkaErrorContext {
  /** The bootstrap brokers, as `host:port`. */
  brokers: readonly string[];
  /** The topic involved. */
  topic: string;
  /** `connect` while connecting and preparing the topic, `send` while delivering. */
  phase: "connect" | "send";
}

// kafkajs errors that mean no broker responded in time: the network, a stopped broker
// or a leader election.
const UNAVAILABLE_ERRORS = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSLockTimeout",
  "KafkaJSTimeout",
]);

// Kafka protocol error codes that mean the credentials lack a permission.
const AUTHORIZATION_ERRORS = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
]);

// Node's and Deno's TLS errors carry no common class, only these words.
const TLS_FAILURE = /certificate|handshake|\bTLS\b|\bSSL\b|UnknownIssuer|self[- ]signed/i;

/**
 * Wraps an error that kafkajs threw into the dskafka error a user can act on. A dskafka
 * error passes through unchanged.
 */
export function toKafkaError(error: unknown, context: KafkaErrorContext): Error {
  if (error instanceof DskafkaError) return error;

  const brokers = context.brokers.join(",");
  const chain = causeChain(error);
  const reason = error instanceof Error ? error.message : String(error);

  // An error that did not come from kafkajs is a bug, and its stack trace is kept.
  if (error instanceof Error && !chain.some((link) => link.name.startsWith("KafkaJS"))) {
    return error;
  }

  if (chain.some((link) => link.name === "KafkaJSSASLAuthenticationError")) {
    return new KafkaAuthError(
      context.brokers,
      `SASL authentication with Kafka broker(s) ${brokers} failed: ${reason}; ` +
        "check the SASL mechanism, user name and password",
      { cause: error },
    );
  }

  if (chain.some((link) => TLS_FAILURE.test(link.message))) {
    return new KafkaAuthError(
      context.brokers,
      `TLS connection to Kafka broker(s) ${brokers} failed: ${reason}; check the CA, ` +
        "client certificate and key files and that the listener uses TLS",
      { cause: error },
    );
  }

  const protocolError = chain.find((link) => link.name === "KafkaJSProtocolError") as
    | (Error & { type?: string; retriable?: boolean })
    | undefined;

  if (protocolError?.type !== undefined && AUTHORIZATION_ERRORS.has(protocolError.type)) {
    return new KafkaAuthError(
      context.brokers,
      `Kafka broker(s) ${brokers} refused access to topic ${context.topic}: ${reason}; ` +
        "grant the user write access (ACL) or use another account",
      { cause: error },
    );
  }

  const unavailable = chain.some((link) => UNAVAILABLE_ERRORS.has(link.name)) ||
    protocolError === undefined || protocolError.retriable === true;

  if (unavailable && context.phase === "connect") {
    return new KafkaUnavailableError(
      context.brokers,
      `cannot connect to Kafka broker(s) ${brokers}: ${reason}; check that a broker runs ` +
        "there and that the address is right",
      { topic: context.topic },
      { cause: error },
    );
  }

  if (unavailable) {
    return new KafkaUnavailableError(
      context.brokers,
      `delivery to Kafka topic ${context.topic} on ${brokers} failed: ${reason}`,
      { topic: context.topic },
      { cause: error },
    );
  }

  return new KafkaDeliveryError(
    context.brokers,
    context.topic,
    `Kafka broker(s) ${brokers} rejected messages for topic ${context.topic}: ${reason}`,
    { cause: error },
  );
}

function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let link: unknown = error;
  while (link instanceof Error && !chain.includes(link)) {
    chain.push(link);
    link = link.cause;
  }
  return chain;
}
