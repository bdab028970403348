/**
 * A bounded, append-only disk spool of messages, kept in order.
 *
 * Layout of the spool directory:
 *
 * - `segment-<20 digits>.spool`: records (see spool_format.ts), appended in order. The
 *   newest segment takes new records; a segment is closed at `segmentBytes` and deleted
 *   once every record in it is acknowledged or dropped.
 * - `cursor.json`: the position of the oldest record not yet acknowledged or dropped,
 *   replaced atomically (write, fsync, rename, fsync of the directory).
 * - `spool.json`: the topic the spool belongs to, so that a spool is never sent to
 *   another topic.
 * - `lock`: an exclusive advisory lock (flock) held while a process uses the spool. The
 *   kernel releases it when the process dies, also after `kill -9`.
 *
 * Durability: each append reaches the kernel with write(2) before `append()` resolves,
 * so a crash of the process loses nothing. The data is fsynced at most every
 * `syncIntervalMs` (1 s by default; 0 fsyncs every append), at segment ends and on
 * close, so a power loss or kernel crash may lose the appends of that last interval.
 * The cursor is written on the same schedule. A stale cursor only makes the next run
 * send again messages that Kafka already has, with the same messageid.
 *
 * Recovery on open: every segment from the cursor on is read and checked. A record
 * that is incomplete or fails its CRC (a torn write) is cut off with everything after
 * it in that segment, and a warning gives the bytes discarded.
 *
 * Bound: `maxBytes` limits the bytes of records not yet acknowledged or dropped. When
 * an append does not fit, policy `block` waits for acknowledgements and `drop-oldest`
 * drops the oldest records that are not being sent, counted in `droppedMessages`. Disk
 * use can exceed `maxBytes` by the acknowledged part of the oldest segment, at most one
 * segment.
 *
 * @module
 */

import { resolve } from "node:path";

import { getLogger } from "../log.ts";
import type { OutgoingMessage } from "./sink.ts";
import { SpoolError, SpoolInterruptedError } from "./spool_errors.ts";
import {
  checkTopic,
  createSegment,
  readRange,
  reasonOf,
  recover,
  type RecoveredSpool,
  type SpoolPosition,
  type SpoolSegment,
  takeLock,
  writeAll,
  writeCursor,
} from "./spool_files.ts";
import { decodeRecord, encodeRecords, RECORD_HEADER_BYTES, recordSizeAt } from "./spool_format.ts";

const log = getLogger("spool");

/** Policies of an append to a full spool. */
export const SPOOL_FULL_POLICIES = ["block", "drop-oldest"] as const;

/** One of {@linkcode SPOOL_FULL_POLICIES}. */
export type SpoolFullPolicy = typeof SPOOL_FULL_POLICIES[number];

/** Smallest accepted `maxBytes`: 1 MiB. */
export const MIN_SPOOL_BYTES = 1024 * 1024;

/** Largest accepted `maxBytes`: 1 PiB. */
export const MAX_SPOOL_BYTES = 2 ** 50;

/** Options of {@linkcode Spool.open}. */
export interface SpoolOptions {
  /** The spool directory, created when missing. */
  directory: string;
  /**
   * Maximum bytes of records not yet acknowledged or dropped, from
   * {@linkcode MIN_SPOOL_BYTES} to {@linkcode MAX_SPOOL_BYTES}. A record takes 16 bytes
   * more than its device id, message id and payload.
   * @default 1073741824 (1 GiB)
   */
  maxBytes?: number;
  /** Policy of an append to a full spool. @default "block" */
  full?: SpoolFullPolicy;
  /** Time between fsyncs of appended data and of the cursor, in ms, where 0 fsyncs every append. @default 1000 */
  syncIntervalMs?: number;
  /** Size at which a segment file is closed and a new one begins. @default maxBytes / 16, from 64 KiB to 64 MiB */
  segmentBytes?: number;
}

