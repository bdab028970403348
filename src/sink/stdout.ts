/**
 * A sink that writes each message as one JSON line to a stream (stdout by default).
 *
 * @module
 */

import type { OutgoingMessage, Sink, SinkStats } from "./sink.ts";

/** Writes messages as JSON lines; `send` resolves once the line is written. */
export class JsonLinesSink implements Sink {
  readonly name: string;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #encoder = new TextEncoder();
  #stats: SinkStats = { sent: 0, acknowledged: 0, failed: 0, spooled: 0, dropped: 0 };
  readonly #ownsOutput: boolean;
  #closed = false;

  /**
   * @param output Destination stream. @default Deno.stdout.writable
   * @param name Name for logs. @default "stdout"
   * @param ownsOutput Close `output` on `close()`, as for a file; stdout stays open for
   *   later output. @default false
   */
  constructor(
    output: WritableStream<Uint8Array> = Deno.stdout.writable,
    name = "stdout",
    ownsOutput = false,
  ) {
    this.#writer = output.getWriter();
    this.name = name;
    this.#ownsOutput = ownsOutput;
  }

  async send(message: OutgoingMessage): Promise<void> {
    this.#stats.sent++;
    try {
      await this.#writer.write(this.#encoder.encode(message.payload + "\n"));
    } catch (error) {
      this.#stats.failed++;
      throw error;
    }
    this.#stats.acknowledged++;
  }

  async close(): Promise<void> {
    if (this.#closed) return;

    this.#closed = true;
    if (this.#ownsOutput) {
      await this.#writer.close();
    } else {
      this.#writer.releaseLock();
    }
  }

  stats(): SinkStats {
    return { ...this.#stats };
  }
}
