/**
 * KafkaSink over TLS with SASL PLAIN and SCRAM against a real broker. The test makes a
 * throw-away CA and broker certificate with openssl, and runs its own broker with
 * `scripts/kafka/broker` and an extra SASL_SSL listener, on free ports and a temporary
 * state folder.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { ExitCode } from "../../src/errors.ts";
import { KafkaSink } from "../../src/sink/kafka.ts";
import { KafkaAuthError } from "../../src/sink/kafka_errors.ts";
import type { KafkaSinkOptions } from "../../src/sink/kafka_options.ts";
import { closedPort, freshTopic, readTopic } from "./_broker.ts";

const BROKER_SCRIPT = fileURLToPath(new URL("../../scripts/kafka/broker", import.meta.url));
const USER = "camera";
const PASSWORD = "camera-Secret-42";
const PASSWORD_ENV = "DSKAFKA_TEST_SASL_PASSWORD";

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  if (output.code !== 0) {
    const decoder = new TextDecoder();
    throw new Error(
      `${command} ${args.join(" ")} failed with exit code ${output.code}:\n` +
        decoder.decode(output.stdout) + decoder.decode(output.stderr),
    );
  }
}

/** Makes a CA and a broker certificate for 127.0.0.1 signed by it, in `dir`. */
async function makeCertificates(dir: string, name: string): Promise<void> {
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    `/CN=dskafka test CA ${name}`,
    "-keyout",
    `${dir}/${name}-ca.key`,
    "-out",
    `${dir}/${name}-ca.pem`,
  ]);
  await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    `${dir}/${name}-broker.key`,
    "-out",
    `${dir}/${name}-broker.csr`,
  ]);
  await Deno.writeTextFile(`${dir}/${name}-san.ext`, "subjectAltName=IP:127.0.0.1\n");
  await run("openssl", [
    "x509",
    "-req",
    "-days",
    "1",
    "-in",
    `${dir}/${name}-broker.csr`,
    "-CA",
    `${dir}/${name}-ca.pem`,
    "-CAkey",
    `${dir}/${name}-ca.key`,
    "-CAcreateserial",
    "-extfile",
    `${dir}/${name}-san.ext`,
    "-out",
    `${dir}/${name}-broker.crt`,
  ]);
  // Kafka's PEM key store wants an unencrypted PKCS#8 key followed by the certificate.
  await run("openssl", [
    "pkcs8",
    "-topk8",
    "-nocrypt",
    "-in",
    `${dir}/${name}-broker.key`,
    "-out",
    `${dir}/${name}-broker.p8`,
  ]);
  const key = await Deno.readTextFile(`${dir}/${name}-broker.p8`);
  const certificate = await Deno.readTextFile(`${dir}/${name}-broker.crt`);
  await Deno.writeTextFile(`${dir}/${name}-broker.pem`, key + certificate);
}

