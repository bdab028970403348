/**
 * Decoding of the shim's binary records (layout version 1, see `cshim/include/dskafka.h`)
 * into {@linkcode Frame} objects and stream events.
 *
 * @module
 */

import type { Frame, FrameAnalytics, FrameObject, ObjectAnalytics } from "../src/frame.ts";
import { EventCode, EventKind, RecordType, SectionTag, UNTRACKED } from "./constants.ts";

/** A stream or pipeline event from the GStreamer bus. */
export interface ShimEvent {
  /** Zero-based stream index, or -1 for the whole pipeline. */
  streamId: number;
  /** One of {@linkcode EventKind}. */
  kind: number;
  /** One of {@linkcode EventCode}, classifying an error. */
  code: number;
  /** The message text from GStreamer, or details such as `768x432@12.500`. */
  text: string;
}

/** One decoded record. */
export type ShimRecord =
  | { type: "frame"; frame: Frame; droppedBefore: number }
  | { type: "event"; event: ShimEvent };

const FRAME_HEADER_BYTES = 48;
const OBJECT_BYTES = 32;
const SECTION_HEADER_BYTES = 8;
const SECTION_ENTRY_BYTES = 16;
const EVENT_FIXED_BYTES = 24;

/**
 * Decodes records of one pipeline. Label records intern strings once per pipeline, so
 * one decoder must see every record of its pipeline, in order.
 */
export class RecordDecoder {
  #labels = new Map<number, string>();
  #text = new TextDecoder();

  /** Decodes the `length` bytes at the start of `buffer`, which holds whole records. */
  decode(buffer: Uint8Array, length: number): ShimRecord[] {
    const view = new DataView(buffer.buffer, buffer.byteOffset, length);
    const records: ShimRecord[] = [];

    let offset = 0;
    while (offset < length) {
      const type = view.getUint16(offset, true);
      const size = view.getUint32(offset + 4, true);
      if (size < 8 || offset + size > length) {
        throw new RangeError(`corrupt shim record at byte ${offset}: size ${size} of ${length}`);
      }

      if (type === RecordType.frame) {
        records.push(this.#decodeFrame(view, offset));
      } else if (type === RecordType.label) {
        this.#decodeLabel(buffer, view, offset);
      } else if (type === RecordType.event) {
        records.push({ type: "event", event: this.#decodeEvent(buffer, view, offset) });
      }
      offset += size;
    }
    return records;
  }

  #decodeLabel(buffer: Uint8Array, view: DataView, offset: number) {
    const id = view.getUint32(offset + 8, true);
    const length = view.getUint32(offset + 12, true);
    const start = offset + 16;
    this.#labels.set(id, this.#text.decode(buffer.subarray(start, start + length)));
  }

  #decodeEvent(buffer: Uint8Array, view: DataView, offset: number): ShimEvent {
    const length = view.getUint32(offset + 20, true);
    const start = offset + EVENT_FIXED_BYTES;
    return {
      streamId: view.getInt32(offset + 8, true),
      kind: view.getUint32(offset + 12, true),
      code: view.getUint32(offset + 16, true),
      text: this.#text.decode(buffer.subarray(start, start + length)),
    };
  }

  #decodeFrame(view: DataView, offset: number): ShimRecord {
    const objectCount = view.getUint32(offset + 12, true);
    const sectionCount = view.getUint32(offset + 40, true);

    const objects: FrameObject[] = new Array(objectCount);
    let cursor = offset + FRAME_HEADER_BYTES;
    for (let i = 0; i < objectCount; i++, cursor += OBJECT_BYTES) {
      const trackId = view.getBigUint64(cursor, true);
      objects[i] = {
        trackId: trackId === UNTRACKED ? null : trackId,
        classId: view.getInt32(cursor + 8, true),
        confidence: view.getFloat32(cursor + 12, true),
        left: view.getFloat32(cursor + 16, true),
        top: view.getFloat32(cursor + 20, true),
        width: view.getFloat32(cursor + 24, true),
        height: view.getFloat32(cursor + 28, true),
      };
    }

    const frame: Frame = {
      streamId: view.getUint32(offset + 8, true),
      frameNumber: Number(view.getBigUint64(offset + 16, true)),
      ptsNs: view.getBigUint64(offset + 24, true),
      width: view.getUint32(offset + 32, true),
      height: view.getUint32(offset + 36, true),
      objects,
    };
    if (sectionCount > 0) frame.analytics = this.#decodeSections(view, cursor, sectionCount, objects);

    return { type: "frame", frame, droppedBefore: view.getUint32(offset + 44, true) };
  }

