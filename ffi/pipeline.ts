/**
 * A typed wrapper over one shim pipeline: create, start, read records as an async
 * iterator of batches, stop and free.
 *
 * @module
 */

import { BackendUnavailableError, DskafkaError, ExitCode } from "../src/errors.ts";
import { Backend, Overflow, Status } from "./constants.ts";
import type { BackendName, OverflowPolicy } from "./constants.ts";
import { cString, loadShim, readCString } from "./library.ts";
import { RecordDecoder } from "./records.ts";
import type { ShimRecord } from "./records.ts";
import type { ShimSymbols } from "./symbols.ts";
import type { EmitPolicy } from "../src/emit/policy.ts";

/** Parameters of the CPU motion detector; 0 or absent means the shim's default. */
export interface DetectorParams {
  /** Minimum gray-level difference from the background for a foreground pixel. @default 25 */
  threshold?: number;
  /** Minimum object area in pixels of the processing frame. @default 150 */
  minArea?: number;
  /** Radius in pixels of the morphological opening and closing. @default 1 */
  morphRadius?: number;
  /** Seconds of stillness after which an object becomes background. @default 60 */
  absorbSeconds?: number;
  /** Time constant in seconds of the background's adaptation to lighting drift. @default 5 */
  adaptSeconds?: number;
}

/** Options of {@linkcode ShimPipeline.start}. */
export interface PipelineOptions {
  /** Inputs: URIs or file paths. The position is the stream id. */
  sources: string[];
  /** Pipeline backend. @default "cpu" */
  backend?: BackendName;
  /** Processing frame size; absent keeps each stream's own size (CPU backend). */
  processingSize?: { width: number; height: number };
  /** Ring capacity per stream in bytes. @default 4194304 */
  ringBytes?: number;
  /** What a stream does when its ring is full. @default "block" */
  overflow?: OverflowPolicy;
  /** Maximum objects written per frame. @default 256 */
  maxObjects?: number;
  /** Play sources at their own frame rate instead of as fast as possible. @default false */
  realtime?: boolean;
  /** Restart file and http(s) inputs at their end (cpu backend). @default false */
  loop?: boolean;
  /**
   * Waits before reconnecting a live input (rtsp://, rtsps://) that failed after its
   * first frame, in milliseconds: the first wait, doubled per failed attempt up to the
   * maximum (cpu backend). @default { initialDelayMs: 1000, maxDelayMs: 30000 }
   */
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  /** CPU motion detector parameters. */
  detector?: DetectorParams;
  /** File paths for the deepstream backend. */
  paths?: {
    analyticsConfig?: string;
    inferConfig?: string;
    trackerConfig?: string;
    trackerLibrary?: string;
  };
  /**
   * The nvmsgbroker branch of the deepstream backend: the pipeline publishes the
   * messages itself. Needs `devices` and `emit` too.
   */
  msgbroker?: {
    /** Protocol adapter library, for example `libnvds_kafka_proto.so`. */
    protoLib: string;
    /** `host;port` of the broker. */
    connStr?: string;
    topic?: string;
    /** nvmsgbroker's config file (for example `configs/cfg_kafka.txt`). */
    brokerConfig?: string;
    /** nvmsgconv's config file; only with `customBlob`. */
    msgconvConfig?: string;
    /** Attach messages as NVDS_CUSTOM_MSG_BLOB for nvmsgconv instead of NVDS_PAYLOAD_META. */
    customBlob?: boolean;
  };
  /** Device id and message-id session key per stream, for the nvmsgbroker branch. */
  devices?: Array<{ deviceId: string; sessionKey: string }>;
  /** Emission policy of the nvmsgbroker branch. */
  emit?: EmitPolicy;
  /** How long one poll waits for records, in milliseconds. @default 200 */
  pollTimeoutMs?: number;
}

/** Counters of a pipeline (`dsx_stats`). */
export interface PipelineStats {
  framesDecoded: number;
  framesDelivered: number;
  framesDropped: number;
  objectsTruncated: number;
  ringHighWater: number;
  producerWaits: number;
}

/** An error from the shim's control functions (not from a stream, which arrives as an event). */
export class ShimCallError extends DskafkaError {
  /** The `dsx_status` value. */
  readonly status: number;

  constructor(message: string, status: number) {
    super(message, ExitCode.Internal);
    this.status = status;
  }
}

const DETECTOR_PARAMS_BYTES = 24;

/** `DSX_MSGBROKER_CUSTOM_BLOB` and the `DSX_EMIT_*` kinds of dskafka.h. */
const MSGBROKER_CUSTOM_BLOB = 1;
const EMIT_FRAMES = 0;
const EMIT_INTERVAL = 1;
const EMIT_CHANGE = 2;
const STATS_FIELDS = 6;

