/**
 * `--annotate FILE`: records a run's boxes, track ids and line counts of the first
 * stream while it runs, then decodes that input again and writes it with the results
 * drawn on every frame as an H.264 MP4 file.
 *
 * Frames of the second decode are matched to the run's frames by position: the Nth
 * decoded frame is frame number N. That holds for the cpu backend on a file, whose
 * decoder delivers every frame once and in order, which is why only that backend is
 * accepted.
 *
 * @module
 */

import { dirname, resolve } from "node:path";

import type { AnalyticsConfig } from "../analytics/config.ts";
import { streamConfig } from "../analytics/config.ts";
import type { ShimSymbols } from "../../ffi/symbols.ts";
import { UsageError } from "../errors.ts";
import type { Frame, FrameAnalytics } from "../frame.ts";
import { getLogger } from "../log.ts";
import { drawAnalyticsOverlay } from "../preview/overlay.ts";
import { drawCountsPanel, drawObjects } from "./draw.ts";
import { AnnotationRecording } from "./recording.ts";
import { FrameReader, VideoWriter } from "./video_io.ts";

const log = getLogger("annotate");

/** The stream that is drawn: the first input. */
const ANNOTATED_STREAM = 0;

/** Frame rate used when the run recorded too few frames to measure one. */
const FALLBACK_FRAME_RATE = { numerator: 25, denominator: 1 };

/**
 * Checks before a run that the folder of the `--annotate` file exists, so a mistyped path
 * fails at once instead of after the whole video was processed.
 *
 * @throws {UsageError} When the folder is missing or is not a folder.
 */
export async function checkAnnotatePath(path: string): Promise<void> {
  const folder = dirname(resolve(path));
  const info = await Deno.stat(folder).catch(() => undefined);
  if (info === undefined || !info.isDirectory) {
    throw new UsageError(
      `--annotate ${path}: the folder ${folder} does not exist: create it first`,
    );
  }
}

/** Options of {@linkcode Annotator}. */
export interface AnnotatorOptions {
  /** The run's analytics config: its enabled lines of stream 0 become the counts panel. */
  config: AnalyticsConfig;
  /** The run's backend; only "cpu" is accepted. */
  backend: string;
  /** The shim's symbols. @default loadShim() when writing */
  symbols?: ShimSymbols;
}

/** The file {@linkcode Annotator.write} wrote and its frame count and size. */
export interface AnnotateResult {
  path: string;
  /** Frames written. */
  frames: number;
  width: number;
  height: number;
}

/**
 * Records stream 0 of a run through {@linkcode Annotator.onAnalytics} and writes the
 * annotated video afterwards.
 *
 * @example Annotate a run of the sample video
 * ```ts ignore
 * import { loadAnalyticsConfig } from "../analytics/config.ts";
 * import { Annotator } from "./annotate.ts";
 *
 * const { config } = await loadAnalyticsConfig("configs/car-detection.txt");
 * const annotator = new Annotator({ config, backend: "cpu" });
 * // runStreams({ ..., onAnalytics: annotator.onAnalytics });
 * await annotator.write("samples/car-detection.mp4", config, "out.mp4");
 * ```
 */
export class Annotator {
  readonly recording: AnnotationRecording;
  #symbols?: ShimSymbols;

  /**
   * @throws {UsageError} When the backend is not "cpu" (replayed tracks included).
   */
  constructor(options: AnnotatorOptions) {
    if (options.backend === "replay") {
      throw new UsageError(
        "--annotate needs a video --input, not --replay: there is no video to draw on",
      );
    }
    if (options.backend !== "cpu") {
      throw new UsageError(
        `--annotate needs the cpu backend, not ${options.backend}: ` +
          "add --backend cpu",
      );
    }
    const lines = streamConfig(options.config, ANNOTATED_STREAM).lineCrossings;
    const labels = [...new Set(lines.filter((line) => line.enabled).map((line) => line.label))];
    this.recording = new AnnotationRecording(labels);
    this.#symbols = options.symbols;
  }

  /** Records a frame of stream 0; other streams are ignored. Pass it as `RunOptions.onAnalytics`. */
  readonly onAnalytics = (frame: Frame, analytics: FrameAnalytics): void => {
    if (frame.streamId !== ANNOTATED_STREAM) return;

    // frame.objects and analytics.objects are in the same order.
    const boxes = frame.objects.map((object, i) => ({
      left: object.left,
      top: object.top,
      width: object.width,
      height: object.height,
      trackId: analytics.objects[i]?.trackId ?? object.trackId,
    }));
    this.recording.add(
      frame.frameNumber,
      frame.ptsNs,
      frame.width,
      frame.height,
      boxes,
      analytics.lineCrossingsCumulative,
    );
  };

  /**
   * Decodes `inputUri` again and writes frames 1 to the last recorded one to `outPath`
   * with `config`'s stream-0 rules, the recorded boxes, track ids and counts drawn.
   * A frame the run did not record gets the rules and the previous counts, no boxes.
   *
   * @throws {AnnotateError} When decoding or encoding fails.
   * @throws {BackendUnavailableError} When a GStreamer element is missing.
   */
  async write(inputUri: string, config: AnalyticsConfig, outPath: string): Promise<AnnotateResult> {
    const recording = this.recording;
    const result: AnnotateResult = { path: outPath, frames: 0, width: 0, height: 0 };
    if (recording.frameCount === 0) {
      log.warn("--annotate: the run processed no frame of the first input, so nothing is written", {
        stream: ANNOTATED_STREAM,
        path: outPath,
      });
      return result;
    }

    const rate = recording.frameRate() ?? FALLBACK_FRAME_RATE;
    const reader = FrameReader.open(inputUri, this.#symbols);
    let writer: VideoWriter | undefined;
    let counts = recording.labels.map(() => 0);
    try {
      for (let frameNumber = 1; frameNumber <= recording.lastFrameNumber; frameNumber++) {
        const decoded = await reader.next();
        if (decoded === null) {
          log.warn("--annotate: the input ended before the last frame the run processed", {
            stream: ANNOTATED_STREAM,
            decoded: frameNumber - 1,
            processed: recording.lastFrameNumber,
          });
          break;
        }
        const image = decoded.image;
        writer ??= VideoWriter.create(outPath, {
          width: image.width,
          height: image.height,
          fpsNumerator: rate.numerator,
          fpsDenominator: rate.denominator,
        }, this.#symbols);

        drawAnalyticsOverlay(image, config, { streamId: ANNOTATED_STREAM });
        const recorded = recording.frame(frameNumber);
        if (recorded !== undefined) {
          counts = recorded.counts;
          const scale = {
            x: image.width / recording.frameWidth,
            y: image.height / recording.frameHeight,
          };
          drawObjects(image, recorded.objects, scale);
        }
        drawCountsPanel(image, recording.labels, counts);

        writer.push(image, decoded.ptsNs);
        result.frames++;
        result.width = image.width;
        result.height = image.height;
      }
    } catch (error) {
      // Release the encoder. Its own failure is less informative than the error that
      // stopped the loop, so it is only logged.
      await writer?.close().catch((closeError) => {
        log.debug("--annotate: closing the writer after a failure failed too", {
          error: String(closeError),
        });
      });
      throw error;
    } finally {
      reader.close();
    }
    await writer?.close();
    return result;
  }
}
