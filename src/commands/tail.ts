/**
 * `dskafka tail`: reads a dskafka topic and shows, per device and line label, the latest
 * `lc_curr_<label>` and `lc_cum_<label>`.
 *
 * On a terminal the counts are a table redrawn in place. Otherwise tail prints one JSON
 * line per message, for scripts. Records that are not dskafka messages are logged and
 * skipped. Tail stops with exit code 0 on SIGINT or SIGTERM, after `--max-messages`
 * records or after `--idle-timeout-ms` without a record, and disconnects cleanly.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Consumer, EachMessagePayload } from "kafkajs";

import { DskafkaError, ExitCode, UsageError } from "../errors.ts";
import { configureLogging, getLogger, logSettings } from "../log.ts";
import { usageErrorFromParseArgs } from "./_parse_args_error.ts";
import { toKafkaError } from "../sink/kafka_errors.ts";
import {
  KAFKA_CLI_OPTIONS,
  KAFKA_SINK_DEFAULTS,
  kafkaSinkOptionsFromCli,
} from "../sink/kafka_options.ts";
import { DEFAULT_PASSWORD_ENV, resolveSecurity } from "../sink/kafka_security.ts";
import { connectConsumer, disconnectConsumer } from "./_tail_consumer.ts";
import {
  type CountsUpdate,
  formatJsonLine,
  parseCountsMessage,
  type RecordPosition,
} from "./_tail_message.ts";
import { LatestCounts, LiveTable, renderTable } from "./_tail_table.ts";

const log = getLogger("tail");

/** The `tail` options, as `node:util` `parseArgs` reads them. */
export const TAIL_OPTIONS = {
  kafka: KAFKA_CLI_OPTIONS.kafka,
  topic: KAFKA_CLI_OPTIONS.topic,
  "conn-str": KAFKA_CLI_OPTIONS["conn-str"],
  "kafka-client-id": KAFKA_CLI_OPTIONS["kafka-client-id"],
  "kafka-tls": KAFKA_CLI_OPTIONS["kafka-tls"],
  "kafka-ca": KAFKA_CLI_OPTIONS["kafka-ca"],
  "kafka-cert": KAFKA_CLI_OPTIONS["kafka-cert"],
  "kafka-key": KAFKA_CLI_OPTIONS["kafka-key"],
  "sasl-mechanism": KAFKA_CLI_OPTIONS["sasl-mechanism"],
  "sasl-username": KAFKA_CLI_OPTIONS["sasl-username"],
  "sasl-password-env": KAFKA_CLI_OPTIONS["sasl-password-env"],
  "sasl-password-file": KAFKA_CLI_OPTIONS["sasl-password-file"],
  "from-beginning": { type: "boolean", default: false },
  "max-messages": { type: "string" },
  "idle-timeout-ms": { type: "string" },
  "log-level": { type: "string", default: "info" },
  "log-format": { type: "string", default: "text" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** The `dskafka tail --help` text. It names every option of {@linkcode TAIL_OPTIONS}. */
export const TAIL_HELP =
  `dskafka tail: show the latest line-crossing counts of a dskafka topic, per device
and line label.

Usage:
  dskafka tail --kafka HOST:PORT[,HOST:PORT...] --topic NAME [options]
  dskafka tail --conn-str "HOST;PORT;TOPIC" [options]

On a terminal, tail shows a table of the latest lc_curr and lc_cum of each device and
line, redrawn in place. Otherwise it prints one JSON line per message, for example:
  {"deviceId":"gate-1","frame":300,"timestamp":"2024-05-01T12:00:10.000Z",
   "lines":{"Up":{"current":0,"cumulative":2}},"key":"gate-1","partition":1,"offset":9}
Records that are not dskafka messages are logged as warnings and skipped.

Kafka:
  --kafka HOST:PORT[,HOST:PORT...]  bootstrap brokers; needs --topic
  --topic NAME                      topic to read, all of its partitions
  --conn-str "HOST;PORT;TOPIC"      DeepStream-style broker and topic, instead of --kafka
  --kafka-client-id ID              client id the brokers see (default: ${KAFKA_SINK_DEFAULTS.clientId})
  --kafka-tls                       connect with TLS, trusting the system CA store
  --kafka-ca FILE                   PEM CA certificates for the broker (implies --kafka-tls)
  --kafka-cert FILE                 PEM client certificate (implies --kafka-tls; needs --kafka-key)
  --kafka-key FILE                  PEM client private key, unencrypted
  --sasl-mechanism plain|scram-sha-256|scram-sha-512
  --sasl-username NAME              SASL user name
  --sasl-password-env VAR           variable with the SASL password (default: ${DEFAULT_PASSWORD_ENV})
  --sasl-password-file FILE         file with the SASL password, instead of a variable

Reading:
  --from-beginning                  read each partition from its first message (default:
                                    only messages that arrive after tail has started)
  --max-messages N                  stop after N records, skipped ones included
  --idle-timeout-ms N               stop when no record arrived for N milliseconds,
                                    counted from when the consumer joined its group

Logs:
  --log-level LEVEL                 debug, info, warn, error or silent (default info)
  --log-format FORMAT               text or json (default text)

  -h, --help                        show this help

tail reads with a consumer group of its own (dskafka-tail-<random id>) and commits no
offsets, so it never moves the position of other consumers.

Exit codes: 0 stopped (SIGINT, SIGTERM, --max-messages or --idle-timeout-ms), 2 usage,
8 Kafka unavailable, 9 topic missing, 10 Kafka authentication.
`;

type TailValues = ReturnType<typeof parseArgs<{ options: typeof TAIL_OPTIONS }>>["values"];

/** Checked `tail` options. */
interface TailOptions {
  brokers: string[];
  topic: string;
  clientId: string;
  fromBeginning: boolean;
  maxMessages?: number;
  idleTimeoutMs?: number;
}

// Time limit for connecting, checking the topic and subscribing.
const CONNECT_TIMEOUT_MS = KAFKA_SINK_DEFAULTS.connectTimeoutMs;

// The terminal table is redrawn at most this often, so that reading a long topic from
// the beginning does not spend its time on redraws.
const REDRAW_INTERVAL_MS = 200;

// Skipped records are logged one by one up to this number. After that, only their count
// is logged when tail stops.
const MAX_SKIP_WARNINGS = 20;

/** The reason tail stopped reading. */
type StopReason = "signal" | "max-messages" | "idle-timeout" | "output-closed";

/**
 * Runs `dskafka tail` and returns the exit code.
 *
 * @param argv the arguments after `tail`
 * @returns `ExitCode.Ok` when tail stopped on a signal, `--max-messages` or
 *   `--idle-timeout-ms`, or when stdout was closed
 * @throws {UsageError} (or its subclass `KafkaOptionsError`) for an invalid option.
 * @throws {KafkaUnavailableError} when no broker responds.
 * @throws {TopicMissingError} when the topic does not exist.
 * @throws {KafkaAuthError} when SASL authentication, TLS or an ACL check fails.
 *
 * @example Read ten messages from the beginning
 * ```ts ignore
 * import { runTail } from "./tail.ts";
 *
 * const code = await runTail(["--kafka", "127.0.0.1:9092", "--topic", "counts",
 *   "--from-beginning", "--max-messages", "10"]);
 * ```
 */
export async function runTail(argv: string[]): Promise<number> {
  const values = parseOptions(argv);
  if (values.help) {
    console.log(TAIL_HELP);
    return ExitCode.Ok;
  }

  configureLogs(values);
  const cli = kafkaSinkOptionsFromCli(values);
  if (cli === undefined) {
    throw new UsageError(
      'tail needs a topic: give --kafka HOST:PORT --topic NAME or --conn-str "HOST;PORT;TOPIC"',
    );
  }
  const options: TailOptions = {
    brokers: cli.brokers,
    topic: cli.topic,
    clientId: cli.clientId ?? KAFKA_SINK_DEFAULTS.clientId,
    fromBeginning: values["from-beginning"],
    maxMessages: parsePositiveInteger("--max-messages", values["max-messages"]),
    idleTimeoutMs: parsePositiveInteger("--idle-timeout-ms", values["idle-timeout-ms"]),
  };

  const securityOptions = cli.security ?? {};
  const security = await resolveSecurity(securityOptions);
  if (securityOptions.sasl?.mechanism === "plain" && !securityOptions.tls) {
    log.warn("SASL PLAIN without TLS sends the password in clear text", {
      brokers: options.brokers.join(","),
    });
  }

  const { consumer, groupId } = await connectConsumer({
    brokers: options.brokers,
    topic: options.topic,
    clientId: options.clientId,
    security,
    fromBeginning: options.fromBeginning,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    log,
  });
  log.info("subscribed", {
    brokers: options.brokers.join(","),
    topic: options.topic,
    group: groupId,
    from: options.fromBeginning ? "beginning" : "end",
  });

  return await consume(consumer, options);
}

// Reads until a stop condition, shows each message and disconnects.
async function consume(consumer: Consumer, options: TailOptions): Promise<number> {
  const stop = Promise.withResolvers<StopReason>();
  let stopping = false;
  const finish = (reason: StopReason) => {
    stopping = true;
    stop.resolve(reason);
  };
  const fail = (error: unknown) => {
    stopping = true;
    stop.reject(error);
  };
  const onOutputError = (error: unknown) => {
    if (error instanceof Deno.errors.BrokenPipe) finish("output-closed");
    else fail(error);
  };

  const counts = new LatestCounts();
  const view = Deno.stdout.isTerminal()
    ? new TableView(options, counts, onOutputError)
    : new JsonLinesView();

  const idle = new IdleTimer(options.idleTimeoutMs, () => finish("idle-timeout"));
  const onSignal = () => finish("signal");
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const context = { brokers: options.brokers, topic: options.topic, phase: "connect" } as const;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    log.debug("joined group", {
      group: event.payload.groupId,
      partitions: JSON.stringify(event.payload.memberAssignment),
    });
    idle.start();
  });
  // kafkajs logs every crash itself and restarts the consumer after a retriable error.
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) fail(toKafkaError(event.payload.error, context));
  });

  const eachMessage = async ({ topic, partition, message }: EachMessagePayload) => {
    if (stopping) return;

    counts.received++;
    idle.start();
    const position: RecordPosition = {
      key: message.key === null ? null : message.key.toString("utf8"),
      partition,
      offset: Number(message.offset),
    };

    const parsed = parseCountsMessage(message.value);
    if (parsed.ok) {
      counts.update(parsed.update, position);
      await view.show(parsed.update, position).catch(onOutputError);
    } else {
      counts.skipped++;
      warnSkipped(counts.skipped, topic, position, parsed.reason);
    }

    if (options.maxMessages !== undefined && counts.received >= options.maxMessages) {
      finish("max-messages");
    }
  };

  let reason: StopReason | undefined;
  let failure: unknown;
  try {
    view.start();
    await consumer.run({ autoCommit: false, eachMessage });
    reason = await stop.promise;
  } catch (error) {
    failure = error;
  } finally {
    stopping = true;
    idle.stop();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);

    const disconnected = await disconnectConsumer(consumer, log);
    if (!disconnected) log.warn("disconnect timed out", { topic: options.topic });
    view.close();
  }

  if (counts.skipped > MAX_SKIP_WARNINGS) {
    log.warn("more records were not dskafka messages", {
      topic: options.topic,
      unlogged: counts.skipped - MAX_SKIP_WARNINGS,
    });
  }
  log.info("stopped", {
    topic: options.topic,
    reason: reason ?? "error",
    received: counts.received,
    skipped: counts.skipped,
  });

  if (failure !== undefined) {
    throw failure instanceof DskafkaError ? failure : toKafkaError(failure, context);
  }
  return ExitCode.Ok;
}