/** Defaults of {@linkcode SpoolOptions}. */
export const SPOOL_DEFAULTS = {
  maxBytes: 1024 * 1024 * 1024,
  full: "block",
  syncIntervalMs: 1000,
} as const satisfies Partial<SpoolOptions>;

/** Records handed out by {@linkcode Spool.read}, to acknowledge with {@linkcode Spool.commit}. */
export interface SpoolBatch {
  /** The messages, oldest first. */
  readonly messages: readonly OutgoingMessage[];
  /** Bytes of their records. */
  readonly bytes: number;
  /** Position after the last record. */
  readonly end: SpoolPosition;
}

const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;

// Log "dropped" at most this often while the spool stays full.
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * The spool. One process at a time uses a directory: {@linkcode Spool.open} fails while
 * another process has it locked.
 *
 * Appends may be called while a batch is out; {@linkcode Spool.read} hands out one
 * batch at a time, which {@linkcode Spool.commit} acknowledges.
 *
 * @example Spool a message and read it back
 * ```ts
 * import { Spool } from "./spool.ts";
 *
 * const directory = await Deno.makeTempDir();
 * const spool = await Spool.open({ directory, topic: "counts" });
 * await spool.append([{ deviceId: "gate-1", messageId: "m-1", payload: "{}" }]);
 *
 * const batch = await spool.read(100, 1_000_000);
 * console.assert(batch?.messages[0].messageId === "m-1");
 * await spool.commit(batch!);
 * console.assert(spool.pendingMessages === 0);
 *
 * await spool.close();
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export class Spool {
  /** The spool directory, as an absolute path. */
  readonly directory: string;
  /** The bound on pending bytes. */
  readonly maxBytes: number;
  /** The policy when the spool is full. */
  readonly full: SpoolFullPolicy;

  readonly #syncIntervalMs: number;
  readonly #segmentBytes: number;
  readonly #lock: Deno.FsFile;

  #segments: SpoolSegment[];
  #writer: Deno.FsFile;
  /** Oldest record not yet acknowledged or dropped. */
  #committed: SpoolPosition;
  /** The batch handed out by read() and not yet committed. */
  #outstanding: SpoolBatch | undefined;
  /** End of the records dropped behind the outstanding batch. */
  #droppedUntil: SpoolPosition | undefined;

  #pendingMessages: number;
  #pendingBytes: number;
  #droppedMessages = 0;
  #dataDirty = false;
  #cursorDirty = false;
  #closed = false;

  #busy: Promise<unknown> = Promise.resolve();
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #roomWaiters: Array<() => void> = [];
  #fullSince: number | undefined;
  #droppedSinceLog = 0;
  #lastDropLog = 0;

  private constructor(
    directory: string,
    options: Required<SpoolOptions>,
    lock: Deno.FsFile,
    state: RecoveredSpool,
  ) {
    this.directory = directory;
    this.maxBytes = options.maxBytes;
    this.full = options.full;
    this.#syncIntervalMs = options.syncIntervalMs;
    this.#segmentBytes = options.segmentBytes;
    this.#lock = lock;
    this.#segments = state.segments;
    this.#writer = state.writer;
    this.#committed = state.committed;
    this.#pendingMessages = state.pendingMessages;
    this.#pendingBytes = state.pendingBytes;

    if (this.#syncIntervalMs > 0) {
      const timer = setInterval(() => {
        this.#exclusive(async () => {
          if (!this.#closed) await this.#sync();
        }).catch((error) => {
          log.error("fsync of the spool failed", {
            directory: this.directory,
            error: (error as Error).message,
          });
        });
      }, this.#syncIntervalMs);
      Deno.unrefTimer(timer);
      this.#syncTimer = timer;
    }
  }

  /**
   * Opens the spool in `options.directory` for `topic`: creates the directory, takes
   * its lock, checks that it belongs to `topic`, and recovers what an earlier run left.
   *
   * @throws {SpoolError} when the directory cannot be created or written, another process
   *   uses it, it belongs to another topic, or an option is invalid.
   */
  static async open(options: SpoolOptions & { topic: string }): Promise<Spool> {
    const resolved = validateSpoolOptions(options);
    const directory = resolve(options.directory);

    try {
      await Deno.mkdir(directory, { recursive: true });
    } catch (error) {
      throw new SpoolError(
        directory,
        `cannot create the spool directory "${directory}" (${reasonOf(error)}): give a ` +
          "writable directory with --spool-dir",
        { cause: error },
      );
    }

    const lock = await takeLock(directory);
    try {
      await checkTopic(directory, options.topic);
      const state = await recover(directory);
      const spool = new Spool(directory, resolved, lock, state);
      log.info("spool opened", {
        directory,
        pendingMessages: state.pendingMessages,
        pendingBytes: state.pendingBytes,
        maxBytes: resolved.maxBytes,
        full: resolved.full,
      });
      return spool;
    } catch (error) {
      lock.close();
      if (error instanceof SpoolError) throw error;
      throw new SpoolError(
        directory,
        `cannot use the spool directory "${directory}" (${reasonOf(error)}): give a ` +
          "writable directory with --spool-dir",
        { cause: error },
      );
    }
  }

  /** Messages appended and not yet acknowledged or dropped, the outstanding batch included. */
  get pendingMessages(): number {
    return this.#pendingMessages;
  }

  /** Bytes of those messages' records. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Messages dropped by the `drop-oldest` policy since open. */
  get droppedMessages(): number {
    return this.#droppedMessages;
  }

  /**
   * Appends messages in order. Resolves once the kernel has their records (see the
   * durability note at the top of this file). When the spool is full, policy `block`
   * waits for acknowledgements and `drop-oldest` drops the oldest records first.
   *
   * @param signal aborts a wait for room with {@linkcode SpoolInterruptedError}.
   * @throws {SpoolError} when writing fails, or when the records exceed a quarter of
   *   `maxBytes`, which no policy could make room for.
   * @throws {SpoolInterruptedError} when `signal` aborts a wait for room.
   */
  async append(messages: readonly OutgoingMessage[], signal?: AbortSignal): Promise<void> {
    if (messages.length === 0) return;

    let records: Uint8Array<ArrayBuffer>;
    try {
      records = encodeRecords(messages);
    } catch (error) {
      throw new SpoolError(
        this.directory,
        `cannot spool message ${messages[0].messageId}: ` +
          reasonOf(error),
        { cause: error },
      );
    }
    if (records.length > this.maxBytes / 4) {
      throw new SpoolError(
        this.directory,
        `message ${messages[0].messageId} needs ${records.length} bytes in the spool, more ` +
          `than a quarter of --spool-max-bytes (${this.maxBytes}): raise --spool-max-bytes`,
      );
    }

    for (;;) {
      if (this.full === "block" && !this.#fits(records.length)) {
        await this.#waitForRoom(records.length, signal);
      }

      const written = await this.#exclusive(async () => {
        this.#checkOpen();
        if (!this.#fits(records.length)) {
          if (this.full === "block") return false;
          await this.#dropOldest(records.length);
        }
        await this.#write(records, messages.length);
        return true;
      });
      if (written) return;
    }
  }

  /**
   * Hands out the oldest records that are not yet acknowledged, up to `maxMessages`
   * and `maxBytes` (at least one record), or `undefined` when there are none. Only one
   * batch may be out at a time: commit it before reading the next.
   *
   * @throws {SpoolError} when reading fails or a record is corrupt.
   */
  read(maxMessages: number, maxBytes: number): Promise<SpoolBatch | undefined> {
    return this.#exclusive(async () => {
      this.#checkOpen();
      if (this.#outstanding !== undefined) {
        throw new Error("Spool.read() called while a batch is out: commit it first");
      }

      const start = this.#normalize(this.#committed);
      const segment = this.#segment(start.segment);
      if (segment === undefined || start.offset >= segment.size) return undefined;

      const batch = await this.#readBatch(segment, start.offset, maxMessages, maxBytes);
      this.#outstanding = batch;
      return batch;
    });
  }

  /** Marks the outstanding batch as acknowledged, which frees its room. */
  commit(batch: SpoolBatch): Promise<void> {
    return this.#exclusive(async () => {
      if (batch !== this.#outstanding) {
        throw new Error("Spool.commit() got a batch that is not the outstanding one");
      }

      this.#outstanding = undefined;
      this.#pendingMessages -= batch.messages.length;
      this.#pendingBytes -= batch.bytes;
      const dropped = this.#droppedUntil;
      this.#droppedUntil = undefined;
      await this.#advance(dropped && compare(dropped, batch.end) > 0 ? dropped : batch.end);
    });
  }

  /**
   * Gives the outstanding batch back without acknowledging it: the next run sends it
   * again. For close only; reading again after it is not supported.
   */
  abandon(batch: SpoolBatch): void {
    if (batch === this.#outstanding) this.#outstanding = undefined;
  }

  /**
   * Fsyncs the data, writes the cursor and releases the lock. When nothing is pending,
   * the segment files are deleted. Safe to call twice.
   */
  close(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#closed) return;

      this.#closed = true;
      clearInterval(this.#syncTimer);
      this.#wakeRoomWaiters();

      try {
        await this.#sync();
        this.#writer.close();
        if (this.#pendingMessages === 0 && this.#outstanding === undefined) {
          await this.#removeAllSegments();
        }
      } finally {
        this.#lock.close();
      }
      log.info("spool closed", {
        directory: this.directory,
        pendingMessages: this.#pendingMessages,
        droppedMessages: this.#droppedMessages,
      });
    });
  }

  // Runs `work` after every earlier exclusive call has finished, so that file
  // operations never interleave.
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#busy.then(work);
    this.#busy = result.catch(() => undefined);
    return result;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`the spool in ${this.directory} is closed`);
  }

  #fits(bytes: number): boolean {
    return this.#pendingBytes + bytes <= this.maxBytes;
  }

  async #waitForRoom(bytes: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#fullSince === undefined) {
      this.#fullSince = Date.now();
      log.warn("spool full: the pipeline waits until Kafka takes messages (--spool-full block)", {
        directory: this.directory,
        pendingMessages: this.#pendingMessages,
        pendingBytes: this.#pendingBytes,
        maxBytes: this.maxBytes,
      });
    }

    while (!this.#fits(bytes)) {
      this.#checkOpen();
      if (signal?.aborted) throw this.#interrupted();

      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(this.#interrupted());
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#roomWaiters.push(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }

    log.info("spool has room again", {
      directory: this.directory,
      waitedMs: Date.now() - this.#fullSince,
    });
    this.#fullSince = undefined;
  }

  #interrupted(): SpoolInterruptedError {
    return new SpoolInterruptedError(
      this.directory,
      `stopped while waiting for room in the full spool "${this.directory}" ` +
        `(${this.#pendingBytes} of ${this.maxBytes} bytes): the message that waited and ` +
        "the ones after it were not accepted",
    );
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  async #write(records: Uint8Array, count: number): Promise<void> {
    let segment = this.#segments[this.#segments.length - 1];
    if (segment.size > 0 && segment.size + records.length > this.#segmentBytes) {
      segment = await this.#roll();
    }

    try {
      await writeAll(this.#writer, records);
    } catch (error) {
      // Cut off a partial record, so the next append starts at a record boundary.
      await this.#writer.truncate(segment.size).catch(() => undefined);
      await this.#writer.seek(segment.size, Deno.SeekMode.Start).catch(() => undefined);
      throw new SpoolError(
        this.directory,
        `writing to the spool segment "${segment.path}" failed (${reasonOf(error)}): free ` +
          "disk space or give another --spool-dir",
        { cause: error },
      );
    }

    segment.size += records.length;
    this.#pendingMessages += count;
    this.#pendingBytes += records.length;
    this.#dataDirty = true;
    if (this.#syncIntervalMs === 0) await this.#sync();
  }

  // Closes the newest segment after an fsync and starts the next one.
  async #roll(): Promise<SpoolSegment> {
    const last = this.#segments[this.#segments.length - 1];
    await this.#writer.syncData();
    this.#writer.close();
    this.#dataDirty = false;

    const { segment, writer } = await createSegment(this.directory, last.id + 1);
    this.#segments.push(segment);
    this.#writer = writer;
    return segment;
  }

  async #readBatch(
    segment: SpoolSegment,
    offset: number,
    maxMessages: number,
    maxBytes: number,
  ): Promise<SpoolBatch> {
    let bytes = await readRange(segment.path, offset, Math.min(segment.size - offset, maxBytes));
    const first = recordSizeAt(bytes, 0);
    if (first !== undefined && first > bytes.length) {
      bytes = await readRange(segment.path, offset, first);
    }

    const messages: OutgoingMessage[] = [];
    let cursor = 0;
    while (cursor < bytes.length && messages.length < maxMessages) {
      const decoded = decodeRecord(bytes, cursor);
      if (decoded.status === "incomplete") break;
      if (decoded.status === "corrupt") {
        throw new SpoolError(
          this.directory,
          `the spool segment "${segment.path}" is corrupt at byte ${offset + cursor} ` +
            `(${decoded.reason}): move it away to send the rest of the spool`,
        );
      }
      messages.push(decoded.message);
      cursor += decoded.size;
    }

    return { messages, bytes: cursor, end: { segment: segment.id, offset: offset + cursor } };
  }

  // Drops the oldest records that are not out in a batch until `bytes` more fit.
  async #dropOldest(bytes: number): Promise<void> {
    const outstanding = this.#outstanding;
    let position = this.#normalize(
      outstanding ? maxPosition(outstanding.end, this.#droppedUntil) : this.#committed,
    );
    let count = 0;

    while (!this.#fits(bytes)) {
      position = this.#normalize(position);
      const segment = this.#segment(position.segment);
      if (segment === undefined || position.offset >= segment.size) break;

      const header = await readRange(segment.path, position.offset, RECORD_HEADER_BYTES);
      const size = recordSizeAt(header, 0);
      if (size === undefined) break;

      position = { segment: position.segment, offset: position.offset + size };
      this.#pendingMessages--;
      this.#pendingBytes -= size;
      count++;
    }

    this.#droppedMessages += count;
    if (outstanding) {
      this.#droppedUntil = position;
    } else {
      await this.#advance(position);
    }
    this.#logDrops(count);
  }

  #logDrops(count: number): void {
    this.#droppedSinceLog += count;
    const now = Date.now();
    if (now - this.#lastDropLog < DROP_LOG_INTERVAL_MS) return;

    log.warn("spool full: dropped the oldest messages (--spool-full drop-oldest)", {
      directory: this.directory,
      dropped: this.#droppedSinceLog,
      droppedTotal: this.#droppedMessages,
      maxBytes: this.maxBytes,
    });
    this.#droppedSinceLog = 0;
    this.#lastDropLog = now;
  }

  // Moves the committed position forward, deletes the segments before it, and wakes
  // appends that wait for room.
  async #advance(position: SpoolPosition): Promise<void> {
    this.#committed = this.#normalize(position);
    this.#cursorDirty = true;

    while (this.#segments.length > 1 && this.#segments[0].id < this.#committed.segment) {
      const old = this.#segments.shift()!;
      await Deno.remove(old.path).catch((error) => {
        log.warn("could not delete a sent spool segment", {
          path: old.path,
          error: reasonOf(error),
        });
      });
    }

    if (this.#syncIntervalMs === 0) await this.#sync();
    this.#wakeRoomWaiters();
  }

  // Moves a position at the end of a segment to the start of the next one.
  #normalize(position: SpoolPosition): SpoolPosition {
    let current = position;
    for (;;) {
      const index = this.#segments.findIndex((segment) => segment.id === current.segment);
      const segment = this.#segments[index];
      const next = this.#segments[index + 1];
      if (segment === undefined) {
        const first = this.#segments[0];
        return first !== undefined && first.id > current.segment
          ? { segment: first.id, offset: 0 }
          : current;
      }
      if (current.offset < segment.size || next === undefined) return current;
      current = { segment: next.id, offset: 0 };
    }
  }

  #segment(id: number): SpoolSegment | undefined {
    return this.#segments.find((segment) => segment.id === id);
  }

  async #sync(): Promise<void> {
    if (this.#dataDirty) {
      await this.#writer.syncData();
      this.#dataDirty = false;
    }
    if (this.#cursorDirty) {
      await writeCursor(this.directory, this.#committed);
      this.#cursorDirty = false;
    }
  }

  async #removeAllSegments(): Promise<void> {
    const next = this.#segments[this.#segments.length - 1].id + 1;
    await writeCursor(this.directory, { segment: next, offset: 0 });
    for (const segment of this.#segments) await Deno.remove(segment.path);
    this.#segments = [];
  }
}

