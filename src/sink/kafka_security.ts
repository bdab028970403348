/**
 * TLS and SASL settings of the Kafka sink, and how they become kafkajs options.
 *
 * Secrets never travel on the command line. A SASL password is read from an
 * environment variable or a file when the sink connects. Neither the password nor the
 * private key appears in a log line or an error message.
 *
 * @module
 */

import type { ConnectionOptions } from "node:tls";
import type { SASLOptions } from "kafkajs";

import { KafkaOptionsError } from "./kafka_errors.ts";

/** SASL mechanisms the sink supports, as kafkajs names them. */
export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;

/** One of {@linkcode SASL_MECHANISMS}. */
export type SaslMechanism = typeof SASL_MECHANISMS[number];

/** Environment variable read for the SASL password when no other source is given. */
export const DEFAULT_PASSWORD_ENV = "DSKAFKA_KAFKA_PASSWORD";

/** TLS settings. Any of them, even none, turns TLS on. */
export interface KafkaTlsOptions {
  /** PEM file of the CA certificates that the broker certificate is checked against. @default the system trust store */
  caFile?: string;
  /** PEM file of the client certificate, for brokers that require client authentication. */
  certFile?: string;
  /** PEM file of the client certificate's private key (unencrypted). */
  keyFile?: string;
}

/** SASL settings. The password comes from `passwordFile` or from `passwordEnv`. */
export interface KafkaSaslOptions {
  /** The SASL mechanism. */
  mechanism: SaslMechanism;
  /** The user name. */
  username: string;
  /** Environment variable that contains the password. @default "DSKAFKA_KAFKA_PASSWORD" */
  passwordEnv?: string;
  /** File whose content is the password; one trailing newline is removed. */
  passwordFile?: string;
}

/** Transport security of the Kafka connection. */
export interface KafkaSecurityOptions {
  /** Connect with TLS. */
  tls?: KafkaTlsOptions;
  /** Authenticate with SASL. */
  sasl?: KafkaSaslOptions;
}

/** The kafkajs `ssl` and `sasl` client options built from {@linkcode KafkaSecurityOptions}. */
export interface KafkaClientSecurity {
  /** kafkajs `ssl` option; absent for plaintext. */
  ssl?: ConnectionOptions;
  /** kafkajs `sasl` option; absent without SASL. */
  sasl?: SASLOptions;
}

/** Reads an environment variable; injectable for tests. */
export type EnvReader = (name: string) => string | undefined;

/**
 * Checks the security options without touching files or the environment.
 *
 * @throws {KafkaOptionsError} naming the option, the rule and the value.
 */
export function validateSecurityOptions(security: KafkaSecurityOptions): void {
  const tls = security.tls;
  if (tls) {
    for (const [option, path] of Object.entries(tls)) {
      if (path !== undefined && (typeof path !== "string" || path.length === 0)) {
        throw new KafkaOptionsError(
          `tls.${option}`,
          `invalid Kafka TLS option tls.${option}: expected a file path, got ${
            JSON.stringify(path)
          }`,
        );
      }
    }

    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      throw new KafkaOptionsError(
        tls.certFile === undefined ? "tls.certFile" : "tls.keyFile",
        "Kafka TLS client authentication needs both a certificate file and a key file; " +
          `got only the ${tls.certFile === undefined ? "key" : "certificate"} file`,
      );
    }
  }

  const sasl = security.sasl;
  if (!sasl) return;

  if (!(SASL_MECHANISMS as readonly string[]).includes(sasl.mechanism)) {
    throw new KafkaOptionsError(
      "sasl.mechanism",
      `invalid SASL mechanism ${JSON.stringify(sasl.mechanism)}: expected one of ${
        SASL_MECHANISMS.join(", ")
      }`,
    );
  }

  if (typeof sasl.username !== "string" || sasl.username.length === 0) {
    throw new KafkaOptionsError(
      "sasl.username",
      `SASL ${sasl.mechanism} needs a non-empty user name`,
    );
  }

  if (sasl.passwordEnv !== undefined && sasl.passwordFile !== undefined) {
    throw new KafkaOptionsError(
      "sasl.passwordFile",
      "give the SASL password either in an environment variable or in a file, not both " +
        `(got variable ${sasl.passwordEnv} and file ${sasl.passwordFile})`,
    );
  }

  if (sasl.passwordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(sasl.passwordEnv)) {
    throw new KafkaOptionsError(
      "sasl.passwordEnv",
      `invalid environment variable name for the SASL password: ${
        JSON.stringify(sasl.passwordEnv)
      }`,
    );
  }
}

