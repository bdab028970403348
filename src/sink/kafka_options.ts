/**
 * Options of the Kafka sink: their defaults, their validation, and how the command
 * line (`--kafka host:port --topic T`, or DeepStream's `--conn-str "host;port;topic"`)
 * turns into them.
 *
 * Everything here runs before a connection is made, so a typo ends the run at once
 * with a message that names the option, the rule and the value.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";

import { KafkaOptionsError } from "./kafka_errors.ts";
import {
  DEFAULT_PASSWORD_ENV,
  type KafkaSecurityOptions,
  SASL_MECHANISMS,
  type SaslMechanism,
  validateSecurityOptions,
} from "./kafka_security.ts";

/** Compression codecs the sink supports without extra packages. */
export const KAFKA_COMPRESSIONS = ["none", "gzip"] as const;

/** One of {@linkcode KAFKA_COMPRESSIONS}. */
export type KafkaCompression = typeof KAFKA_COMPRESSIONS[number];

/** How to create the topic when it does not exist. */
export interface CreateTopicOptions {
  /** Number of partitions. @default the broker's `num.partitions` */
  partitions?: number;
  /** Number of replicas of each partition. @default the broker's `default.replication.factor` */
  replicationFactor?: number;
}

/** Options of {@linkcode KafkaSink}. Only `brokers` and `topic` are required. */
export interface KafkaSinkOptions {
  /** Bootstrap brokers as `host:port`. */
  brokers: string[];
  /** Topic the messages are sent to. */
  topic: string;
  /** Client id the brokers see in their logs and quotas. @default "dskafka" */
  clientId?: string;
  /** Create the topic when it is missing. Without it a missing topic is an error. */
  createTopic?: CreateTopicOptions;
  /** Compression of record batches. @default "none" */
  compression?: KafkaCompression;
  /** How long the first message of a batch waits for more, in ms, when no batch is in flight. @default 5 */
  lingerMs?: number;
  /** Maximum messages in one produce request. @default 1000 */
  maxBatchMessages?: number;
  /** Maximum bytes of payloads, keys and headers in one produce request. @default 1000000 */
  maxBatchBytes?: number;
  /** Largest accepted message (key, payload and header), in bytes; larger ones are rejected at `send()`. @default 1000000 */
  maxMessageBytes?: number;
  /** Time limit for connecting, checking and creating the topic, in ms. @default 10000 */
  connectTimeoutMs?: number;
  /** Time limit for one broker request, in ms. @default 30000 */
  requestTimeoutMs?: number;
  /** Retries of a failed produce request before its messages fail. @default 5 */
  retries?: number;
  /** Wait before the first retry, in ms; it doubles on each retry, with jitter. @default 300 */
  retryBackoffMs?: number;
  /** Upper bound of the wait between retries, in ms. @default 10000 */
  maxRetryBackoffMs?: number;
  /** Time limit for one batch, retries included, before its messages fail, in ms. @default 60000 */
  deliveryTimeoutMs?: number;
  /** Time `close()` waits for outstanding messages before it fails them, in ms. @default 30000 */
  closeTimeoutMs?: number;
  /** TLS and SASL settings. @default plaintext without authentication */
  security?: KafkaSecurityOptions;
}

/** {@linkcode KafkaSinkOptions} after validation, with every default filled in. */
export type ResolvedKafkaSinkOptions =
  & Required<Omit<KafkaSinkOptions, "createTopic" | "security">>
  & Pick<KafkaSinkOptions, "createTopic">
  & { security: KafkaSecurityOptions };

/** Defaults of the optional numeric and text options. */
export const KAFKA_SINK_DEFAULTS = {
  clientId: "dskafka",
  compression: "none",
  lingerMs: 5,
  maxBatchMessages: 1000,
  maxBatchBytes: 1_000_000,
  maxMessageBytes: 1_000_000,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  retries: 5,
  retryBackoffMs: 300,
  maxRetryBackoffMs: 10_000,
  deliveryTimeoutMs: 60_000,
  closeTimeoutMs: 30_000,
} as const satisfies Partial<KafkaSinkOptions>;

