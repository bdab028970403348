/**
 * The shim's frame-by-frame decoder (`dsx_frame_reader`) and H.264 MP4 encoder
 * (`dsx_video_writer`), wrapped for TypeScript.
 *
 * @module
 */

import { Status } from "../../ffi/constants.ts";
import { cString, loadShim, readCString } from "../../ffi/library.ts";
import type { ShimSymbols } from "../../ffi/symbols.ts";
import { BackendUnavailableError, DskafkaError, ExitCode } from "../errors.ts";
import { RgbaImage } from "../preview/image.ts";

const ERROR_CAPACITY = 1024;
// The first buffer fits frames up to 1920x1080; the reader keeps a larger frame for a
// second call with a buffer of its size.
const INITIAL_CAPACITY = 1920 * 1080 * 4;

/** A failure to decode the input again or to write the annotated video. */
export class AnnotateError extends DskafkaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.InvalidMedia, options);
    this.name = "AnnotateError";
  }
}

/** One decoded frame. */
export interface DecodedFrame {
  /** The frame in its own size; the reader reuses nothing, so the image may be kept. */
  image: RgbaImage;
  /** Stream time in nanoseconds. */
  ptsNs: bigint;
}

/**
 * Decodes an input frame by frame into RGBA, in presentation order.
 *
 * @example Count the frames of the sample video
 * ```ts ignore
 * import { FrameReader } from "./video_io.ts";
 *
 * const reader = FrameReader.open("samples/car-detection.mp4");
 * let frames = 0;
 * try {
 *   while (await reader.next() !== null) frames++;
 * } finally {
 *   reader.close();
 * }
 * console.log(frames);
 * ```
 */
export class FrameReader {
  #symbols: ShimSymbols;
  #handle: Deno.PointerValue;
  #capacity = INITIAL_CAPACITY;

  private constructor(symbols: ShimSymbols, handle: Deno.PointerValue) {
    this.#symbols = symbols;
    this.#handle = handle;
  }

  /**
   * Starts decoding `uri` (a URI or a file path).
   *
   * @throws {BackendUnavailableError} When a GStreamer element is missing.
   * @throws {AnnotateError} When the URI is invalid.
   */
  static open(uri: string, symbols: ShimSymbols = loadShim()): FrameReader {
    const error = new Uint8Array(ERROR_CAPACITY);
    const handle = symbols.dsx_frame_reader_new(cString(uri), error, ERROR_CAPACITY);
    if (handle === null) {
      const reason = readCString(error);
      if (/not installed/.test(reason)) {
        throw new BackendUnavailableError("cpu", `${reason} (needed to decode "${uri}")`);
      }
      throw new AnnotateError(`decoding "${uri}" again for --annotate failed: ${reason}`);
    }
    return new FrameReader(symbols, handle);
  }

