/**
 * Replayed tracks as a {@linkcode FrameSource}: no video, the tracks of each file go
 * straight into the analytics engine. Used to tune line configs offline and to compare
 * dskafka with recorded DeepStream runs.
 *
 * @module
 */

import { DskafkaError } from "../errors.ts";
import type { Frame } from "../frame.ts";
import type { FrameSource, SourceItem, SourceStats } from "./source.ts";
import { readKittiTracks, readMotTracks } from "./tracks.ts";

/** Track file formats: MOT Challenge CSV, or DeepStream's KITTI dump directory. */
export type TracksFormat = "mot" | "kitti";

/** Options of {@linkcode openReplaySource}. */
export interface ReplayOptions {
  /** Format of every tracks file. @default "mot" */
  format?: TracksFormat;
  /** Frame rate of the recorded streams, for timestamps. */
  fps: number;
  /** Frame size of the recorded streams in pixels. */
  width: number;
  height: number;
  /** Detector labels in class-id order, to read KITTI label names. */
  labels?: readonly string[];
}

/** Frames handed out per batch, per stream. */
const FRAMES_PER_BATCH = 64;

/**
 * Opens one tracks file (MOT) or dump directory (KITTI) per stream; stream N is the Nth
 * path. Streams are interleaved batch by batch, as a multi-camera pipeline would deliver
 * them.
 */
export function openReplaySource(paths: string[], options: ReplayOptions): FrameSource {
  let stopped = false;
  let framesRead = 0;

  const readers = paths.map((path, streamId): AsyncGenerator<Frame> => {
    const common = { fps: options.fps, width: options.width, height: options.height, streamId };
    return options.format === "kitti"
      ? readKittiTracks(path, { ...common, labels: options.labels })
      : readMotTracks(path, common);
  });

  async function* items(): AsyncGenerator<SourceItem[]> {
    const description = `${options.width}x${options.height}@${options.fps.toFixed(3)}`;
    yield paths.map((_, streamId): SourceItem => ({ type: "started", streamId, description }));

    const active = new Set(readers.keys());
    while (active.size > 0 && !stopped) {
      for (const streamId of [...active]) {
        const batch: SourceItem[] = [];

        try {
          for (let n = 0; n < FRAMES_PER_BATCH; n++) {
            const next = await readers[streamId].next();
            if (next.done) {
              active.delete(streamId);
              batch.push({ type: "ended", streamId });
              break;
            }
            framesRead++;
            batch.push({ type: "frame", frame: next.value, droppedBefore: 0 });
          }
        } catch (error) {
          if (!(error instanceof DskafkaError)) throw error;
          active.delete(streamId);
          batch.push({ type: "failed", streamId, error });
        }

        yield batch;
      }
    }
  }

  return {
    hasAnalytics: false,
    // KITTI detector dumps have no ids: the tracker assigns them and passes tracked
    // boxes through unchanged.
    hasTrackIds: false,
    [Symbol.asyncIterator]: items,
    stop: () => {
      stopped = true;
    },
    close: async () => {
      await Promise.all(readers.map((reader) => reader.return(undefined)));
    },
    stats: (): SourceStats => ({ framesDecoded: framesRead, framesDropped: 0 }),
  };
}
