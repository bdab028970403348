/**
 * Turns a stream's error event from the shim into the user-facing error for that input.
 *
 * @module
 */

import { EventCode } from "../../ffi/constants.ts";
import type { ShimEvent } from "../../ffi/records.ts";
import {
  DskafkaError,
  ExitCode,
  InputNotFoundError,
  InvalidMediaError,
  UnsupportedInputError,
} from "../errors.ts";
import type { Input } from "./input.ts";

/** Returns the error to report for `input` after the shim's error `event`. */
export function streamError(input: Input, event: ShimEvent): DskafkaError {
  const detail = event.text.replace(/\s+/g, " ").trim() || "no details from GStreamer";

  switch (event.code) {
    case EventCode.notFound:
      return input.live
        ? new InputNotFoundError(
          input.text,
          `input "${input.text}" could not be opened (${detail}): check that the camera or ` +
            `server is reachable and the URL is right`,
        )
        : new InputNotFoundError(
          input.text,
          `input "${input.text}" could not be opened (${detail}): check the path or URL`,
        );

    case EventCode.unsupported:
      return new UnsupportedInputError(
        input.text,
        `input "${input.text}" cannot be read (${detail}): use a file path, file://, rtsp:// ` +
          `or http(s)://`,
      );

    case EventCode.notVideo:
      return new InvalidMediaError(
        input.text,
        `input "${input.text}" is not a video (${detail}): give a file or stream with a ` +
          `video track`,
      );

    case EventCode.decode:
      return new InvalidMediaError(
        input.text,
        `input "${input.text}" could not be decoded (${detail}): the file may be corrupt or ` +
          `truncated; check it with gst-discoverer-1.0 or ffprobe`,
      );

    default:
      return new DskafkaError(
        `input "${input.text}" failed in the pipeline: ${detail}`,
        ExitCode.InvalidMedia,
      );
  }
}