/**
 * One running pipeline. Iterating it yields batches of records until the pipeline has
 * ended and every record was read.
 *
 * @example Count frames of a video
 * ```ts ignore
 * import { ShimPipeline } from "./pipeline.ts";
 *
 * const pipeline = ShimPipeline.start({ sources: ["samples/car-detection.mp4"] });
 * let frames = 0;
 * try {
 *   for await (const batch of pipeline) {
 *     frames += batch.filter((record) => record.type === "frame").length;
 *   }
 * } finally {
 *   await pipeline.close();
 * }
 * ```
 */
export class ShimPipeline implements AsyncIterable<ShimRecord[]> {
  #symbols: ShimSymbols;
  #handle: Deno.PointerObject | null;
  #decoder = new RecordDecoder();
  #pollTimeoutMs: number;
  /**
   * The poll buffer. C writes into it on a worker thread while a `nonblocking` poll is
   * in flight, so it stays referenced by this object until `close()` has awaited that
   * poll and freed the handle.
   */
  #buffer: Uint8Array<ArrayBuffer>;
  #inflight: Promise<bigint> | null = null;
  #stopped = false;

  private constructor(symbols: ShimSymbols, handle: Deno.PointerObject, pollTimeoutMs: number) {
    this.#symbols = symbols;
    this.#handle = handle;
    this.#pollTimeoutMs = pollTimeoutMs;

    const recordBytes = Number(symbols.dsx_pipeline_max_record_bytes(handle));
    this.#buffer = new Uint8Array(Math.max(recordBytes, 1 << 20));
  }

  /**
   * Creates, configures and starts a pipeline.
   *
   * @throws {BackendUnavailableError} When the backend cannot run on this host.
   * @throws {ShimCallError} When the shim rejects an option or cannot build the pipeline.
   */
  static start(options: PipelineOptions): ShimPipeline {
    const symbols = loadShim();
    const backend = options.backend ?? "cpu";
    checkBackend(symbols, backend);

    const handle = symbols.dsx_pipeline_new(Backend[backend]);
    if (handle === null) throw new ShimCallError("the shim could not allocate a pipeline", -1);

    const pipeline = new ShimPipeline(symbols, handle, options.pollTimeoutMs ?? 200);
    try {
      pipeline.#configure(options);
      pipeline.#check(symbols.dsx_pipeline_start(handle), "start");
    } catch (error) {
      symbols.dsx_pipeline_free(handle);
      pipeline.#handle = null;
      throw error;
    }
    return pipeline;
  }

  #configure(options: PipelineOptions) {
    const s = this.#symbols;
    const handle = this.#handle;

    for (const source of options.sources) {
      this.#check(s.dsx_pipeline_add_source(handle, cString(source)), `add source ${source}`);
    }
    if (options.processingSize) {
      const { width, height } = options.processingSize;
      this.#check(s.dsx_pipeline_set_processing_size(handle, width, height), "processing size");
    }
    if (options.ringBytes !== undefined || options.overflow !== undefined) {
      const bytes = BigInt(options.ringBytes ?? 4 * 1024 * 1024);
      const overflow = Overflow[options.overflow ?? "block"];
      this.#check(s.dsx_pipeline_set_ring(handle, bytes, overflow), "ring");
    }
    if (options.maxObjects !== undefined) {
      this.#check(s.dsx_pipeline_set_max_objects(handle, options.maxObjects), "max objects");
    }
    if (options.realtime) this.#check(s.dsx_pipeline_set_realtime(handle, 1), "realtime");
    if (options.loop) this.#check(s.dsx_pipeline_set_loop(handle, 1), "loop");
    if (options.reconnect) {
      const { initialDelayMs, maxDelayMs } = options.reconnect;
      this.#check(s.dsx_pipeline_set_reconnect(handle, initialDelayMs, maxDelayMs), "reconnect");
    }
    if (options.detector) {
      this.#check(s.dsx_pipeline_set_detector(handle, encodeDetector(options.detector)), "detector");
    }

    if (options.msgbroker) this.#configureMsgbroker(options);