function warnSkipped(skipped: number, topic: string, position: RecordPosition, reason: string) {
  if (skipped > MAX_SKIP_WARNINGS) return;

  log.warn("record is not a dskafka message, skipped", {
    topic,
    partition: position.partition,
    offset: position.offset,
    reason,
  });
  if (skipped === MAX_SKIP_WARNINGS) {
    log.warn("further skipped records are only counted", { topic });
  }
}

/** The output of tail: a live table or JSON lines. */
interface View {
  /** Called once reading has started. */
  start(): void;
  /** Shows one message. Rejects when stdout cannot be written. */
  show(update: CountsUpdate, position: RecordPosition): Promise<void>;
  /** Shows the final state and releases the terminal. */
  close(): void;
}

/** One JSON line per message on stdout. */
class JsonLinesView implements View {
  readonly #encoder = new TextEncoder();

  start(): void {}

  async show(update: CountsUpdate, position: RecordPosition): Promise<void> {
    const bytes = this.#encoder.encode(formatJsonLine(update, position) + "\n");
    let written = 0;
    while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
  }

  close(): void {}
}

/**
 * The live table on a terminal. Log lines are written above the table while it is
 * shown, when stderr is the same kind of terminal, so they do not break the redraw.
 */
class TableView implements View {
  readonly #options: TailOptions;
  readonly #counts: LatestCounts;
  readonly #onError: (error: unknown) => void;
  readonly #table = new LiveTable(writeToStdout, terminalColumns);
  readonly #originalLogWrite = logSettings.write;
  #timer: ReturnType<typeof setInterval> | undefined;
  #dirty = true;
  #failed = false;