/**
 * Reads the certificate, key and password files and the password variable, and builds
 * the kafkajs `ssl` and `sasl` options.
 *
 * @throws {KafkaOptionsError} when a file cannot be read or the password is missing
 *   or empty. The message names the file or variable, never its content.
 *
 * @example Plaintext needs no files
 * ```ts
 * import { resolveSecurity } from "./kafka_security.ts";
 *
 * const security = await resolveSecurity({});
 * console.assert(security.ssl === undefined && security.sasl === undefined);
 * ```
 */
export async function resolveSecurity(
  security: KafkaSecurityOptions,
  env: EnvReader = (name) => Deno.env.get(name),
): Promise<KafkaClientSecurity> {
  validateSecurityOptions(security);
  const resolved: KafkaClientSecurity = {};

  if (security.tls) {
    const { caFile, certFile, keyFile } = security.tls;
    resolved.ssl = {
      rejectUnauthorized: true,
      ca: caFile === undefined ? undefined : await readSecretFile("tls.caFile", caFile),
      cert: certFile === undefined ? undefined : await readSecretFile("tls.certFile", certFile),
      key: keyFile === undefined ? undefined : await readSecretFile("tls.keyFile", keyFile),
    };
  }

  if (security.sasl) {
    const password = await readPassword(security.sasl, env);
    resolved.sasl = saslOptions(security.sasl.mechanism, security.sasl.username, password);
  }

  return resolved;
}

/**
 * Describes the security settings for a log line, without any secret.
 *
 * @example
 * ```ts
 * import { describeSecurity } from "./kafka_security.ts";
 *
 * const text = describeSecurity({ sasl: { mechanism: "scram-sha-256", username: "cam" } });
 * console.assert(text === "plaintext, SASL scram-sha-256 as cam");
 * ```
 */
export function describeSecurity(security: KafkaSecurityOptions): string {
  const transport = security.tls ? "TLS" : "plaintext";
  if (!security.sasl) return transport;

  return `${transport}, SASL ${security.sasl.mechanism} as ${security.sasl.username}`;
}

// kafkajs types SASLOptions as a union keyed by the mechanism literal, so each branch
// names its literal.
function saslOptions(mechanism: SaslMechanism, username: string, password: string): SASLOptions {
  switch (mechanism) {
    case "plain":
      return { mechanism: "plain", username, password };
    case "scram-sha-256":
      return { mechanism: "scram-sha-256", username, password };
    case "scram-sha-512":
      return { mechanism: "scram-sha-512", username, password };
  }
}

async function readPassword(sasl: KafkaSaslOptions, env: EnvReader): Promise<string> {
  if (sasl.passwordFile !== undefined) {
    const text = await readSecretFile("sasl.passwordFile", sasl.passwordFile);
    const password = text.replace(/\r?\n$/, "");
    if (password.length === 0) {
      throw new KafkaOptionsError(
        "sasl.passwordFile",
        `the SASL password file ${sasl.passwordFile} is empty`,
      );
    }
    return password;
  }

  const variable = sasl.passwordEnv ?? DEFAULT_PASSWORD_ENV;
  const password = env(variable);
  if (password === undefined || password.length === 0) {
    throw new KafkaOptionsError(
      "sasl.passwordEnv",
      `SASL ${sasl.mechanism} needs a password: set the environment variable ${variable} ` +
        "or give a password file",
    );
  }
  return password;
}

async function readSecretFile(option: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : String(error);
    throw new KafkaOptionsError(option, `cannot read ${option} ${path}: ${reason}`, {
      cause: error,
    });
  }
}
