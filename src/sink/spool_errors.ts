/**
 * Named errors of the disk spool.
 *
 * @module
 */

import { DskafkaError, ExitCode } from "../errors.ts";

/**
 * The spool directory could not be created, locked, written or read, or it belongs to
 * another topic. The run ends with exit code 11, and messages already in the spool stay
 * there for the next run.
 */
export class SpoolError extends DskafkaError {
  /** The spool directory. */
  readonly directory: string;

  constructor(directory: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.SpoolFailed, options);
    this.directory = directory;
  }
}

/**
 * A signal stopped the run while a message waited for room in a full spool (policy
 * `block`). That message and the ones after it were not accepted.
 */
export class SpoolInterruptedError extends DskafkaError {
  /** The spool directory. */
  readonly directory: string;

  constructor(directory: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.Interrupted, options);
    this.directory = directory;
  }
}