// Inclusive bounds of each integer option.
const INTEGER_BOUNDS = {
  lingerMs: [0, 60_000],
  maxBatchMessages: [1, 1_000_000],
  maxBatchBytes: [1024, 64 * 1024 * 1024],
  maxMessageBytes: [1, 64 * 1024 * 1024],
  connectTimeoutMs: [100, 600_000],
  requestTimeoutMs: [100, 600_000],
  retries: [0, 1000],
  retryBackoffMs: [1, 600_000],
  maxRetryBackoffMs: [1, 600_000],
  deliveryTimeoutMs: [100, 3_600_000],
  closeTimeoutMs: [0, 3_600_000],
} as const;

// Kafka's own rule for topic names: at most 249 characters of [a-zA-Z0-9._-], and not
// "." or "..".
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Checks every option and fills in the defaults.
 *
 * @throws {KafkaOptionsError} naming the option, the rule and the value given.
 *
 * @example
 * ```ts
 * import { validateKafkaSinkOptions } from "./kafka_options.ts";
 *
 * const options = validateKafkaSinkOptions({ brokers: ["127.0.0.1:9092"], topic: "counts" });
 * console.assert(options.lingerMs === 5);
 * ```
 */
export function validateKafkaSinkOptions(options: KafkaSinkOptions): ResolvedKafkaSinkOptions {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new KafkaOptionsError(
      "brokers",
      "the Kafka sink needs at least one broker as host:port",
    );
  }
  for (const broker of options.brokers) checkBroker("brokers", broker);

  checkTopic("topic", options.topic);

  const resolved: ResolvedKafkaSinkOptions = {
    ...KAFKA_SINK_DEFAULTS,
    ...withoutUndefined(options),
    brokers: [...options.brokers],
    topic: options.topic,
    security: options.security ?? {},
  };

  if (typeof resolved.clientId !== "string" || !/^[A-Za-z0-9._-]+$/.test(resolved.clientId)) {
    throw new KafkaOptionsError(
      "clientId",
      `invalid Kafka client id ${
        JSON.stringify(resolved.clientId)
      }: use letters, digits, ".", "_" and "-"`,
    );
  }

  if (!(KAFKA_COMPRESSIONS as readonly string[]).includes(resolved.compression)) {
    throw new KafkaOptionsError(
      "compression",
      `invalid Kafka compression ${JSON.stringify(resolved.compression)}: expected one of ${
        KAFKA_COMPRESSIONS.join(", ")
      }`,
    );
  }

  for (const [name, [min, max]] of Object.entries(INTEGER_BOUNDS)) {
    checkInteger(name, resolved[name as keyof typeof INTEGER_BOUNDS], min, max);
  }

  if (resolved.maxRetryBackoffMs < resolved.retryBackoffMs) {
    throw new KafkaOptionsError(
      "maxRetryBackoffMs",
      `maxRetryBackoffMs (${resolved.maxRetryBackoffMs}) must not be less than ` +
        `retryBackoffMs (${resolved.retryBackoffMs})`,
    );
  }

  if (resolved.maxMessageBytes > resolved.maxBatchBytes) {
    throw new KafkaOptionsError(
      "maxMessageBytes",
      `maxMessageBytes (${resolved.maxMessageBytes}) must not exceed maxBatchBytes ` +
        `(${resolved.maxBatchBytes}), or a single message could never be sent`,
    );
  }

  if (resolved.createTopic) {
    const { partitions, replicationFactor } = resolved.createTopic;
    if (partitions !== undefined) checkInteger("createTopic.partitions", partitions, 1, 100_000);
    if (replicationFactor !== undefined) {
      checkInteger("createTopic.replicationFactor", replicationFactor, 1, 32_767);
    }
  }

  validateSecurityOptions(resolved.security);
  return resolved;
}