    const paths: Array<[string, string | undefined]> = [
      ["analytics-config", options.paths?.analyticsConfig],
      ["infer-config", options.paths?.inferConfig],
      ["tracker-config", options.paths?.trackerConfig],
      ["tracker-library", options.paths?.trackerLibrary],
    ];
    for (const [key, value] of paths) {
      if (value === undefined) continue;
      this.#check(s.dsx_pipeline_set_path(handle, cString(key), cString(value)), key);
    }
  }

  #configureMsgbroker(options: PipelineOptions) {
    const s = this.#symbols;
    const handle = this.#handle;
    const broker = options.msgbroker!;
    const text = (value: string | undefined) => cString(value ?? "");

    const flags = broker.customBlob ? MSGBROKER_CUSTOM_BLOB : 0;
    this.#check(
      s.dsx_pipeline_set_msgbroker(
        handle,
        cString(broker.protoLib),
        text(broker.connStr),
        text(broker.topic),
        text(broker.brokerConfig),
        text(broker.msgconvConfig),
        flags,
      ),
      "nvmsgbroker branch",
    );

    for (const [streamId, device] of (options.devices ?? []).entries()) {
      const status = s.dsx_pipeline_set_device(
        handle,
        streamId,
        cString(device.deviceId),
        cString(device.sessionKey),
      );
      this.#check(status, `device id of stream ${streamId}`);
    }

    const emit = options.emit ?? { kind: "frames", frames: 30 };
    const [kind, value] = emit.kind === "frames"
      ? [EMIT_FRAMES, emit.frames]
      : emit.kind === "interval"
      ? [EMIT_INTERVAL, emit.milliseconds]
      : [EMIT_CHANGE, 0];
    this.#check(s.dsx_pipeline_set_emit(handle, kind, BigInt(value)), "emission policy");
  }

  #check(status: number, what: string) {
    if (status >= 0) return;
    throw new ShimCallError(`pipeline ${what} failed: ${this.lastError()}`, status);
  }

  /** Returns the pipeline's last error message from the shim. */
  lastError(): string {
    const text = new Uint8Array(1024);
    this.#symbols.dsx_pipeline_last_error(this.#handle, text, text.length);
    return readCString(text);
  }

  /** Yields batches of records until the pipeline has ended and every record was read. */
  async *[Symbol.asyncIterator](): AsyncIterator<ShimRecord[]> {
    while (this.#handle !== null) {
      this.#inflight = this.#symbols.dsx_pipeline_poll(
        this.#handle,
        this.#buffer,
        BigInt(this.#buffer.length),
        this.#pollTimeoutMs,
      );
      const result = await this.#inflight;
      this.#inflight = null;

      if (result === BigInt(Status.Ended)) return;
      if (result < 0n) {
        throw new ShimCallError(`pipeline poll failed: ${this.lastError()}`, Number(result));
      }
      if (result === 0n) continue;

      yield this.#decoder.decode(this.#buffer, Number(result));
    }
  }

  /** Returns the pipeline's counters. */
  stats(): PipelineStats {
    const values = new BigUint64Array(STATS_FIELDS);
    if (this.#handle !== null) {
      this.#symbols.dsx_pipeline_stats(this.#handle, new Uint8Array(values.buffer));
    }
    return {
      framesDecoded: Number(values[0]),
      framesDelivered: Number(values[1]),
      framesDropped: Number(values[2]),
      objectsTruncated: Number(values[3]),
      ringHighWater: Number(values[4]),
      producerWaits: Number(values[5]),
    };
  }

  /**
   * Stops the sources. Records already queued are still yielded, followed by the end of
   * the iteration. Safe to call twice.
   */
  stop(): void {
    if (this.#handle === null || this.#stopped) return;

    this.#stopped = true;
    this.#symbols.dsx_pipeline_stop(this.#handle);
  }

  /**
   * Stops the pipeline, waits for a poll still in flight, and frees the handle. Freeing
   * while the worker thread is inside poll would be a use after free.
   */
  async close(): Promise<void> {
    if (this.#handle === null) return;

    this.stop();
    if (this.#inflight) await this.#inflight.catch(() => undefined);

    this.#symbols.dsx_pipeline_free(this.#handle);
    this.#handle = null;
  }
}

function checkBackend(symbols: ShimSymbols, backend: BackendName) {
  const reason = new Uint8Array(512);
  if (symbols.dsx_backend_available(Backend[backend], reason, reason.length) === 1) return;

  throw new BackendUnavailableError(backend, `backend "${backend}" is unavailable: ${readCString(reason)}`);
}

/** Returns whether a backend can run here, and why not when it cannot. */
export function backendAvailability(backend: BackendName): { available: boolean; reason: string } {
  const symbols = loadShim();
  const reason = new Uint8Array(512);
  const available = symbols.dsx_backend_available(Backend[backend], reason, reason.length) === 1;
  return { available, reason: available ? "" : readCString(reason) };
}

/** Lays out `dsx_detector_params` (uint32 size, threshold, min_area, morph_radius; float absorb, adapt). */
function encodeDetector(params: DetectorParams): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(DETECTOR_PARAMS_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, DETECTOR_PARAMS_BYTES, true);
  view.setUint32(4, params.threshold ?? 0, true);
  view.setUint32(8, params.minArea ?? 0, true);
  view.setUint32(12, params.morphRadius ?? 0, true);
  view.setFloat32(16, params.absorbSeconds ?? 0, true);
  view.setFloat32(20, params.adaptSeconds ?? 0, true);
  return bytes;
}
