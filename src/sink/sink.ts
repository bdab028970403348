/**
 * The contract between message emission and the places messages go (stdout, a file,
 * Kafka).
 *
 * @module
 */

/** One finished message, ready to be written or published. */
export interface OutgoingMessage {
  /** Device id of the stream; the Kafka message key, so one device stays in one partition. */
  deviceId: string;
  /** The message's `messageid`: unique, and stable across retries and restarts. */
  messageId: string;
  /** The JSON text of the message, exactly as it is sent. */
  payload: string;
}

/** Delivery counters of one sink, reported in the run summary. */
export interface SinkStats {
  /** Messages handed to the sink. */
  sent: number;
  /** Messages the destination confirmed (for stdout and files: written). */
  acknowledged: number;
  /** Messages that failed for good. */
  failed: number;
  /** Messages waiting in the disk spool. */
  spooled: number;
  /** Messages dropped by a bounded spool's overflow policy. */
  dropped: number;
}

/** A destination for messages. Implementations keep the order of `send` calls per device. */
export interface Sink {
  /** Short name for logs, for example `stdout` or `kafka`. */
  readonly name: string;
  /**
   * Accepts one message. The promise resolves when the sink has taken responsibility
   * for the message (written, acknowledged or spooled), so a caller that awaits it
   * applies backpressure to the pipeline.
   */
  send(message: OutgoingMessage): Promise<void>;
  /** Flushes what is buffered and releases the destination; safe to call twice. */
  close(): Promise<void>;
  /** Current delivery counters. */
  stats(): SinkStats;
}
