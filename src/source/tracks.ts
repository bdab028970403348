/**
 * Readers for object tracks stored in files, for the replay backend: MOT Challenge CSV
 * and DeepStream's KITTI tracker dump. Both yield {@linkcode Frame}s, one per frame of
 * the stream, including frames that have no objects.
 *
 * Box values stay as written (pixels, possibly fractional); the analytics engine
 * converts them the way the nvdsanalytics plugin does.
 *
 * @module
 */

import { InputNotFoundError, InvalidMediaError } from "../errors.ts";
import type { Frame, FrameObject } from "../frame.ts";

/** The tracking id DeepStream gives an object no tracker has assigned (`UNTRACKED_OBJECT_ID`). */
const UNTRACKED_OBJECT_ID = 0xffffffffffffffffn;

/** A tracks file (or a file of a KITTI dump) that cannot be read as tracks. */
export class TracksFileError extends InvalidMediaError {
  /** The file with the problem. */
  readonly path: string;
  /** 1-based line of the problem, when it is one line. */
  readonly line?: number;

  constructor(path: string, message: string, line?: number, options?: ErrorOptions) {
    super(path, message, options);
    this.path = path;
    this.line = line;
  }
}

/** How the tracks map onto a stream. */
export interface TracksOptions {
  /** Frame rate; frame n gets the timestamp `floor((n − 1) · 1e9 / fps)` ns. */
  fps: number;
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** Stream index put in each frame. @default 0 */
  streamId?: number;
}

/** Options of the MOT Challenge reader. */
export interface MotTracksOptions extends TracksOptions {
  /**
   * Number of frames of the stream: frames 1 to `frameCount` are yielded, those after
   * the last row empty, and rows for later frames are left out (the video ended there).
   * @default the last frame that has a row
   */
  frameCount?: number;
}

/** Options of the KITTI dump reader. */
export interface KittiTracksOptions extends TracksOptions {
  /**
   * The detector's labels in class-id order (the nvinfer labels file), used to turn the
   * dump's label column into class ids. Without it a label must be a number.
   */
  labels?: readonly string[];
  /**
   * Which stream of the dump to read (the file names carry it). Needed only when the
   * directory holds more than one stream.
   */
  dumpStreamId?: number;
}

const MOT_COLUMNS = "frame,id,left,top,width,height,conf,class,visibility";

/**
 * Timestamp of a 1-based frame number: `floor((n − 1) · 1e9 / fps)` ns, exact for an
 * integer frame rate.
 */
export function frameTimestampNs(frameNumber: number, fps: number): bigint {
  if (Number.isInteger(fps)) return (BigInt(frameNumber - 1) * 1_000_000_000n) / BigInt(fps);
  return BigInt(Math.floor(((frameNumber - 1) * 1e9) / fps));
}

// --- MOT Challenge -----------------------------------------------------------------------

/**
 * Parses MOT Challenge CSV text (`frame,id,left,top,width,height,conf,class,visibility`,
 * no header; `conf`, `class` and `visibility` may be missing). Rows may come in any
 * order; objects keep their file order within a frame. An id of -1 is a detection
 * without a track (`trackId: null`).
 *
 * @throws {TracksFileError} for a row that is not MOT CSV, naming the file and line
 *
 * @example Two frames, the second one empty
 * ```ts
 * import { parseMotTracks } from "./tracks.ts";
 *
 * const frames = [...parseMotTracks("1,7,100,200,50,120,1,0,1\n", "t.txt", {
 *   fps: 30, width: 1920, height: 1080, frameCount: 2,
 * })];
 * console.assert(frames.length === 2 && frames[1].objects.length === 0);
 * console.assert(frames[0].objects[0].trackId === 7n);
 * ```
 */