/**
 * Checks the options and fills in the defaults.
 *
 * @throws {SpoolError} naming the option, the rule and the value.
 */
export function validateSpoolOptions(options: SpoolOptions): Required<SpoolOptions> {
  const directory = options.directory;
  const maxBytes = options.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
  const full = options.full ?? SPOOL_DEFAULTS.full;
  const syncIntervalMs = options.syncIntervalMs ?? SPOOL_DEFAULTS.syncIntervalMs;

  const invalid = (message: string) => new SpoolError(directory, message);
  if (typeof directory !== "string" || directory.length === 0) {
    throw invalid("the spool directory must not be empty");
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < MIN_SPOOL_BYTES || maxBytes > MAX_SPOOL_BYTES) {
    throw invalid(
      `spool maxBytes ${maxBytes} is invalid: use a whole number of bytes from ` +
        `${MIN_SPOOL_BYTES} (1 MiB) to ${MAX_SPOOL_BYTES}`,
    );
  }
  if (!(SPOOL_FULL_POLICIES as readonly string[]).includes(full)) {
    throw invalid(`spool policy "${full}" is invalid: use ${SPOOL_FULL_POLICIES.join(" or ")}`);
  }
  if (!Number.isSafeInteger(syncIntervalMs) || syncIntervalMs < 0 || syncIntervalMs > 3_600_000) {
    throw invalid(
      `spool syncIntervalMs ${syncIntervalMs} is invalid: use a whole number from 0 to 3600000`,
    );
  }

  const defaultSegment = Math.min(
    MAX_SEGMENT_BYTES,
    Math.max(MIN_SEGMENT_BYTES, Math.floor(maxBytes / 16)),
  );
  const segmentBytes = options.segmentBytes ?? defaultSegment;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 4096 || segmentBytes > maxBytes) {
    throw invalid(
      `spool segmentBytes ${segmentBytes} is invalid: use a whole number from 4096 to maxBytes`,
    );
  }

  return { directory, maxBytes, full, syncIntervalMs, segmentBytes };
}

function compare(a: SpoolPosition, b: SpoolPosition): number {
  return a.segment - b.segment || a.offset - b.offset;
}

function maxPosition(a: SpoolPosition, b: SpoolPosition | undefined): SpoolPosition {
  return b !== undefined && compare(b, a) > 0 ? b : a;
}