  /** Turns the analytics sections of the deepstream backend into a FrameAnalytics. */
  #decodeSections(
    view: DataView,
    start: number,
    sectionCount: number,
    objects: FrameObject[],
  ): FrameAnalytics {
    const analytics: FrameAnalytics = {
      lineCrossingsCurrent: {},
      lineCrossingsCumulative: {},
      roiCounts: {},
      overcrowding: {},
      objectCounts: {},
      objects: objects.map((object): ObjectAnalytics => ({
        trackId: object.trackId,
        classId: object.classId,
        meta: false,
        roi: [],
        overcrowding: [],
        lineCrossings: [],
        direction: "",
        status: "",
      })),
    };

    let cursor = start;
    for (let s = 0; s < sectionCount; s++) {
      const tag = view.getUint16(cursor, true);
      const entryCount = view.getUint32(cursor + 4, true);
      cursor += SECTION_HEADER_BYTES;

      for (let e = 0; e < entryCount; e++, cursor += SECTION_ENTRY_BYTES) {
        const a = view.getUint32(cursor, true);
        const b = view.getUint32(cursor + 4, true);
        const value = Number(view.getBigUint64(cursor + 8, true));
        this.#applyEntry(analytics, tag, a, b, value);
      }
    }
    return analytics;
  }

  #applyEntry(analytics: FrameAnalytics, tag: number, a: number, b: number, value: number) {
    const label = (id: number) => this.#labels.get(id) ?? `label-${id}`;
    const object = analytics.objects[a];

    switch (tag) {
      case SectionTag.lcCurrent:
        analytics.lineCrossingsCurrent[label(a)] = value;
        break;
      case SectionTag.lcCumulative:
        analytics.lineCrossingsCumulative[label(a)] = value;
        break;
      case SectionTag.roiCount:
        analytics.roiCounts[label(a)] = value;
        break;
      case SectionTag.overcrowding:
        analytics.overcrowding[label(a)] = value !== 0;
        break;
      case SectionTag.objectCount:
        analytics.objectCounts[String(a)] = value;
        break;
      case SectionTag.objectRoi:
        if (object) object.roi.push(label(b));
        break;
      case SectionTag.objectLc:
        if (object) object.lineCrossings.push(label(b));
        break;
      case SectionTag.objectOvercrowding:
        if (object) object.overcrowding.push(label(b));
        break;
      case SectionTag.objectDirection:
        if (object) object.direction += label(b);
        break;
      case SectionTag.objectStatusText:
        if (object) {
          object.status = label(b);
          object.meta = true;
        }
        break;
    }
  }
}

/** The details of a `streamReconnecting` event. */
export interface ReconnectAttempt {
  /** Attempt number within the current outage, from 1. */
  attempt: number;
  /** Wait before the attempt, in milliseconds. */
  delayMs: number;
  /** GStreamer's message about the failure. */
  reason: string;
}

/**
 * Decodes the text of a `streamReconnecting` event, `ATTEMPT DELAY_MS REASON`. A text in
 * another form (a newer shim) keeps the whole text as the reason, with 0 for the numbers.
 */
export function decodeReconnectAttempt(text: string): ReconnectAttempt {
  const match = /^(\d+) (\d+) ?(.*)$/s.exec(text);
  if (match === null) return { attempt: 0, delayMs: 0, reason: text };

  return { attempt: Number(match[1]), delayMs: Number(match[2]), reason: match[3] };
}

/** Returns a short name for an event code, for logs. */
export function eventCodeName(code: number): string {
  const entry = Object.entries(EventCode).find(([, value]) => value === code);
  return entry ? entry[0] : `code-${code}`;
}

/** Returns a short name for an event kind, for logs. */
export function eventKindName(kind: number): string {
  const entry = Object.entries(EventKind).find(([, value]) => value === kind);
  return entry ? entry[0] : `kind-${kind}`;
}