export function parseMotTracks(
  text: string,
  path: string,
  options: MotTracksOptions,
): Iterable<Frame> {
  checkOptions(path, options);
  const byFrame = new Map<number, FrameObject[]>();
  let lastFrame = 0;
  const row = new MotRow(text, path);

  for (let pos = 0, lineNumber = 1; pos < text.length; lineNumber++) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    const next = end + 1;
    if (!row.split(pos, end, lineNumber)) {
      pos = next;
      continue;
    }
    pos = next;

    const frame = row.number(0, "frame");
    if (!Number.isInteger(frame) || frame < 1) {
      throw row.error(`frame "${row.text(0)}" is not a frame number; MOT frames start at 1`);
    }
    const trackId = row.trackId(1);
    const confidence = row.count > 6 ? row.number(6, "conf") : 1;
    let classId = 0;
    if (row.count > 7) {
      classId = row.number(7, "class");
      if (!Number.isInteger(classId)) {
        throw row.error(`class "${row.text(7)}" is not an integer class id`);
      }
    }
    const object: FrameObject = {
      trackId,
      classId,
      confidence: Math.min(1, Math.max(0, confidence)),
      left: row.number(2, "left"),
      top: row.number(3, "top"),
      width: row.number(4, "width"),
      height: row.number(5, "height"),
    };
    const list = byFrame.get(frame);
    if (list) list.push(object);
    else byFrame.set(frame, [object]);
    if (frame > lastFrame) lastFrame = frame;
  }

  const frameCount = options.frameCount ?? lastFrame;
  return framesOf(byFrame, frameCount, options);
}

const POWERS_OF_TEN = [
  1,
  10,
  100,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
];

/**
 * The fields of one CSV row, located in the file text without splitting it. Plain
 * decimals (`-12.345`) are read directly from the characters, which is exact because a
 * mantissa of at most 15 digits divided by a power of ten is one correctly rounded
 * division; anything else goes through `Number()`.
 */
class MotRow {
  /** Number of fields on the current row. */
  count = 0;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private line = 0;

  constructor(private readonly source: string, private readonly path: string) {}

  /** Locates the fields of the line `[start, end)`; false for a blank line. */
  split(start: number, end: number, line: number): boolean {
    const s = this.source;
    this.line = line;
    while (end > start && isBlank(s.charCodeAt(end - 1))) end--;
    while (start < end && isBlank(s.charCodeAt(start))) start++;
    if (start === end) return false;
    this.count = 0;
    let fieldStart = start;
    for (let i = start; i <= end; i++) {
      if (i === end || s.charCodeAt(i) === 44 /* , */) {
        this.starts[this.count] = fieldStart;
        this.ends[this.count] = i;
        this.count++;
        fieldStart = i + 1;
      }
    }
    if (this.count < 6) {
      throw this.error(`has ${this.count} columns; MOT Challenge rows are ${MOT_COLUMNS}`);
    }
    return true;
  }

  /** The text of field `index`. */
  text(index: number): string {
    return this.source.slice(this.starts[index], this.ends[index]);
  }

  /** Field `index` as a finite number. */
  number(index: number, name: string): number {
    const fast = plainDecimal(this.source, this.starts[index], this.ends[index]);
    if (fast === fast) return fast; // not NaN
    const text = this.text(index);
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value)) {
      throw this.error(
        `${name} (column ${index + 1}) is "${text}", not a number; rows are ${MOT_COLUMNS}`,
      );
    }
    return value;
  }

  /** Field `index` as a track id: an unsigned 64-bit integer, or -1 (and 2^64 − 1) for none. */
  trackId(index: number): bigint | null {
    const fast = plainDecimal(this.source, this.starts[index], this.ends[index]);
    if (Number.isSafeInteger(fast) && fast >= 0) return BigInt(fast);
    const text = this.text(index).trim();
    return parseTrackId(
      text,
      () => this.error(`id "${text}" is not a track id (an unsigned integer, or -1 for none)`),
    );
  }

  error(message: string): TracksFileError {
    return new TracksFileError(this.path, `${this.path}:${this.line}: ${message}`, this.line);
  }
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 13;
}

/** `[+-]digits[.digits]` with at most 15 digits, read exactly; NaN for anything else. */
function plainDecimal(s: string, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && s.charCodeAt(i) === 45 /* - */) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let inFraction = false;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (inFraction) fraction++;
    } else if (c === 46 /* . */ && !inFraction) {
      inFraction = true;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || digits > 15 || (inFraction && fraction === 0)) return NaN;
  const value = fraction === 0 ? mantissa : mantissa / POWERS_OF_TEN[fraction];
  return negative ? -value : value;
}

/**
 * Reads a MOT Challenge CSV file; see {@linkcode parseMotTracks}.
 *
 * @throws {InputNotFoundError} when the file does not exist
 * @throws {TracksFileError} for a malformed row
 */
export async function* readMotTracks(
  path: string,
  options: MotTracksOptions,
): AsyncGenerator<Frame> {
  const text = await readText(path);
  yield* parseMotTracks(text, path, options);
}

