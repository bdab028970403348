/**
 * Loading the dskafka shim: where the shared library is found, and the version check.
 *
 * The library is opened once per process and never closed: closing it while a
 * `nonblocking` poll is still running on a worker thread crashes the process, and a
 * process that is done with it is about to exit anyway.
 *
 * @module
 */

import { ShimLoadError } from "../src/errors.ts";
import { EMBEDDED_SHIM_URL, extractEmbeddedShim } from "./embedded.ts";
import { EXPECTED_RECORD_VERSION, EXPECTED_VERSION_MAJOR, SYMBOLS } from "./symbols.ts";
import type { ShimSymbols } from "./symbols.ts";

/** Environment variable that overrides the path of the shim library. */
export const SHIM_PATH_VARIABLE = "DSKAFKA_SHIM_PATH";

let loaded: { path: string; symbols: ShimSymbols } | undefined;

/**
 * Returns the path the shim is loaded from. That is `$DSKAFKA_SHIM_PATH` when it is set.
 * In a `deno compile` binary it is the embedded library, extracted to the per-user cache
 * (see `ffi/embedded.ts`). Otherwise it is `cshim/build/libdskafka.so` in this source
 * tree.
 *
 * @throws {ShimLoadError} In a compiled binary, when the embedded library is missing or
 *   cannot be extracted.
 */
export function defaultShimPath(): string {
  const override = Deno.env.get(SHIM_PATH_VARIABLE);
  if (override) return override;

  if (Deno.build.standalone) return extractEmbeddedShim(EMBEDDED_SHIM_URL);

  return decodeURIComponent(new URL("../cshim/build/libdskafka.so", import.meta.url).pathname);
}

/**
 * Opens the shim (once per process) and checks that its ABI and record versions match
 * this code.
 *
 * @param path Library path; defaults to {@linkcode defaultShimPath}.
 * @returns The library's symbols.
 * @throws {ShimLoadError} When the library is missing, cannot be loaded, or has another
 *   major version. A permission error from Deno (no `--allow-ffi`) is thrown unchanged.
 */
export function loadShim(path: string = defaultShimPath()): ShimSymbols {
  if (loaded) return loaded.symbols;

  const symbols = openShim(path);
  loaded = { path, symbols };
  return symbols;
}

/**
 * Opens the shim at `path` and checks its versions, without caching: each call opens
 * the library again. {@linkcode loadShim} is the cached entry point.
 *
 * @throws {ShimLoadError} As {@linkcode loadShim}.
 */
export function openShim(path: string): ShimSymbols {
  let library: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    library = Deno.dlopen(path, SYMBOLS);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ShimLoadError(
      path,
      `could not load the dskafka shim from ${path}: ${reason}; build it with ` +
        `"deno task build:shim" or set ${SHIM_PATH_VARIABLE} to the library`,
      { cause: error },
    );
  }

  const version = library.symbols.dsx_version();
  const major = version >>> 16;
  const versionText = `${major}.${(version >>> 8) & 0xff}.${version & 0xff}`;
  if (major !== EXPECTED_VERSION_MAJOR) {
    library.close();
    throw new ShimLoadError(
      path,
      `the dskafka shim at ${path} has ABI version ${versionText}, but this dskafka needs ` +
        `${EXPECTED_VERSION_MAJOR}.x: rebuild it with "deno task build:shim"`,
    );
  }

  const recordVersion = library.symbols.dsx_record_version();
  if (recordVersion !== EXPECTED_RECORD_VERSION) {
    library.close();
    throw new ShimLoadError(
      path,
      `the dskafka shim at ${path} writes record layout ${recordVersion}, but this dskafka ` +
        `reads layout ${EXPECTED_RECORD_VERSION}: rebuild it with "deno task build:shim"`,
    );
  }

  return library.symbols;
}

/** Returns the path of the loaded shim, or `undefined` before {@linkcode loadShim}. */
export function loadedShimPath(): string | undefined {
  return loaded?.path;
}

/** Encodes a string as a NUL-terminated UTF-8 buffer for a `const char *` parameter. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text + "\0");
}

/** Decodes a NUL-terminated string that C wrote into `buffer`. */
export function readCString(buffer: Uint8Array): string {
  const end = buffer.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buffer : buffer.subarray(0, end));
}