  constructor(options: TailOptions, counts: LatestCounts, onError: (error: unknown) => void) {
    this.#options = options;
    this.#counts = counts;
    this.#onError = onError;
  }

  start(): void {
    if (Deno.stderr.isTerminal()) {
      logSettings.write = (line) => {
        this.#erase();
        this.#originalLogWrite(line);
        this.#dirty = true;
        this.#redraw();
      };
    }
    this.#redraw();
    this.#timer = setInterval(() => this.#redraw(), REDRAW_INTERVAL_MS);
  }

  show(): Promise<void> {
    this.#dirty = true;
    return Promise.resolve();
  }

  close(): void {
    clearInterval(this.#timer);
    logSettings.write = this.#originalLogWrite;
    this.#dirty = true;
    this.#redraw(false);
  }

  #erase(): void {
    if (this.#failed) return;

    try {
      this.#table.erase();
    } catch (error) {
      this.#failed = true;
      this.#onError(error);
    }
  }

  #redraw(running = true): void {
    if (!this.#dirty || this.#failed) return;

    this.#dirty = false;
    const { topic, brokers } = this.#options;
    const title = `topic ${topic} on ${brokers.join(",")}: ${this.#counts.received} records, ` +
      `${this.#counts.skipped} skipped${running ? " (Ctrl-C stops)" : ""}`;
    const lines = renderTable(this.#counts, title);
    if (this.#counts.devices().length === 0) lines.push("(no dskafka messages yet)");

    try {
      this.#table.draw(lines);
    } catch (error) {
      // Drawing stops for good: the terminal is gone or cannot be written.
      this.#failed = true;
      this.#onError(error);
    }
  }
}

/** Calls `onIdle` once no {@linkcode IdleTimer.start} came for `timeoutMs`. */
class IdleTimer {
  readonly #timeoutMs: number | undefined;
  readonly #onIdle: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number | undefined, onIdle: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onIdle = onIdle;
  }

  /** Starts the timer, or starts it again from zero. Does nothing without a timeout. */
  start(): void {
    if (this.#timeoutMs === undefined) return;

    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onIdle, this.#timeoutMs);
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

function parseOptions(argv: string[]): TailValues {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: TAIL_OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(
        `unexpected argument "${
          positionals[0]
        }": give the topic with --topic (see dskafka tail --help)`,
      );
    }
    return values;
  } catch (error) {
    throw usageErrorFromParseArgs(error, "dskafka tail --help");
  }
}

function configureLogs(values: TailValues): void {
  configureLogging(values["log-level"] ?? "info", values["log-format"] ?? "text");
}

function parsePositiveInteger(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;

  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${option} "${text}" is invalid: use a whole number >= 1`);
  }
  return value;
}

function writeToStdout(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