// --- KITTI tracker dump ------------------------------------------------------------------

/** File name of one frame in a dump: `<app>_<stream>_<frame>.txt` or `<stream>_<frame>.txt`. */
const KITTI_FILE = /^(?:(\d+)_)?(\d+)_(\d+)\.txt$/;

/**
 * Reads DeepStream's KITTI tracker dump (`kitti-track-output-dir` of deepstream-app):
 * one file per frame named `<app>_<stream>_<frame>.txt`, frame numbers from 0, and per
 * object one line
 *
 * ```
 * label id 0.0 0 0.0 left top right bottom 0.0 0.0 0.0 x_feet y_feet 0.0 0.0 confidence [visibility x_img_foot y_img_foot [hull]]
 * ```
 *
 * The detector dump (`gie-kitti-output-dir`, the same line without the id) is read too,
 * with `trackId: null`. Dump frame k becomes frame k + 1; frames without a file are
 * empty. Widths and heights are rounded to 1/1000 px, which undoes the float rounding of
 * `right = left + width` in the dump.
 *
 * @throws {InputNotFoundError} when the directory does not exist
 * @throws {TracksFileError} for a directory without dump files, several streams and no
 *   `dumpStreamId`, a malformed line, or a label without a class id
 */
export async function* readKittiTracks(
  directory: string,
  options: KittiTracksOptions,
): AsyncGenerator<Frame> {
  checkOptions(directory, options);
  const files = new Map<number, Map<number, string>>();
  try {
    for await (const entry of Deno.readDir(directory)) {
      const match = entry.isFile ? KITTI_FILE.exec(entry.name) : null;
      if (!match) continue;
      const stream = Number(match[2]);
      const frame = Number(match[3]);
      const perStream = files.get(stream) ?? new Map<number, string>();
      files.set(stream, perStream);
      const earlier = perStream.get(frame);
      if (earlier !== undefined) {
        throw new TracksFileError(
          directory,
          `${directory}: ${earlier} and ${entry.name} are both stream ${stream} frame ${frame}; keep the files of one run only`,
        );
      }
      perStream.set(frame, entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new InputNotFoundError(
        directory,
        `${directory}: KITTI dump directory not found; give the kitti-track-output-dir of the run`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.NotADirectory) {
      throw new TracksFileError(
        directory,
        `${directory}: is a file; a KITTI dump is a directory with one file per frame`,
        undefined,
        { cause: error },
      );
    }
    throw error;
  }

  const streams = [...files.keys()].sort((a, b) => a - b);
  if (streams.length === 0) {
    throw new TracksFileError(
      directory,
      `${directory}: no KITTI dump files (named <app>_<stream>_<frame>.txt); check the directory`,
    );
  }
  let stream: number;
  if (options.dumpStreamId !== undefined) {
    if (!files.has(options.dumpStreamId)) {
      throw new TracksFileError(
        directory,
        `${directory}: has no files for stream ${options.dumpStreamId}; it has streams ${
          streams.join(", ")
        }`,
      );
    }
    stream = options.dumpStreamId;
  } else if (streams.length > 1) {
    throw new TracksFileError(
      directory,
      `${directory}: holds streams ${streams.join(", ")}; choose one (dumpStreamId)`,
    );
  } else {
    stream = streams[0];
  }

  const perFrame = files.get(stream)!;
  const lastFrame = Math.max(...perFrame.keys());
  const classOf = labelMapper(options.labels);
  for (let dumpFrame = 0; dumpFrame <= lastFrame; dumpFrame++) {
    const name = perFrame.get(dumpFrame);
    let objects: FrameObject[] = [];
    if (name !== undefined) {
      const path = `${directory}/${name}`;
      objects = parseKittiFrame(await readText(path), path, classOf);
    }
    yield frameOf(dumpFrame + 1, objects, options);
  }
}

/**
 * Parses the lines of one KITTI dump file into objects.
 *
 * @param classOf turns a label into a class id, or `undefined` when it has none
 */
export function parseKittiFrame(
  text: string,
  path: string,
  classOf: (label: string) => number | undefined,
): FrameObject[] {
  const objects: FrameObject[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const lineNumber = i + 1;
    const parsed = splitKittiLine(line.split(/\s+/));
    if (!parsed) {
      throw new TracksFileError(
        path,
        `${path}:${lineNumber}: is not a KITTI tracker line (label id 0.0 0 0.0 left top right bottom … confidence)`,
        lineNumber,
      );
    }
    const classId = classOf(parsed.label);
    if (classId === undefined) {
      throw new TracksFileError(
        path,
        `${path}:${lineNumber}: label "${parsed.label}" has no class id; pass the detector's labels in class-id order`,
        lineNumber,
      );
    }
    const [left, top, right, bottom] = parsed.box;
    objects.push({
      trackId: parsed.trackId,
      classId,
      confidence: Math.min(1, Math.max(0, parsed.confidence)),
      left,
      top,
      width: Math.round((right - left) * 1000) / 1000,
      height: Math.round((bottom - top) * 1000) / 1000,
    });
  }
  return objects;
}

/**
 * Splits a dump line into label, id and numbers. A label may contain spaces, so the
 * split point is the first one after which the rest has the layout of a tracker line
 * (id + 15 numbers, optionally 3 more and a convex hull) or a detector line (15
 * numbers).
 */
function splitKittiLine(
  tokens: string[],
): { label: string; trackId: bigint | null; box: number[]; confidence: number } | undefined {
  const isNumber = (t: string) => t !== "" && Number.isFinite(Number(t));
  for (let k = 1; k < tokens.length; k++) {
    const rest = tokens.slice(k);
    let trackId: bigint | null = null;
    let numbers: string[];
    if (rest.length === 15) {
      numbers = rest;
    } else if (rest.length === 16 || rest.length === 19 || rest.length === 20) {
      if (!/^\d+$/.test(rest[0])) continue;
      trackId = parseTrackId(rest[0], () => undefined);
      numbers = rest.slice(1, 16 + (rest.length >= 19 ? 3 : 0));
      if (rest.length === 20 && !/^-?\d+\|-?\d+/.test(rest[19])) continue;
    } else {
      continue;
    }
    if (!numbers.every(isNumber)) continue;
    return {
      label: tokens.slice(0, k).join(" "),
      trackId,
      box: numbers.slice(3, 7).map(Number),
      confidence: Number(numbers[14]),
    };
  }
  return undefined;
}

function labelMapper(labels: readonly string[] | undefined): (label: string) => number | undefined {
  const byName = new Map<string, number>();
  labels?.forEach((label, index) => {
    if (!byName.has(label)) byName.set(label, index);
  });
  return (label) => {
    const known = byName.get(label);
    if (known !== undefined) return known;
    return /^-?\d+$/.test(label) ? Number(label) : undefined;
  };
}

// --- shared ------------------------------------------------------------------------------

function parseTrackId<E>(text: string, error: () => E): bigint | null {
  if (text === "-1") return null;
  if (!/^\d+$/.test(text)) {
    const e = error();
    if (e === undefined) return null;
    throw e;
  }
  const id = BigInt(text);
  if (id > UNTRACKED_OBJECT_ID) {
    const e = error();
    if (e === undefined) return null;
    throw e;
  }
  return id === UNTRACKED_OBJECT_ID ? null : id;
}

function* framesOf(
  byFrame: Map<number, FrameObject[]>,
  frameCount: number,
  options: TracksOptions,
): Generator<Frame> {
  for (let n = 1; n <= frameCount; n++) yield frameOf(n, byFrame.get(n) ?? [], options);
}

function frameOf(frameNumber: number, objects: FrameObject[], options: TracksOptions): Frame {
  return {
    streamId: options.streamId ?? 0,
    frameNumber,
    ptsNs: frameTimestampNs(frameNumber, options.fps),
    width: options.width,
    height: options.height,
    objects,
  };
}

function checkOptions(path: string, options: TracksOptions): void {
  if (!(options.fps > 0) || !Number.isFinite(options.fps)) {
    throw new RangeError(`${path}: fps must be a positive number, got ${options.fps}`);
  }
  if (!(Number.isInteger(options.width) && options.width > 0)) {
    throw new RangeError(`${path}: width must be a positive integer, got ${options.width}`);
  }
  if (!(Number.isInteger(options.height) && options.height > 0)) {
    throw new RangeError(`${path}: height must be a positive integer, got ${options.height}`);
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new InputNotFoundError(path, `${path}: tracks file not found; check the path`, {
        cause: error,
      });
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new TracksFileError(path, `${path}: is a directory, not a tracks file`, undefined, {
        cause: error,
      });
    }
    throw error;
  }
}
