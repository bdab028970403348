/**
 * Numeric constants of the shim's C ABI, mirrored from `cshim/include/dskafka.h`.
 *
 * @module
 */

/** `dsx_status` values returned by shim functions. */
export const Status = {
  Ok: 0,
  InvalidArgument: -1,
  InvalidState: -2,
  Unavailable: -3,
  Pipeline: -4,
  BufferTooSmall: -5,
  Ended: -6,
} as const;

/** `dsx_backend` values. */
export const Backend = { cpu: 0, deepstream: 1 } as const;

/** Name of a pipeline backend. */
export type BackendName = keyof typeof Backend;

/** `dsx_overflow` values: what a stream's producer does when its ring is full. */
export const Overflow = { block: 0, "drop-oldest": 1 } as const;

/** Name of an overflow policy. */
export type OverflowPolicy = keyof typeof Overflow;

/** Record types (`DSX_RECORD_*`). */
export const RecordType = { padding: 0, frame: 1, label: 2, event: 3 } as const;

/** Analytics section tags of a frame record (`DSX_SECTION_*`). */
export const SectionTag = {
  lcCurrent: 1,
  lcCumulative: 2,
  roiCount: 3,
  overcrowding: 4,
  objectCount: 5,
  objectRoi: 6,
  objectLc: 7,
  objectOvercrowding: 8,
  objectDirection: 9,
  objectStatusText: 10,
} as const;

/** Event kinds (`DSX_EVENT_*`). */
export const EventKind = {
  streamStarted: 1,
  streamEos: 2,
  error: 3,
  warning: 4,
  pipelineEnd: 5,
  /** A live stream lost its source, with text `ATTEMPT DELAY_MS REASON`. Since ABI 1.1. */
  streamReconnecting: 6,
  /** Frames flow again after a reconnect, with text `WIDTHxHEIGHT@FPS`. Since ABI 1.1. */
  streamReconnected: 7,
  /** A looped file restarts, with the completed passes as text. Since ABI 1.1. */
  streamLooped: 8,
} as const;

/** Error classes of an event (`DSX_EVENT_CODE_*`). */
export const EventCode = {
  none: 0,
  notFound: 1,
  unsupported: 2,
  notVideo: 3,
  decode: 4,
  other: 5,
} as const;

/** `DSX_UNTRACKED`: the track id of a box that no tracker has assigned. */
export const UNTRACKED = 0xffff_ffff_ffff_ffffn;
