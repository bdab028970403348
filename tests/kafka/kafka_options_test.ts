/** Parsing of the Kafka command-line options into KafkaSink options. No broker needed. */

import assert from "node:assert/strict";
import { parseArgs } from "node:util";

import { ExitCode } from "../../src/errors.ts";
import { KafkaOptionsError } from "../../src/sink/kafka_errors.ts";
import {
  KAFKA_CLI_OPTIONS,
  kafkaSinkOptionsFromCli,
  parseBrokerList,
  parseConnStr,
  validateKafkaSinkOptions,
} from "../../src/sink/kafka_options.ts";

function fromArgs(args: string[]) {
  const { values } = parseArgs({ args, options: KAFKA_CLI_OPTIONS, strict: true });
  return kafkaSinkOptionsFromCli(values);
}

function optionError(action: () => unknown): KafkaOptionsError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof KafkaOptionsError, `expected KafkaOptionsError, got ${error}`);
    assert.equal(error.exitCode, ExitCode.Usage);
    return error;
  }
  assert.fail("expected a KafkaOptionsError");
}

Deno.test("parseConnStr() host, port and topic", () => {
  assert.deepEqual(parseConnStr("localhost;9092;analytics"), {
    broker: "localhost:9092",
    topic: "analytics",
  });
  assert.deepEqual(parseConnStr(" 127.0.0.1 ; 19092 ; a.b_c-d "), {
    broker: "127.0.0.1:19092",
    topic: "a.b_c-d",
  });
  assert.deepEqual(parseConnStr("kafka;9092"), { broker: "kafka:9092" });
});

Deno.test("parseConnStr() invalid strings", () => {
  const cases: [string, RegExp][] = [
    ["localhost", /expected "host;port;topic"/],
    ["localhost;9092;t;extra", /expected "host;port;topic"/],
    ["localhost;abc;t", /"localhost:abc".*port from 1 to 65535/],
    ["localhost;70000;t", /port from 1 to 65535/],
    [";9092;t", /":9092"/],
    ["localhost;9092;", /the topic field is empty/],
    ["localhost;9092;bad topic", /invalid Kafka topic "bad topic"/],
  ];

  for (const [text, expected] of cases) {
    const error = optionError(() => parseConnStr(text));
    assert.equal(error.option, "--conn-str", text);
    assert.match(error.message, expected, text);
  }
});

Deno.test("parseBrokerList() lists and invalid entries", () => {
  assert.deepEqual(parseBrokerList("a:1"), ["a:1"]);
  assert.deepEqual(parseBrokerList(" kafka-1:9092 , kafka-2.example:9093 "), [
    "kafka-1:9092",
    "kafka-2.example:9093",
  ]);

  const cases: [string, RegExp][] = [
    ["", /needs at least one broker/],
    ["a:1,", /invalid broker "" in --kafka/],
    ["a", /invalid broker "a" in --kafka: expected host:port with a port/],
    ["a:", /port from 1 to 65535/],
    ["a:0", /port from 1 to 65535/],
    ["[::1]:9092", /IPv6 addresses are not supported/],
    ["::1:9092", /IPv6 addresses are not supported/],
    ["bad_host:9092", /with a host name or IPv4 address/],
  ];
  for (const [text, expected] of cases) {
    const error = optionError(() => parseBrokerList(text));
    assert.equal(error.option, "--kafka", text);
    assert.match(error.message, expected, text);
  }
});

Deno.test("kafkaSinkOptionsFromCli() --conn-str forms", () => {
  assert.deepEqual(fromArgs(["--conn-str", "localhost;9092;analytics"]), {
    brokers: ["localhost:9092"],
    topic: "analytics",
  });
  assert.deepEqual(fromArgs(["--conn-str", "localhost;9092", "--topic", "counts"]), {
    brokers: ["localhost:9092"],
    topic: "counts",
  });
  assert.deepEqual(fromArgs(["--conn-str", "h;1;t", "--topic", "t"]), {
    brokers: ["h:1"],
    topic: "t",
  });
});

Deno.test("kafkaSinkOptionsFromCli() --conn-str without topic", () => {
  const error = optionError(() => fromArgs(["--conn-str", "localhost;9092"]));

  assert.equal(error.option, "--conn-str");
  assert.match(error.message, /"localhost;9092" has no topic/);
  assert.match(error.message, /"host;port;topic"/);
});

