/**
 * A sink that only counts: for runs whose pipeline publishes the messages itself (the
 * nvmsgbroker branch), where the TypeScript side still counts and reports progress.
 *
 * @module
 */

import type { OutgoingMessage, Sink, SinkStats } from "./sink.ts";

/** Counts messages and drops them. */
export class DiscardSink implements Sink {
  readonly name: string;
  #count = 0;

  /** @param name Name for logs. @default "discard" */
  constructor(name = "discard") {
    this.name = name;
  }

  send(_message: OutgoingMessage): Promise<void> {
    this.#count++;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  stats(): SinkStats {
    return { sent: this.#count, acknowledged: this.#count, failed: 0, spooled: 0, dropped: 0 };
  }
}
