/*
 * backend_deepstream_missing.c — stands in for the deepstream backend when the library
 * is built without the DeepStream SDK headers, so that requesting it fails with a clear
 * reason instead of a missing symbol.
 */
#include <glib.h>

#include "internal.h"

const dsx_backend_ops *const dsx_backend_deepstream_ops = NULL;

int32_t dsx_deepstream_available(char *reason, uint32_t capacity) {
  if (reason != NULL && capacity > 0) {
    g_strlcpy(reason,
              "DeepStream SDK not found: this dskafka library was built without it; use "
              "--backend cpu, or build the shim where the SDK is installed (see the Dockerfile)",
              capacity);
  }
  return 0;
}