Deno.test("kafkaSinkOptionsFromCli() --kafka with --topic and extras", () => {
  assert.deepEqual(
    fromArgs([
      "--kafka",
      "k1:9092,k2:9092",
      "--topic",
      "counts",
      "--create-topic",
      "--partitions",
      "6",
      "--replication-factor",
      "3",
      "--kafka-compression",
      "gzip",
      "--kafka-client-id",
      "gate-7",
    ]),
    {
      brokers: ["k1:9092", "k2:9092"],
      topic: "counts",
      createTopic: { partitions: 6, replicationFactor: 3 },
      compression: "gzip",
      clientId: "gate-7",
    },
  );
});

Deno.test("kafkaSinkOptionsFromCli() no Kafka option returns undefined", () => {
  assert.equal(fromArgs([]), undefined);
});

Deno.test("kafkaSinkOptionsFromCli() conflicting or incomplete options", () => {
  const cases: [string[], string, RegExp][] = [
    [["--kafka", "a:1"], "--topic", /--kafka needs --topic NAME/],
    [["--kafka", "a:1", "--conn-str", "a;1;t"], "--conn-str", /either with --kafka or/],
    [["--conn-str", "a;1;t", "--topic", "u"], "--topic", /--topic u contradicts the topic t/],
    [["--topic", "t"], "--topic", /--topic is a Kafka option/],
    [
      ["--kafka", "a:1", "--topic", "t", "--partitions", "3"],
      "--partitions",
      /only with --create-topic/,
    ],
    [
      ["--kafka", "a:1", "--topic", "t", "--create-topic", "--partitions", "three"],
      "--partitions",
      /invalid --partitions "three": expected a positive integer/,
    ],
    [
      ["--kafka", "a:1", "--topic", "t", "--create-topic", "--replication-factor", "0"],
      "createTopic.replicationFactor",
      /invalid createTopic.replicationFactor 0/,
    ],
    [["--kafka", "a:1", "--topic", "t", "--kafka-compression", "lz4"], "compression", /"lz4"/],
    [
      ["--kafka", "a:1", "--topic", "t", "--sasl-username", "u"],
      "--sasl-username",
      /needs --sasl-mechanism/,
    ],
    [
      ["--kafka", "a:1", "--topic", "t", "--sasl-mechanism", "plain"],
      "--sasl-username",
      /--sasl-username NAME/,
    ],
    [
      ["--kafka", "a:1", "--topic", "t", "--sasl-mechanism", "md5", "--sasl-username", "u"],
      "sasl.mechanism",
      /invalid SASL mechanism "md5"/,
    ],
    [
      ["--kafka", "a:1", "--topic", "t", "--kafka-cert", "c.pem"],
      "tls.keyFile",
      /both a certificate file and a key file/,
    ],
  ];

  for (const [args, option, expected] of cases) {
    const error = optionError(() => fromArgs(args));
    assert.equal(error.option, option, args.join(" "));
    assert.match(error.message, expected, args.join(" "));
  }
});

Deno.test("kafkaSinkOptionsFromCli() TLS and SASL options", () => {
  const options = fromArgs([
    "--kafka",
    "a:9093",
    "--topic",
    "t",
    "--kafka-ca",
    "/certs/ca.pem",
    "--sasl-mechanism",
    "scram-sha-512",
    "--sasl-username",
    "camera",
    "--sasl-password-file",
    "/run/secrets/kafka",
  ]);

  assert.deepEqual(options?.security, {
    tls: { caFile: "/certs/ca.pem", certFile: undefined, keyFile: undefined },
    sasl: {
      mechanism: "scram-sha-512",
      username: "camera",
      passwordEnv: undefined,
      passwordFile: "/run/secrets/kafka",
    },
  });
});

Deno.test("validateKafkaSinkOptions() fills defaults", () => {
  const resolved = validateKafkaSinkOptions({ brokers: ["127.0.0.1:9092"], topic: "t" });

  assert.equal(resolved.clientId, "dskafka");
  assert.equal(resolved.compression, "none");
  assert.equal(resolved.lingerMs, 5);
  assert.equal(resolved.retries, 5);
  assert.equal(resolved.createTopic, undefined);
  assert.deepEqual(resolved.security, {});
});

Deno.test("validateKafkaSinkOptions() cross-field rules", () => {
  const base = { brokers: ["127.0.0.1:9092"], topic: "t" };

  const backoff = optionError(() =>
    validateKafkaSinkOptions({ ...base, retryBackoffMs: 500, maxRetryBackoffMs: 100 })
  );
  assert.equal(backoff.option, "maxRetryBackoffMs");

  const size = optionError(() =>
    validateKafkaSinkOptions({ ...base, maxMessageBytes: 20_000, maxBatchBytes: 10_000 })
  );
  assert.equal(size.option, "maxMessageBytes");
  assert.match(size.message, /maxMessageBytes \(20000\) must not exceed maxBatchBytes \(10000\)/);
});