/**
 * Splits a comma-separated `host:port` list, as `--kafka` takes it.
 *
 * @param option the option name used in error messages
 * @throws {KafkaOptionsError} for an empty list, an empty entry, a missing or invalid
 *   port, or an IPv6 address.
 *
 * @example
 * ```ts
 * import { parseBrokerList } from "./kafka_options.ts";
 *
 * const brokers = parseBrokerList("kafka-1:9092, kafka-2:9092");
 * console.assert(brokers.length === 2 && brokers[1] === "kafka-2:9092");
 * ```
 */
export function parseBrokerList(text: string, option = "--kafka"): string[] {
  const brokers = text.split(",").map((entry) => entry.trim());
  if (brokers.every((entry) => entry.length === 0)) {
    throw new KafkaOptionsError(option, `${option} needs at least one broker as host:port`);
  }

  for (const broker of brokers) checkBroker(option, broker);
  return brokers;
}

/** The broker and topic of a DeepStream connection string. */
export interface ConnStr {
  /** The one broker as `host:port`. */
  broker: string;
  /** The topic, when the string has a third field. */
  topic?: string;
}

/**
 * Parses DeepStream's `host;port[;topic]` connection string, as deepstream-test4 and
 * nvmsgbroker take it.
 *
 * @throws {KafkaOptionsError} for a missing host or port, an invalid port, an empty
 *   topic field or more than three fields.
 *
 * @example
 * ```ts
 * import { parseConnStr } from "./kafka_options.ts";
 *
 * const { broker, topic } = parseConnStr("localhost;9092;analytics");
 * console.assert(broker === "localhost:9092" && topic === "analytics");
 * ```
 */
export function parseConnStr(text: string, option = "--conn-str"): ConnStr {
  const fields = text.split(";").map((field) => field.trim());
  if (fields.length < 2 || fields.length > 3) {
    throw new KafkaOptionsError(
      option,
      `invalid ${option} ${JSON.stringify(text)}: expected "host;port;topic"`,
    );
  }

  const [host, port, topic] = fields;
  const broker = `${host}:${port}`;
  checkBroker(option, broker);

  if (topic === undefined) return { broker };

  if (topic.length === 0) {
    throw new KafkaOptionsError(
      option,
      `invalid ${option} ${JSON.stringify(text)}: the topic field is empty`,
    );
  }
  checkTopic(option, topic);
  return { broker, topic };
}

/**
 * parseArgs definitions of the Kafka options, for the CLI to merge into its own.
 *
 * @example Parse a command line
 * ```ts
 * import { parseArgs } from "node:util";
 * import { KAFKA_CLI_OPTIONS, kafkaSinkOptionsFromCli } from "./kafka_options.ts";
 *
 * const { values } = parseArgs({
 *   args: ["--conn-str", "localhost;9092;analytics"],
 *   options: KAFKA_CLI_OPTIONS,
 * });
 * const options = kafkaSinkOptionsFromCli(values);
 * console.assert(options?.topic === "analytics");
 * ```
 */
