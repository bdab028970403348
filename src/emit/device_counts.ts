/**
 * Per-device aggregation between messages: the crossings since the previous message,
 * the latest frame's counts, and the decision when to emit.
 *
 * `lc_curr_<label>` in a message is the sum of the per-frame crossings since the
 * device's previous message, so that no crossing between two messages is lost and the
 * sum of `lc_curr` over all messages equals the final `lc_cum`.
 *
 * @module
 */

import type { Frame, FrameAnalytics } from "../frame.ts";
import type { EmitPolicy } from "./policy.ts";

/** The counts one message reports, before they become JSON. */
export interface CountsSnapshot {
  /** Device id of the stream. */
  deviceId: string;
  /** Zero-based stream index. */
  streamId: number;
  /** Frame number of the last frame included. */
  frameNumber: number;
  /** Presentation time of that frame in nanoseconds. */
  ptsNs: bigint;
  /** 1-based sequence number of this message for this device in this run. */
  sequence: number;
  /** Crossings per line label since the previous message. */
  lineCrossingsCurrent: Record<string, number>;
  /** Running total of crossings per line label. */
  lineCrossingsCumulative: Record<string, number>;
  /** Latest frame's analytics (ROI counts, overcrowding, object counts, per-object state). */
  latest: FrameAnalytics;
}

/** Aggregates the analytics of one device's frames and decides when to emit. */
export class DeviceCounts {
  readonly deviceId: string;
  readonly streamId: number;
  readonly #policy: EmitPolicy;

  // Null-prototype maps, so a line labelled `constructor` or `__proto__` is a plain key.
  #pending: Record<string, number> = Object.create(null);
  #cumulative: Record<string, number> = {};
  #latest?: { frame: Frame; analytics: FrameAnalytics };
  #lastEmitPtsNs: bigint | null = null;
  #lastEmitFrame = 0;
  #lastSignature = "";
  #sequence = 0;

  constructor(deviceId: string, streamId: number, policy: EmitPolicy) {
    this.deviceId = deviceId;
    this.streamId = streamId;
    this.#policy = policy;
  }

  /** Number of messages emitted so far. */
  get emitted(): number {
    return this.#sequence;
  }

  /** Running total of crossings per line label. */
  get cumulative(): Readonly<Record<string, number>> {
    return this.#cumulative;
  }

  /** Adds one frame's analytics; returns a snapshot when the policy makes a message due. */
  add(frame: Frame, analytics: FrameAnalytics): CountsSnapshot | null {
    for (const [label, count] of Object.entries(analytics.lineCrossingsCurrent)) {
      this.#pending[label] = (this.#pending[label] ?? 0) + count;
    }
    this.#cumulative = { ...analytics.lineCrossingsCumulative };
    this.#latest = { frame, analytics };

    return this.#due(frame, analytics) ? this.#snapshot() : null;
  }

  /**
   * Returns a final snapshot at the end of the stream when the last frame was not
   * already emitted, so the last message always carries the final counts.
   */
  finish(): CountsSnapshot | null {
    if (!this.#latest || this.#latest.frame.frameNumber === this.#lastEmitFrame) return null;
    return this.#snapshot();
  }

  #due(frame: Frame, analytics: FrameAnalytics): boolean {
    switch (this.#policy.kind) {
      case "frames":
        return frame.frameNumber % this.#policy.frames === 0;

      case "interval": {
        if (this.#lastEmitPtsNs === null) return true;
        const elapsedMs = (frame.ptsNs - this.#lastEmitPtsNs) / 1_000_000n;
        return elapsedMs >= BigInt(this.#policy.milliseconds);
      }

      case "change": {
        const signature = JSON.stringify([
          analytics.lineCrossingsCumulative,
          analytics.roiCounts,
          analytics.overcrowding,
          analytics.objectCounts,
        ]);
        const changed = signature !== this.#lastSignature;
        this.#lastSignature = signature;
        return changed;
      }
    }
  }

  #snapshot(): CountsSnapshot {
    const latest = this.#latest!;
    this.#sequence++;
    this.#lastEmitPtsNs = latest.frame.ptsNs;
    this.#lastEmitFrame = latest.frame.frameNumber;

    const current: Record<string, number> = Object.create(null);
    for (const label of Object.keys(this.#cumulative)) current[label] = this.#pending[label] ?? 0;
    this.#pending = Object.create(null);

    return {
      deviceId: this.deviceId,
      streamId: this.streamId,
      frameNumber: latest.frame.frameNumber,
      ptsNs: latest.frame.ptsNs,
      sequence: this.#sequence,
      lineCrossingsCurrent: current,
      lineCrossingsCumulative: { ...this.#cumulative },
      latest: latest.analytics,
    };
  }
}
