/**
 * The files of a spool directory besides the records themselves: segment names, the
 * lock, the topic description, the cursor, and the scan that recovers what an earlier
 * run left. See spool.ts for the layout and the durability rules.
 *
 * @module
 */

import { join } from "node:path";

import { getLogger } from "../log.ts";
import { SpoolError } from "./spool_errors.ts";
import { decodeRecord } from "./spool_format.ts";

const log = getLogger("spool");

/** A place in the spool: a segment id and a byte offset in that segment. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

/** One segment file. */
export interface SpoolSegment {
  id: number;
  path: string;
  /** Bytes of valid records. */
  size: number;
}

/** The state {@linkcode recover} found, with the new segment it opened for appends. */
export interface RecoveredSpool {
  /** The segments, oldest first. The last one is new and empty. */
  segments: SpoolSegment[];
  /** Open for writing at the start of the last segment. */
  writer: Deno.FsFile;
  /** The oldest record not yet acknowledged. */
  committed: SpoolPosition;
  pendingMessages: number;
  pendingBytes: number;
}

const SEGMENT_NAME = /^segment-(\d{20})\.spool$/;
const CURSOR_FILE = "cursor.json";
const META_FILE = "spool.json";
const LOCK_FILE = "lock";
const META_VERSION = 1;

/** Takes the exclusive lock of the directory, or throws when another process holds it. */
export async function takeLock(directory: string): Promise<Deno.FsFile> {
  const path = join(directory, LOCK_FILE);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true, create: true });
  } catch (error) {
    throw new SpoolError(
      directory,
      `cannot write to the spool directory "${directory}" (${reasonOf(error)}): give a ` +
        "writable directory with --spool-dir",
      { cause: error },
    );
  }

  if (!(await file.tryLock(true))) {
    file.close();
    throw new SpoolError(
      directory,
      `the spool directory "${directory}" is in use by another dskafka process: give each ` +
        "running dskafka its own --spool-dir",
    );
  }
  return file;
}

/** Records the topic of a new spool, and rejects a spool that belongs to another topic. */
export async function checkTopic(directory: string, topic: string): Promise<void> {
  const path = join(directory, META_FILE);
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }

  if (text === undefined) {
    await writeFileAtomically(
      directory,
      META_FILE,
      JSON.stringify({ version: META_VERSION, topic }),
    );
    return;
  }

  let meta: { version?: unknown; topic?: unknown };
  try {
    meta = JSON.parse(text);
  } catch (error) {
    throw new SpoolError(
      directory,
      `"${path}" is not a dskafka spool description (${reasonOf(error)}): give an empty or ` +
        "dskafka spool directory with --spool-dir",
      { cause: error },
    );
  }
  if (meta.version !== META_VERSION || typeof meta.topic !== "string") {
    throw new SpoolError(
      directory,
      `"${path}" is not a dskafka spool description of version ${META_VERSION}: give an ` +
        "empty or dskafka spool directory with --spool-dir",
    );
  }
  if (meta.topic !== topic) {
    throw new SpoolError(
      directory,
      `the spool directory "${directory}" contains messages for Kafka topic "${meta.topic}", not ` +
        `"${topic}": give another --spool-dir, or send them with --topic ${meta.topic}`,
    );
  }
}

/**
 * Reads every segment from the cursor on, cuts off torn or corrupt records, deletes
 * segments that hold nothing pending, and opens a new segment for appends.
 */