export const KAFKA_CLI_OPTIONS = {
  "kafka": { type: "string" },
  "topic": { type: "string" },
  "conn-str": { type: "string" },
  "create-topic": { type: "boolean" },
  "partitions": { type: "string" },
  "replication-factor": { type: "string" },
  "kafka-compression": { type: "string" },
  "kafka-client-id": { type: "string" },
  "kafka-tls": { type: "boolean" },
  "kafka-ca": { type: "string" },
  "kafka-cert": { type: "string" },
  "kafka-key": { type: "string" },
  "sasl-mechanism": { type: "string" },
  "sasl-username": { type: "string" },
  "sasl-password-env": { type: "string" },
  "sasl-password-file": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Help text of {@linkcode KAFKA_CLI_OPTIONS}, one option per line. */
export const KAFKA_CLI_HELP = `Kafka:
  --kafka HOST:PORT[,HOST:PORT...]  bootstrap brokers; needs --topic
  --topic NAME                      topic the messages are sent to
  --conn-str "HOST;PORT;TOPIC"      DeepStream-style broker and topic, instead of --kafka
  --create-topic                    create the topic when it does not exist
  --partitions N                    partitions of a created topic (default: broker setting)
  --replication-factor N            replicas of a created topic (default: broker setting)
  --kafka-compression none|gzip     compression of record batches (default: none)
  --kafka-client-id ID              client id the brokers see (default: dskafka)
  --kafka-tls                       connect with TLS, trusting the system CA store
  --kafka-ca FILE                   PEM CA certificates for the broker (implies --kafka-tls)
  --kafka-cert FILE                 PEM client certificate (implies --kafka-tls; needs --kafka-key)
  --kafka-key FILE                  PEM client private key, unencrypted
  --sasl-mechanism plain|scram-sha-256|scram-sha-512
  --sasl-username NAME              SASL user name
  --sasl-password-env VAR           variable with the SASL password (default: ${DEFAULT_PASSWORD_ENV})
  --sasl-password-file FILE         file with the SASL password, instead of a variable`;

/** The values parseArgs returns for {@linkcode KAFKA_CLI_OPTIONS}. */
export type KafkaCliValues = {
  [name in keyof typeof KAFKA_CLI_OPTIONS]?: typeof KAFKA_CLI_OPTIONS[name]["type"] extends
    "boolean" ? boolean : string;
};

/**
 * Builds the sink options from parsed command-line values.
 *
 * Returns `undefined` when neither `--kafka` nor `--conn-str` is given, so the CLI can
 * pick another sink. A Kafka option without either of them is an error.
 *
 * @throws {KafkaOptionsError} for conflicting, incomplete or invalid options.
 */
export function kafkaSinkOptionsFromCli(values: KafkaCliValues): KafkaSinkOptions | undefined {
  const target = brokersAndTopic(values);
  if (target === undefined) {
    const stray = Object.keys(KAFKA_CLI_OPTIONS).find((name) =>
      values[name as keyof KafkaCliValues] !== undefined
    );
    if (stray !== undefined) {
      throw new KafkaOptionsError(
        `--${stray}`,
        `--${stray} is a Kafka option: give the brokers with --kafka HOST:PORT --topic NAME ` +
          'or --conn-str "HOST;PORT;TOPIC"',
      );
    }
    return undefined;
  }

  const options: KafkaSinkOptions = { ...target };

  if (values["create-topic"]) {
    options.createTopic = {
      partitions: optionalInteger("--partitions", values["partitions"]),
      replicationFactor: optionalInteger("--replication-factor", values["replication-factor"]),
    };
  } else {
    for (const name of ["partitions", "replication-factor"] as const) {
      if (values[name] !== undefined) {
        throw new KafkaOptionsError(`--${name}`, `--${name} applies only with --create-topic`);
      }
    }
  }

  if (values["kafka-compression"] !== undefined) {
    options.compression = values["kafka-compression"] as KafkaCompression;
  }
  if (values["kafka-client-id"] !== undefined) options.clientId = values["kafka-client-id"];

  const security = securityFromCli(values);
  if (security.tls || security.sasl) options.security = security;

  // Validate here, so that an invalid value is reported with its flag before any
  // connection is attempted.
  validateKafkaSinkOptions(options);
  return options;
}

function brokersAndTopic(values: KafkaCliValues): { brokers: string[]; topic: string } | undefined {
  const connStr = values["conn-str"];
  const kafka = values["kafka"];

  if (connStr !== undefined && kafka !== undefined) {
    throw new KafkaOptionsError(
      "--conn-str",
      "give the brokers either with --kafka or with --conn-str, not both",
    );
  }

  if (connStr !== undefined) {
    const parsed = parseConnStr(connStr);
    const topic = parsed.topic ?? values["topic"];
    if (topic === undefined) {
      throw new KafkaOptionsError(
        "--conn-str",
        `--conn-str ${JSON.stringify(connStr)} has no topic: write it as "host;port;topic" ` +
          "or add --topic NAME",
      );
    }
    if (parsed.topic !== undefined && values["topic"] !== undefined && values["topic"] !== topic) {
      throw new KafkaOptionsError(
        "--topic",
        `--topic ${values["topic"]} contradicts the topic ${parsed.topic} in --conn-str`,
      );
    }
    checkTopic("--topic", topic);
    return { brokers: [parsed.broker], topic };
  }

  if (kafka !== undefined) {
    const brokers = parseBrokerList(kafka, "--kafka");
    const topic = values["topic"];
    if (topic === undefined) {
      throw new KafkaOptionsError("--topic", "--kafka needs --topic NAME");
    }
    checkTopic("--topic", topic);
    return { brokers, topic };
  }

  return undefined;
}

function securityFromCli(values: KafkaCliValues): KafkaSecurityOptions {
  const security: KafkaSecurityOptions = {};

  const caFile = values["kafka-ca"];
  const certFile = values["kafka-cert"];
  const keyFile = values["kafka-key"];
  if (
    values["kafka-tls"] || caFile !== undefined || certFile !== undefined || keyFile !== undefined
  ) {
    security.tls = { caFile, certFile, keyFile };
  }

  const mechanism = values["sasl-mechanism"];
  const username = values["sasl-username"];
  const passwordEnv = values["sasl-password-env"];
  const passwordFile = values["sasl-password-file"];
  if (mechanism === undefined) {
    const stray = [
      ["--sasl-username", username],
      ["--sasl-password-env", passwordEnv],
      ["--sasl-password-file", passwordFile],
    ].find(([, value]) => value !== undefined);
    if (stray) {
      throw new KafkaOptionsError(
        stray[0]!,
        `${stray[0]} needs --sasl-mechanism (${SASL_MECHANISMS.join(", ")})`,
      );
    }
    return security;
  }

  if (username === undefined) {
    throw new KafkaOptionsError("--sasl-username", "--sasl-mechanism needs --sasl-username NAME");
  }
  security.sasl = {
    mechanism: mechanism as SaslMechanism,
    username,
    passwordEnv,
    passwordFile,
  };
  return security;
}

function optionalInteger(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;

  if (!/^[0-9]+$/.test(text.trim())) {
    throw new KafkaOptionsError(
      option,
      `invalid ${option} ${JSON.stringify(text)}: expected a positive integer`,
    );
  }
  return Number(text.trim());
}

function checkBroker(option: string, broker: unknown): void {
  if (typeof broker !== "string" || broker.length === 0) {
    throw new KafkaOptionsError(
      option,
      `invalid broker ${JSON.stringify(broker)} in ${option}: expected host:port`,
    );
  }

  if (broker.startsWith("[") || broker.split(":").length > 2) {
    throw new KafkaOptionsError(
      option,
      `invalid broker ${broker} in ${option}: IPv6 addresses are not supported by the Kafka ` +
        "client (kafkajs 2.2.4); use a host name or an IPv4 address",
    );
  }

  const separator = broker.lastIndexOf(":");
  const host = separator < 0 ? broker : broker.slice(0, separator);
  const port = separator < 0 ? "" : broker.slice(separator + 1);

  if (!HOST_NAME.test(host)) {
    throw new KafkaOptionsError(
      option,
      `invalid broker ${
        JSON.stringify(broker)
      } in ${option}: expected host:port with a host name ` +
        "or IPv4 address",
    );
  }

  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new KafkaOptionsError(
      option,
      `invalid broker ${JSON.stringify(broker)} in ${option}: expected host:port with a port ` +
        "from 1 to 65535",
    );
  }
}

function checkTopic(option: string, topic: unknown): void {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new KafkaOptionsError(option, `the Kafka topic must not be empty (${option})`);
  }

  if (!TOPIC_NAME.test(topic) || topic === "." || topic === "..") {
    throw new KafkaOptionsError(
      option,
      `invalid Kafka topic ${JSON.stringify(topic)} (${option}): use at most 249 letters, ` +
        'digits, ".", "_" and "-"',
    );
  }
}

function checkInteger(option: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new KafkaOptionsError(
      option,
      `invalid ${option} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`,
    );
  }
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
