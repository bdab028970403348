/**
 * Choice of the pipeline backend: `auto` takes deepstream when the shim was built with
 * the SDK and its plugins load, and cpu otherwise.
 *
 * @module
 */

import type { BackendName } from "../../ffi/constants.ts";
import { backendAvailability } from "../../ffi/pipeline.ts";
import { BackendUnavailableError, UsageError } from "../errors.ts";
import { getLogger } from "../log.ts";

const log = getLogger("backend");

/**
 * Resolves `--backend` to a backend that can run here.
 *
 * @throws {UsageError} For a name other than auto, cpu or deepstream.
 * @throws {BackendUnavailableError} When deepstream is requested and cannot run.
 */
export function selectBackend(requested: string): BackendName {
  if (requested === "cpu") return "cpu";

  if (requested !== "auto" && requested !== "deepstream") {
    throw new UsageError(`--backend "${requested}" is invalid: use auto, cpu or deepstream`);
  }

  const deepstream = backendAvailability("deepstream");
  if (deepstream.available) {
    log.info("using the deepstream backend", { requested });
    return "deepstream";
  }
  if (requested === "deepstream") {
    throw new BackendUnavailableError("deepstream", `--backend deepstream: ${deepstream.reason}`);
  }

  log.info("using the cpu backend because deepstream is unavailable", {
    reason: deepstream.reason,
  });
  return "cpu";
}