export async function recover(directory: string): Promise<RecoveredSpool> {
  const ids: number[] = [];
  for await (const entry of Deno.readDir(directory)) {
    const match = SEGMENT_NAME.exec(entry.name);
    if (match && entry.isFile) ids.push(Number(match[1]));
  }
  ids.sort((a, b) => a - b);

  const cursor = await readCursor(directory);
  const segments: SpoolSegment[] = [];
  let committed: SpoolPosition | undefined;
  let pendingMessages = 0;
  let pendingBytes = 0;

  for (const id of ids) {
    const path = segmentPath(directory, id);
    if (cursor !== undefined && id < cursor.segment) {
      await Deno.remove(path);
      continue;
    }

    const bytes = await Deno.readFile(path);
    const start = cursor !== undefined && id === cursor.segment ? cursor.offset : 0;
    const scan = scanSegment(bytes, start);
    if (scan.validBytes < bytes.length) {
      log.warn("spool segment ends with a torn or corrupt record: cut off", {
        path,
        discardedBytes: bytes.length - scan.validBytes,
        reason: scan.reason,
      });
      await Deno.truncate(path, scan.validBytes);
    }
    if (start !== scan.startBoundary) {
      log.warn("spool cursor is not at a record boundary: resending from the record before it", {
        path,
        cursor: start,
        boundary: scan.startBoundary,
      });
    }

    if (scan.validBytes === 0) {
      await Deno.remove(path);
      continue;
    }
    committed ??= { segment: id, offset: scan.startBoundary };
    segments.push({ id, path, size: scan.validBytes });
    pendingMessages += scan.messages;
    pendingBytes += scan.bytes;
  }

  const nextId = Math.max(ids.at(-1) ?? 0, cursor?.segment ?? 0) + 1;
  const { segment, writer } = await createSegment(directory, nextId);
  segments.push(segment);
  committed ??= { segment: nextId, offset: 0 };

  return { segments, writer, committed, pendingMessages, pendingBytes };
}

// Counts the valid records from the record boundary at or before `start`, and finds
// where the valid records end.
function scanSegment(bytes: Uint8Array, start: number) {
  let offset = 0;
  let startBoundary = 0;
  let messages = 0;
  let counted = 0;
  let reason: string | undefined;

  while (offset < bytes.length) {
    const decoded = decodeRecord(bytes, offset);
    if (decoded.status !== "ok") {
      reason = decoded.status === "corrupt" ? decoded.reason : "incomplete record";
      break;
    }
    if (offset + decoded.size <= start) {
      startBoundary = offset + decoded.size;
    } else {
      messages++;
      counted += decoded.size;
    }
    offset += decoded.size;
  }

  return { validBytes: offset, startBoundary, messages, bytes: counted, reason };
}

async function readCursor(directory: string): Promise<SpoolPosition | undefined> {
  const path = join(directory, CURSOR_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }

  try {
    const cursor = JSON.parse(text);
    if (Number.isSafeInteger(cursor.segment) && Number.isSafeInteger(cursor.offset)) {
      return { segment: cursor.segment, offset: cursor.offset };
    }
  } catch {
    // Reported below.
  }
  log.warn("spool cursor is unreadable: every spooled message is sent again", { path });
  return undefined;
}

/** Replaces the cursor file atomically. */
export async function writeCursor(directory: string, position: SpoolPosition): Promise<void> {
  await writeFileAtomically(
    directory,
    CURSOR_FILE,
    JSON.stringify({ segment: position.segment, offset: position.offset }),
  );
}

// Writes `name` so that a crash leaves either the old or the new content.
async function writeFileAtomically(directory: string, name: string, text: string): Promise<void> {
  const path = join(directory, name);
  const temporary = `${path}.tmp`;
  const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
  try {
    await writeAll(file, new TextEncoder().encode(text));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);

  const folder = await Deno.open(directory, { read: true });
  try {
    await folder.sync();
  } finally {
    folder.close();
  }
}

/** Creates segment `id`, which must not exist, and opens it for writing. */
export async function createSegment(directory: string, id: number) {
  const path = segmentPath(directory, id);
  const writer = await Deno.open(path, { write: true, createNew: true });
  return { segment: { id, path, size: 0 }, writer };
}

function segmentPath(directory: string, id: number): string {
  return join(directory, `segment-${String(id).padStart(20, "0")}.spool`);
}

/** Reads up to `length` bytes of `path` from `offset`. */
export async function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    const bytes = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const read = await file.read(bytes.subarray(filled));
      if (read === null) break;
      filled += read;
    }
    return bytes.subarray(0, filled);
  } finally {
    file.close();
  }
}

/** Writes all of `bytes`, looping over partial writes. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await file.write(bytes.subarray(written));
  }
}

/** Returns the message of an error, or the value as text. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