Deno.test("KafkaSink over TLS with SASL PLAIN and SCRAM", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "dskafka-auth-" });
  const plainPort = closedPort();
  const controllerPort = closedPort();
  const securePort = closedPort();
  const jaas = (module: string, users = "") =>
    `org.apache.kafka.common.security.${module} required${users};`;
  const env = {
    DSKAFKA_KAFKA_PORT: String(plainPort),
    DSKAFKA_KAFKA_CONTROLLER_PORT: String(controllerPort),
    DSKAFKA_KAFKA_HOME: `${dir}/broker`,
    DSKAFKA_KAFKA_EXTRA_PROPERTIES: [
      `listeners=PLAINTEXT://127.0.0.1:${plainPort},CONTROLLER://127.0.0.1:${controllerPort},` +
      `SASL_SSL://127.0.0.1:${securePort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${plainPort},SASL_SSL://127.0.0.1:${securePort}`,
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
      "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
      `listener.name.sasl_ssl.plain.sasl.jaas.config=${
        jaas("plain.PlainLoginModule", ` user_${USER}="${PASSWORD}"`)
      }`,
      `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${jaas("scram.ScramLoginModule")}`,
      `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas("scram.ScramLoginModule")}`,
      "ssl.keystore.type=PEM",
      `ssl.keystore.location=${dir}/good-broker.pem`,
    ].join("\n"),
    DSKAFKA_KAFKA_FORMAT_ARGS: [
      `--add-scram SCRAM-SHA-256=[name=${USER},password=${PASSWORD}]`,
      `--add-scram SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`,
    ].join(" "),
  };
  const secure = `127.0.0.1:${securePort}`;
  const plain = `127.0.0.1:${plainPort}`;

  await makeCertificates(dir, "good");
  await makeCertificates(dir, "other");
  await Deno.writeTextFile(`${dir}/password`, `${PASSWORD}\n`);
  Deno.env.set(PASSWORD_ENV, PASSWORD);

  const deliversOne = async (options: Omit<KafkaSinkOptions, "brokers" | "topic">) => {
    const topic = freshTopic("auth");
    const sink = await KafkaSink.connect({
      brokers: [secure],
      topic,
      createTopic: { partitions: 1, replicationFactor: 1 },
      ...options,
    });
    await sink.send({ deviceId: "cam-1", messageId: "m-1", payload: '{"ok":true}' });
    await sink.close();

    const records = await readTopic(topic, plain);
    assert.deepEqual(records.map((record) => [record.key, record.payload]), [
      ["cam-1", '{"ok":true}'],
    ]);
  };

  const authError = async (options: Omit<KafkaSinkOptions, "brokers" | "topic">) => {
    const error = await KafkaSink.connect({
      brokers: [secure],
      topic: freshTopic("auth"),
      createTopic: {},
      connectTimeoutMs: 5_000,
      ...options,
    }).then(() => undefined, (caught: unknown) => caught);

    assert.ok(error instanceof KafkaAuthError, `got ${error}`);
    assert.equal(error.exitCode, ExitCode.KafkaAuth);
    assert.ok(error.message.includes(secure), error.message);
    assert.ok(!error.message.includes(PASSWORD), "the password leaked into the message");
    return error;
  };

  try {
    await run(BROKER_SCRIPT, ["start"], env);

    await t.step("SCRAM-SHA-256, password from a variable", async () => {
      await deliversOne({
        security: {
          tls: { caFile: `${dir}/good-ca.pem` },
          sasl: { mechanism: "scram-sha-256", username: USER, passwordEnv: PASSWORD_ENV },
        },
      });
    });

    await t.step("SCRAM-SHA-512, password from a file", async () => {
      await deliversOne({
        security: {
          tls: { caFile: `${dir}/good-ca.pem` },
          sasl: { mechanism: "scram-sha-512", username: USER, passwordFile: `${dir}/password` },
        },
      });
    });

    await t.step("PLAIN", async () => {
      await deliversOne({
        security: {
          tls: { caFile: `${dir}/good-ca.pem` },
          sasl: { mechanism: "plain", username: USER, passwordEnv: PASSWORD_ENV },
        },
      });
    });

    await t.step("wrong password throws KafkaAuthError", async () => {
      Deno.env.set("DSKAFKA_TEST_WRONG_PASSWORD", "not-the-password");
      const error = await authError({
        security: {
          tls: { caFile: `${dir}/good-ca.pem` },
          sasl: {
            mechanism: "scram-sha-256",
            username: USER,
            passwordEnv: "DSKAFKA_TEST_WRONG_PASSWORD",
          },
        },
      });
      assert.match(error.message, /SASL authentication/);
    });

    await t.step("untrusted broker certificate throws KafkaAuthError", async () => {
      const error = await authError({
        security: {
          tls: { caFile: `${dir}/other-ca.pem` },
          sasl: { mechanism: "scram-sha-256", username: USER, passwordEnv: PASSWORD_ENV },
        },
      });
      assert.match(error.message, /TLS connection/);
    });
  } finally {
    Deno.env.delete(PASSWORD_ENV);
    await run(BROKER_SCRIPT, ["stop"], env);
    await Deno.remove(dir, { recursive: true });
  }
});
