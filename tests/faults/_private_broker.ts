/**
 * A Kafka broker of one test, started with `scripts/kafka/broker` on free ports and a
 * temporary state folder, so a test can kill and restart it without disturbing the
 * shared test broker.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

import { closedPort } from "../kafka/_broker.ts";

const BROKER_SCRIPT = fileURLToPath(new URL("../../scripts/kafka/broker", import.meta.url));

/** A broker on its own ports and state folder. */
export class PrivateBroker {
  /** The broker as `host:port`. */
  readonly address: string;
  readonly #env: Record<string, string>;
  readonly #home: string;

  private constructor(
    port: number,
    controllerPort: number,
    home: string,
    extra: Record<string, string>,
  ) {
    this.address = `127.0.0.1:${port}`;
    this.#home = home;
    this.#env = {
      DSKAFKA_KAFKA_PORT: String(port),
      DSKAFKA_KAFKA_CONTROLLER_PORT: String(controllerPort),
      DSKAFKA_KAFKA_HOME: home,
      ...extra,
    };
  }

  /**
   * Starts a broker and waits until it serves metadata.
   *
   * @param extraEnv more variables of `scripts/kafka/broker`, for example extra listeners.
   */
  static async start(
    extraEnv: (ports: { port: number; controllerPort: number }) => Record<string, string> =
      () => ({}),
  ): Promise<PrivateBroker> {
    const port = closedPort();
    const controllerPort = closedPort();
    const home = await Deno.makeTempDir({ prefix: "dskafka-broker-" });
    const broker = new PrivateBroker(
      port,
      controllerPort,
      home,
      extraEnv({ port, controllerPort }),
    );
    await broker.run("start");
    return broker;
  }

  /** Runs `scripts/kafka/broker COMMAND` for this broker, and throws when it fails. */
  async run(command: "start" | "stop" | "kill"): Promise<void> {
    const output = await new Deno.Command(BROKER_SCRIPT, {
      args: [command],
      env: this.#env,
      stdout: "piped",
      stderr: "piped",
    }).output();

    if (output.code !== 0) {
      const decoder = new TextDecoder();
      throw new Error(
        `scripts/kafka/broker ${command} (${this.address}) failed with exit code ` +
          `${output.code}:\n${decoder.decode(output.stdout)}${decoder.decode(output.stderr)}`,
      );
    }
  }

  /** Stops the broker and deletes its state folder. */
  async remove(): Promise<void> {
    try {
      await this.run("stop");
    } finally {
      await Deno.remove(this.#home, { recursive: true });
    }
  }
}