  /**
   * Returns the next frame, or `null` after the last one.
   *
   * @throws {AnnotateError} When the input cannot be decoded.
   */
  async next(): Promise<DecodedFrame | null> {
    if (this.#handle === null) throw new AnnotateError("the frame reader is closed");

    for (;;) {
      // These buffers are parameters of a nonblocking call, which runs on a worker
      // thread: they stay referenced here until its promise settles.
      const pixels = new Uint8Array(this.#capacity);
      const width = new Uint32Array(1);
      const height = new Uint32Array(1);
      const pts = new BigUint64Array(1);
      const status = await this.#symbols.dsx_frame_reader_next(
        this.#handle,
        pixels,
        BigInt(this.#capacity),
        width,
        height,
        pts,
      );

      if (status === Status.Ok) {
        const length = width[0] * height[0] * 4;
        const data = length === pixels.length ? pixels : pixels.slice(0, length);
        return { image: new RgbaImage(width[0], height[0], data), ptsNs: pts[0] };
      }
      if (status === Status.Ended) return null;
      if (status === Status.BufferTooSmall && width[0] * height[0] * 4 > this.#capacity) {
        this.#capacity = width[0] * height[0] * 4;
        continue;
      }
      throw new AnnotateError(`decoding a frame for --annotate failed: ${this.#lastError()}`);
    }
  }

  /** Stops decoding. Further calls of {@linkcode FrameReader.next} throw. */
  close(): void {
    if (this.#handle === null) return;
    this.#symbols.dsx_frame_reader_free(this.#handle);
    this.#handle = null;
  }

  #lastError(): string {
    const error = new Uint8Array(ERROR_CAPACITY);
    this.#symbols.dsx_frame_reader_last_error(this.#handle, error, ERROR_CAPACITY);
    return readCString(error) || "no reason given";
  }
}

/** Frame size and rate of a {@linkcode VideoWriter}. */
export interface VideoFormat {
  /** Frame width in pixels, even. */
  width: number;
  /** Frame height in pixels, even. */
  height: number;
  /** Frame rate numerator. */
  fpsNumerator: number;
  /** Frame rate denominator. @default 1 */
  fpsDenominator?: number;
}

/**
 * Encodes RGBA frames as H.264 into an MP4 file (x264enc, or openh264enc when x264enc is
 * missing). The file is complete only after {@linkcode VideoWriter.close}.
 *
 * @example Write one second of grey frames
 * ```ts ignore
 * import { RgbaImage } from "../preview/image.ts";
 * import { VideoWriter } from "./video_io.ts";
 *
 * const writer = VideoWriter.create("grey.mp4", { width: 64, height: 48, fpsNumerator: 10 });
 * const frame = RgbaImage.filled(64, 48, [128, 128, 128, 255]);
 * for (let i = 0; i < 10; i++) writer.push(frame, BigInt(i) * 100_000_000n);
 * await writer.close();
 * ```
 */
export class VideoWriter {
  #symbols: ShimSymbols;
  #handle: Deno.PointerValue;
  #path: string;
  /** Frames pushed so far. */
  frames = 0;

  private constructor(symbols: ShimSymbols, handle: Deno.PointerValue, path: string) {
    this.#symbols = symbols;
    this.#handle = handle;
    this.#path = path;
  }

  /**
   * Creates (or replaces) the file at `path` and starts the encoder.
   *
   * @throws {BackendUnavailableError} When no H.264 encoder or MP4 muxer is installed.
   * @throws {AnnotateError} When the format is invalid or the file cannot be opened.
   */
  static create(path: string, format: VideoFormat, symbols: ShimSymbols = loadShim()): VideoWriter {
    const error = new Uint8Array(ERROR_CAPACITY);
    const handle = symbols.dsx_video_writer_new(
      cString(path),
      format.width,
      format.height,
      format.fpsNumerator,
      format.fpsDenominator ?? 1,
      error,
      ERROR_CAPACITY,
    );
    if (handle === null) {
      const reason = readCString(error);
      if (/not installed/.test(reason)) {
        throw new BackendUnavailableError("cpu", `${reason} (needed to write "${path}")`);
      }
      throw new AnnotateError(`writing "${path}" failed: ${reason}`);
    }
    return new VideoWriter(symbols, handle, path);
  }

  /**
   * Queues `image` for encoding at `ptsNs`. Blocks while 4 frames wait for the encoder.
   *
   * @throws {AnnotateError} When encoding failed or the image has another size.
   */
  push(image: RgbaImage, ptsNs: bigint): void {
    if (this.#handle === null) throw new AnnotateError(`the writer of "${this.#path}" is closed`);

    const status = this.#symbols.dsx_video_writer_push(
      this.#handle,
      image.data,
      BigInt(image.data.length),
      ptsNs,
    );
    if (status !== Status.Ok) {
      const error = new Uint8Array(ERROR_CAPACITY);
      this.#symbols.dsx_video_writer_last_error(this.#handle, error, ERROR_CAPACITY);
      throw new AnnotateError(
        `writing frame ${this.frames} to "${this.#path}" failed: ${readCString(error)}`,
      );
    }
    this.frames++;
  }

  /**
   * Ends the stream, waits until the file is complete and releases the encoder.
   *
   * @throws {AnnotateError} When the encoder failed or did not finish within 60 s.
   */
  async close(): Promise<void> {
    if (this.#handle === null) return;
    const handle = this.#handle;
    this.#handle = null;

    const status = await this.#symbols.dsx_video_writer_close(handle);
    if (status !== Status.Ok) {
      throw new AnnotateError(
        `finishing "${this.#path}" failed after ${this.frames} frames: the file may be incomplete ` +
          "(run with GST_DEBUG=dsx-video-writer:4 for the reason)",
      );
    }
  }
}
