/**
 * One decoded frame of an input, taken through the shim's `dsx_snapshot_rgba`.
 *
 * @module
 */

import { EventCode, EventKind, Status } from "../../ffi/constants.ts";
import { cString, loadShim, readCString } from "../../ffi/library.ts";
import type { ShimSymbols } from "../../ffi/symbols.ts";
import { BackendUnavailableError, DskafkaError, ExitCode, UsageError } from "../errors.ts";
import type { Input } from "../source/input.ts";
import { streamError } from "../source/stream_errors.ts";
import { RgbaImage } from "./image.ts";

/** Options of {@linkcode grabFrame}. */
export interface GrabFrameOptions {
  /**
   * Stream time in seconds; the frame on display at that time (the last one starting at
   * or before it) is taken. @default 0
   */
  atSeconds?: number;
  /** Limit for opening, decoding and seeking the input, in milliseconds. @default 30000 */
  timeoutMs?: number;
  /** The shim's symbols. @default loadShim() */
  symbols?: ShimSymbols;
}

/** A decoded frame. */
export interface GrabbedFrame {
  /** The frame in its own size, every pixel opaque. */
  image: RgbaImage;
  /**
   * Stream time of the frame in nanoseconds. After a seek into the middle of a frame it
   * is the seek position, because GStreamer clips the frame to it.
   */
  ptsNs: bigint;
}

// The first buffer fits frames up to 1920x1080; a larger frame costs a second decode.
const INITIAL_CAPACITY = 1920 * 1080 * 4;
const ERROR_CAPACITY = 1024;
const INFO_BYTES = 24;

/**
 * Decodes the frame of `input` at `atSeconds` (a file is sought to it; a live stream is
 * played that long) and returns it as RGBA.
 *
 * @throws {UsageError} When `atSeconds` is negative or past the end of a file.
 * @throws {InputNotFoundError | UnsupportedInputError | InvalidMediaError} When the input
 *   cannot be opened or has no decodable video.
 * @throws {BackendUnavailableError} When a GStreamer element is missing.
 * @throws {ShimLoadError} When the shim cannot be loaded.
 *
 * @example Take the frame at 10 s of the sample video
 * ```ts ignore
 * import { resolveInput } from "../source/input.ts";
 * import { grabFrame } from "./snapshot.ts";
 *
 * const frame = await grabFrame(await resolveInput("samples/car-detection.mp4"), { atSeconds: 10 });
 * console.log(frame.image.width, frame.image.height, frame.ptsNs);
 * ```
 */
export async function grabFrame(
  input: Input,
  options: GrabFrameOptions = {},
): Promise<GrabbedFrame> {
  const atSeconds = options.atSeconds ?? 0;
  if (!Number.isFinite(atSeconds) || atSeconds < 0) {
    throw new UsageError(`--at ${atSeconds} is invalid: use a number of seconds >= 0`);
  }
  const symbols = options.symbols ?? loadShim();
  const timeoutMs = options.timeoutMs ?? 30_000;

  let capacity = INITIAL_CAPACITY;
  for (;;) {
    // These buffers are parameters of a nonblocking call, which runs on a worker thread:
    // they stay referenced here until its promise settles, so C never writes freed memory.
    const uri = cString(input.uri);
    const pixels = new Uint8Array(capacity);
    const info = new Uint8Array(INFO_BYTES);
    const error = new Uint8Array(ERROR_CAPACITY);

    const status = await symbols.dsx_snapshot_rgba(
      uri,
      atSeconds,
      timeoutMs,
      pixels,
      BigInt(capacity),
      info,
      error,
      ERROR_CAPACITY,
    );

    const view = new DataView(info.buffer);
    const width = view.getUint32(0, true);
    const height = view.getUint32(4, true);
    const ptsNs = view.getBigUint64(8, true);
    const code = view.getUint32(16, true);

    if (status === Status.Ok) {
      return { image: new RgbaImage(width, height, pixels.slice(0, width * height * 4)), ptsNs };
    }
    if (status === Status.BufferTooSmall && width * height * 4 > capacity) {
      capacity = width * height * 4;
      continue;
    }
    throw snapshotError(input, atSeconds, status, code, readCString(error));
  }
}

function snapshotError(
  input: Input,
  atSeconds: number,
  status: number,
  code: number,
  text: string,
): DskafkaError {
  if (code !== EventCode.none && code !== EventCode.other) {
    return streamError(input, { streamId: 0, kind: EventKind.error, code, text });
  }
  if (status === Status.InvalidArgument) {
    return new UsageError(`--at ${atSeconds} for input "${input.text}": ${text}`);
  }
  if (status === Status.Unavailable) {
    return new BackendUnavailableError("cpu", `${text} (needed to decode "${input.text}")`);
  }
  return new DskafkaError(
    `no frame of input "${input.text}" at ${atSeconds} s: ${text}`,
    ExitCode.InvalidMedia,
  );
}
