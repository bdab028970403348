/**
 * Named errors for user-facing failures and the exit code the CLI maps each to.
 *
 * Every error a user can cause (a missing file, a bad URI, a malformed config, an
 * unreachable broker) is one of these classes. The CLI prints `error.message` as a
 * single line and exits with `error.exitCode`; a stack trace is printed only for errors
 * outside this hierarchy, which are bugs.
 *
 * @module
 */

/** Process exit codes. The README lists them; scripts depend on the numbers. */
export const ExitCode = {
  /** Every input ran to its end and every message was delivered. */
  Ok: 0,
  /** An unexpected internal error (a bug): a stack trace is printed. */
  Internal: 1,
  /** Invalid command-line usage: an unknown option or an invalid option value. */
  Usage: 2,
  /** An input file or URI does not exist. */
  InputNotFound: 3,
  /** An input URI has a scheme that dskafka cannot read. */
  UnsupportedInput: 4,
  /** An input exists but is not a decodable video (corrupt, truncated, audio only, an image). */
  InvalidMedia: 5,
  /** The analytics config is missing or invalid. */
  InvalidConfig: 6,
  /** The C shim could not be loaded, or its version does not match. */
  ShimUnavailable: 7,
  /** The Kafka broker did not answer, or delivery failed for good. */
  KafkaUnavailable: 8,
  /** The Kafka topic does not exist and `--create-topic` was not given. */
  TopicMissing: 9,
  /** The Kafka broker rejected the credentials or the TLS handshake. */
  KafkaAuth: 10,
  /** The disk spool could not be written or read. */
  SpoolFailed: 11,
  /** The run finished, but some messages are still in the spool and not yet delivered. */
  Spooled: 12,
  /** The requested backend is not available on this host (for example no DeepStream SDK). */
  BackendUnavailable: 13,
  /** The run was stopped by SIGINT or SIGTERM after a clean flush. */
  Interrupted: 130,
} as const;

/** One of the {@linkcode ExitCode} values. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/** Base class of every user-facing dskafka error. */
export class DskafkaError extends Error {
  /** The exit code the CLI ends with when this error stops a run. */
  readonly exitCode: ExitCodeValue;

  constructor(message: string, exitCode: ExitCodeValue, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** An invalid command-line option or option value. */
export class UsageError extends DskafkaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.Usage, options);
  }
}

/** An input path or URI that does not exist. */
export class InputNotFoundError extends DskafkaError {
  /** The input as the user gave it. */
  readonly input: string;

  constructor(input: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.InputNotFound, options);
    this.input = input;
  }
}

/** An input URI whose scheme dskafka cannot read. */
export class UnsupportedInputError extends DskafkaError {
  /** The input as the user gave it. */
  readonly input: string;

  constructor(input: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.UnsupportedInput, options);
    this.input = input;
  }
}

/** An input that exists but could not be decoded as video. */
export class InvalidMediaError extends DskafkaError {
  /** The input as the user gave it. */
  readonly input: string;

  constructor(input: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.InvalidMedia, options);
    this.input = input;
  }
}

/** A config file that is missing or cannot be used. */
export class ConfigError extends DskafkaError {
  /** The config file path. */
  readonly path: string;
  /** The 1-based line of the offending key, when known. */
  readonly line?: number;
  /** The offending key, when known. */
  readonly key?: string;

  constructor(
    path: string,
    message: string,
    details: { line?: number; key?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, ExitCode.InvalidConfig, options);
    this.path = path;
    this.line = details.line;
    this.key = details.key;
  }
}

/** The C shim could not be loaded or has the wrong version. */
export class ShimLoadError extends DskafkaError {
  /** The library path that was tried. */
  readonly libraryPath: string;

  constructor(libraryPath: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.ShimUnavailable, options);
    this.libraryPath = libraryPath;
  }
}

/** The requested pipeline backend is not available on this host. */
export class BackendUnavailableError extends DskafkaError {
  /** The backend name, for example `deepstream`. */
  readonly backend: string;

  constructor(backend: string, message: string, options?: ErrorOptions) {
    super(message, ExitCode.BackendUnavailable, options);
    this.backend = backend;
  }
}
