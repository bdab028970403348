/** TLS and SASL option plumbing: files, environment variables, and no leaked secret. */

import assert from "node:assert/strict";

import { KafkaOptionsError } from "../../src/sink/kafka_errors.ts";
import { kafkajsLogCreator } from "../../src/sink/kafka_log.ts";
import { describeSecurity, resolveSecurity } from "../../src/sink/kafka_security.ts";
import type { LogFields, Logger } from "../../src/log.ts";
import { logLevel } from "kafkajs";

const SECRET = "s3cret-Pa55word";

async function rejection(work: Promise<unknown>): Promise<KafkaOptionsError> {
  const error = await work.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof KafkaOptionsError, `expected KafkaOptionsError, got ${error}`);
  return error;
}

Deno.test("resolveSecurity() SASL password from a variable", async () => {
  const env = (name: string) => name === "CAMERA_KAFKA_PASSWORD" ? SECRET : undefined;

  const resolved = await resolveSecurity(
    {
      sasl: {
        mechanism: "scram-sha-256",
        username: "camera",
        passwordEnv: "CAMERA_KAFKA_PASSWORD",
      },
    },
    env,
  );

  assert.deepEqual(resolved.sasl, {
    mechanism: "scram-sha-256",
    username: "camera",
    password: SECRET,
  });
  assert.equal(resolved.ssl, undefined);
});

Deno.test("resolveSecurity() SASL password from the default variable", async () => {
  const env = (name: string) => name === "DSKAFKA_KAFKA_PASSWORD" ? SECRET : undefined;

  const resolved = await resolveSecurity({ sasl: { mechanism: "plain", username: "u" } }, env);

  assert.equal((resolved.sasl as { password: string }).password, SECRET);
});

Deno.test("resolveSecurity() SASL password file loses one newline", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/password`;
    await Deno.writeTextFile(path, `${SECRET}\n`);

    const resolved = await resolveSecurity(
      { sasl: { mechanism: "scram-sha-512", username: "u", passwordFile: path } },
      () => undefined,
    );

    assert.equal((resolved.sasl as { password: string }).password, SECRET);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveSecurity() missing password names the variable", async () => {
  const error = await rejection(
    resolveSecurity(
      { sasl: { mechanism: "plain", username: "u", passwordEnv: "NOT_SET_ANYWHERE" } },
      () => undefined,
    ),
  );

  assert.equal(error.option, "sasl.passwordEnv");
  assert.match(error.message, /set the environment variable NOT_SET_ANYWHERE/);
});

Deno.test("resolveSecurity() missing files name the option and path", async () => {
  const cases = [
    [{ tls: { caFile: "/nonexistent/ca.pem" } }, "tls.caFile"],
    [{ tls: { certFile: "/nonexistent/c.pem", keyFile: "/nonexistent/k.pem" } }, "tls.certFile"],
    [
      { sasl: { mechanism: "plain" as const, username: "u", passwordFile: "/nonexistent/pw" } },
      "sasl.passwordFile",
    ],
  ] as const;

  for (const [security, option] of cases) {
    const error = await rejection(resolveSecurity(security, () => SECRET));
    assert.equal(error.option, option);
    assert.match(error.message, /\/nonexistent\/.*file not found/);
  }
});

Deno.test("resolveSecurity() TLS files become ssl options", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, "CA");
    await Deno.writeTextFile(`${dir}/cert.pem`, "CERT");
    await Deno.writeTextFile(`${dir}/key.pem`, "KEY");

    const resolved = await resolveSecurity({
      tls: { caFile: `${dir}/ca.pem`, certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` },
    });

    assert.deepEqual(resolved.ssl, {
      rejectUnauthorized: true,
      ca: "CA",
      cert: "CERT",
      key: "KEY",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("describeSecurity() names no secret", () => {
  const text = describeSecurity({
    tls: {},
    sasl: { mechanism: "scram-sha-512", username: "camera", passwordEnv: "CAMERA_KAFKA_PASSWORD" },
  });

  assert.equal(text, "TLS, SASL scram-sha-512 as camera");
});

Deno.test("kafkajsLogCreator() maps levels and keeps only safe fields", () => {
  const lines: [string, string, LogFields | undefined][] = [];
  const logger: Logger = {
    debug: (message, fields) => lines.push(["debug", message, fields]),
    info: (message, fields) => lines.push(["info", message, fields]),
    warn: (message, fields) => lines.push(["warn", message, fields]),
    error: (message, fields) => lines.push(["error", message, fields]),
  };
  const write = kafkajsLogCreator(logger)(logLevel.DEBUG);
  const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}) =>
    write({
      namespace: "Connection",
      level,
      label: "",
      log: { timestamp: "", message, ...extra },
    });

  entry(logLevel.ERROR, "Connection error", { broker: "127.0.0.1:1", password: SECRET });
  entry(logLevel.WARN, "Limiting retries for the idempotent producer may invalidate EoS");
  entry(logLevel.INFO, "Starting", { sasl: { password: SECRET } });

  assert.deepEqual(lines.map(([level, message]) => [level, message]), [
    ["warn", "Connection error"],
    ["debug", "Limiting retries for the idempotent producer may invalidate EoS"],
    ["debug", "Starting"],
  ]);
  assert.deepEqual(lines[0][2], { kafkajs: "Connection", broker: "127.0.0.1:1" });
  assert.ok(!JSON.stringify(lines).includes(SECRET), "a secret reached the log");
});
