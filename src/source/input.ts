/**
 * Command-line inputs: validation of a path or URI before any pipeline starts, the URI
 * given to GStreamer, and the default device id.
 *
 * @module
 */

import { basename, extname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { InputNotFoundError, InvalidMediaError, UnsupportedInputError } from "../errors.ts";

/** URI schemes dskafka reads. Live schemes are re-connected and never counted as files. */
export const SUPPORTED_SCHEMES = ["file", "rtsp", "rtsps", "http", "https"] as const;

const LIVE_SCHEMES = new Set(["rtsp", "rtsps"]);

/** One validated input. */
export interface Input {
  /** The input as the user gave it. */
  text: string;
  /** The URI handed to the pipeline. */
  uri: string;
  /** Local file path for `file:` inputs. */
  path?: string;
  /** True for camera streams (RTSP), which have no end. */
  live: boolean;
}

/**
 * Validates one input and returns its URI. Local files must exist, be regular files and
 * be non-empty; remote URIs are checked by the pipeline when it connects.
 *
 * @throws {InputNotFoundError} A local file that does not exist.
 * @throws {UnsupportedInputError} A URI scheme outside {@linkcode SUPPORTED_SCHEMES}.
 * @throws {InvalidMediaError} A directory or an empty file.
 */
export async function resolveInput(text: string): Promise<Input> {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();

  if (scheme !== undefined && scheme !== "file") {
    if (!(SUPPORTED_SCHEMES as readonly string[]).includes(scheme)) {
      throw new UnsupportedInputError(
        text,
        `input "${text}" has the unsupported scheme "${scheme}": use a file path, file://, ` +
          `rtsp://, rtsps://, http:// or https://`,
      );
    }
    return { text, uri: text, live: LIVE_SCHEMES.has(scheme) };
  }

  let path: string;
  try {
    path = scheme === "file" ? fileURLToPath(text) : resolve(text);
  } catch (error) {
    throw new InputNotFoundError(
      text,
      `input "${text}" is not a valid file URI: use file:///absolute/path or a plain path`,
      { cause: error },
    );
  }
  await checkFile(text, path);
  return { text, uri: pathToFileURL(path).href, path, live: false };
}

async function checkFile(text: string, path: string) {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new InputNotFoundError(
        text,
        `input file "${text}" was not found: check the path (relative paths start at ${Deno.cwd()})`,
        { cause: error },
      );
    }
    throw error;
  }

  if (!info.isFile) {
    throw new InvalidMediaError(text, `input "${text}" is not a regular file: give a video file`);
  }
  if (info.size === 0) {
    throw new InvalidMediaError(text, `input file "${text}" is empty: give a video file`);
  }
}

/**
 * Returns the default device id of an input: the file name without its extension, or
 * for a URI the host and path, with characters other than letters, digits, `.`, `_`
 * and `-` replaced by `-`.
 *
 * @example Device id of a file
 * ```ts
 * import { defaultDeviceId } from "./input.ts";
 *
 * console.assert(defaultDeviceId("videos/Gate 1.mp4") === "Gate-1");
 * ```
 */
export function defaultDeviceId(text: string): string {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();

  let name: string;
  if (scheme === undefined || scheme === "file") {
    const file = basename(scheme === "file" ? new URL(text).pathname : text);
    name = file.slice(0, file.length - extname(file).length) || file;
  } else {
    const url = new URL(text);
    name = `${url.hostname}${url.port ? "-" + url.port : ""}${url.pathname}`;
  }

  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  return cleaned || "device";
}
