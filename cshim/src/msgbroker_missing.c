/*
 * msgbroker_missing.c — replaces the nvmsgbroker functions of event_message.cpp when
 * the library is built without the DeepStream SDK, so that a caller gets
 * DSX_ERR_UNAVAILABLE with the reason instead of a missing symbol.
 */
#include <glib.h>

#include "internal.h"
#include "dskafka.h"

/* Stores the reason why the branch is missing and returns DSX_ERR_UNAVAILABLE. */
static int32_t unavailable(dsx_pipeline *pipeline, const char *function) {
  if (pipeline == NULL) return DSX_ERR_INVALID_ARGUMENT;

  char reason[256] = "";
  dsx_deepstream_available(reason, sizeof reason);
  dsx_set_error(pipeline, "%s: the nvmsgbroker branch needs the deepstream backend: %s", function,
                reason);
  return DSX_ERR_UNAVAILABLE;
}

int32_t dsx_pipeline_set_msgbroker(dsx_pipeline *pipeline, const char *proto_lib,
                                   const char *conn_str, const char *topic,
                                   const char *broker_config, const char *msgconv_config,
                                   uint32_t flags) {
  return unavailable(pipeline, "dsx_pipeline_set_msgbroker");
}

int32_t dsx_pipeline_set_device(dsx_pipeline *pipeline, uint32_t stream_id,
                                const char *device_id, const char *session_key) {
  return unavailable(pipeline, "dsx_pipeline_set_device");
}

int32_t dsx_pipeline_set_emit(dsx_pipeline *pipeline, uint32_t kind, uint64_t value) {
  return unavailable(pipeline, "dsx_pipeline_set_emit");
}
