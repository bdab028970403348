/**
 * The shim inside a single `deno compile` binary.
 *
 * `deno task compile` embeds `cshim/build/libdskafka.so` with `--include`. The binary
 * can read embedded files but `dlopen` needs a real file, so at start the library is
 * copied to a per-user cache folder named after its SHA-256, and loaded from there:
 *
 *   $XDG_CACHE_HOME/dskafka/<sha256>/libdskafka.so   (or ~/.cache/dskafka/… without it)
 *
 * A file already there is used only when its own SHA-256 matches; a truncated, corrupted
 * or replaced file is written again. Writing goes to a temporary file in the same folder
 * that is then renamed over the target, so a concurrent start or a crash never leaves a
 * half-written library under the final name.
 *
 * Everything here also runs under `deno run`, given the library as a URL or as bytes,
 * which is how the tests exercise it.
 *
 * @module
 */

import { createHash } from "node:crypto";

import { ShimLoadError } from "../src/errors.ts";
import { getLogger } from "../src/log.ts";

const log = getLogger("shim");

/** File name of the library inside its cache folder. */
export const SHIM_FILE_NAME = "libdskafka.so";

/**
 * Location of the library that `deno compile --include cshim/build/libdskafka.so`
 * embeds, relative to this module. In a compiled binary this URL points into its
 * embedded files.
 */
export const EMBEDDED_SHIM_URL: URL = new URL("../cshim/build/libdskafka.so", import.meta.url);

/** Options of {@linkcode extractEmbeddedShim}. */
export interface ExtractOptions {
  /** Folder with one sub-folder per library hash. @default shimCacheDirectory() */
  cacheDirectory?: string;
}

/**
 * Returns the per-user folder for extracted libraries: `$XDG_CACHE_HOME/dskafka`, or
 * `$HOME/.cache/dskafka` when `XDG_CACHE_HOME` is unset or not an absolute path (the XDG
 * Base Directory specification ignores relative values).
 *
 * @param env reads an environment variable. @default Deno.env.get
 * @throws {ShimLoadError} When neither variable gives a folder.
 *
 * @example The folder for a given environment
 * ```ts
 * import { shimCacheDirectory } from "./embedded.ts";
 *
 * const variables: Record<string, string> = { HOME: "/home/ada" };
 * console.assert(shimCacheDirectory((name) => variables[name]) === "/home/ada/.cache/dskafka");
 * ```
 */
export function shimCacheDirectory(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string {
  const xdg = env("XDG_CACHE_HOME");
  if (xdg !== undefined && xdg.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/dskafka`;

  const home = env("HOME");
  if (home !== undefined && home.startsWith("/")) {
    return `${home.replace(/\/+$/, "")}/.cache/dskafka`;
  }

  throw new ShimLoadError(
    SHIM_FILE_NAME,
    "cannot find a cache folder for the dskafka shim: neither XDG_CACHE_HOME nor HOME is an " +
      "absolute path; set one of them, or set DSKAFKA_SHIM_PATH to the library",
  );
}

/** Returns the SHA-256 of `bytes` as 64 lowercase hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Copies the embedded library to `<cache>/<sha256>/libdskafka.so`, unless a file with
 * the same SHA-256 is already there, and returns that path. Synchronous, because the
 * library is opened synchronously at the first FFI call.
 *
 * @param source the embedded library: a URL to read (in a compiled binary,
 *   {@linkcode EMBEDDED_SHIM_URL}), or its bytes
 * @throws {ShimLoadError} When the embedded library cannot be read (a binary compiled
 *   without `--include`) or the cache folder cannot be written.
 *
 * @example Extract the library built in this tree to a temporary cache
 * ```ts ignore
 * import { EMBEDDED_SHIM_URL, extractEmbeddedShim } from "./embedded.ts";
 *
 * const path = extractEmbeddedShim(EMBEDDED_SHIM_URL, { cacheDirectory: Deno.makeTempDirSync() });
 * console.log(path); // …/<sha256>/libdskafka.so
 * ```
 */
export function extractEmbeddedShim(
  source: URL | Uint8Array,
  options: ExtractOptions = {},
): string {
  const bytes = source instanceof Uint8Array ? source : readEmbedded(source);
  const hash = sha256Hex(bytes);
  const folder = `${options.cacheDirectory ?? shimCacheDirectory()}/${hash}`;
  const target = `${folder}/${SHIM_FILE_NAME}`;

  const existing = readIfExists(target);
  if (existing !== undefined) {
    if (sha256Hex(existing) === hash) {
      log.debug("using the extracted shim", { path: target });
      return target;
    }
    log.warn(
      "the extracted shim does not match its SHA-256 (corrupted or replaced); writing it again",
      {
        path: target,
      },
    );
  }

  writeAtomically(folder, target, bytes);
  log.debug("extracted the embedded shim", { path: target, bytes: bytes.length });
  return target;
}

function readEmbedded(source: URL): Uint8Array {
  try {
    return Deno.readFileSync(source);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ShimLoadError(
      source.pathname,
      `this dskafka binary carries no shim (${reason}): compile it with "deno task compile", ` +
        `which embeds cshim/build/libdskafka.so, or set DSKAFKA_SHIM_PATH to the library`,
      { cause: error },
    );
  }
}

/** Reads an extracted library; `undefined` when there is none to reuse. */
function readIfExists(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    if (error instanceof Deno.errors.NotCapable) throw error;

    const reason = error instanceof Error ? error.message : String(error);
    throw new ShimLoadError(
      path,
      `could not read the extracted dskafka shim at ${path} (${reason}): remove it, point ` +
        `XDG_CACHE_HOME at another folder, or set DSKAFKA_SHIM_PATH to the library`,
      { cause: error },
    );
  }
}

/**
 * Writes `bytes` to `target` through a temporary file in `folder` and a rename, which
 * replaces the target in one step on the same file system.
 */
function writeAtomically(folder: string, target: string, bytes: Uint8Array): void {
  const temporary = `${folder}/.${SHIM_FILE_NAME}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.mkdirSync(folder, { recursive: true, mode: 0o700 });
    Deno.writeFileSync(temporary, bytes, { mode: 0o755 });
    Deno.renameSync(temporary, target);
  } catch (error) {
    try {
      Deno.removeSync(temporary);
    } catch {
      // The temporary file was never created, or is already gone.
    }
    // A missing Deno permission (--allow-write) passes through, as in loadShim.
    if (error instanceof Deno.errors.NotCapable) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ShimLoadError(
      target,
      `could not extract the dskafka shim to ${folder} (${reason}): make the folder writable, ` +
        `point XDG_CACHE_HOME at a writable folder, or set DSKAFKA_SHIM_PATH to the library`,
      { cause: error },
    );
  }
}
