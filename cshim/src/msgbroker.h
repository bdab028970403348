/*
 * msgbroker.h — proposed additions to the public C ABI for the nvmsgbroker branch of the
 * deepstream backend, written to be moved verbatim into include/dskafka.h (after
 * dsx_pipeline_set_path). Until then the shim's sources include this header.
 *
 * With the branch, the pipeline itself publishes the analytics messages:
 *
 *   nvdsanalytics ─(probe: counts → message)─► tee ─► queue ─► fakesink
 *                                                └──► queue ─► [nvmsgconv] ─► nvmsgbroker
 *
 * The probe aggregates each stream's counts per device exactly as the TypeScript side
 * does (same emission policy, lc_curr since the device's previous message) and attaches
 * the finished JSON, byte-identical to what the TypeScript Kafka sink would send, to the
 * frame: as NVDS_PAYLOAD_META, which nvmsgbroker sends as is, or, with
 * DSX_MSGBROKER_CUSTOM_BLOB, as NVDS_CUSTOM_MSG_BLOB for nvmsgconv's msg2p-newapi, which
 * puts it in the "customMessage" array of its own message. Each message also gets an
 * NVDS_EVENT_MSG_META with sensorStr = the device id. Frame records still reach
 * dsx_pipeline_poll as without the branch.
 */
#ifndef DSX_MSGBROKER_H
#define DSX_MSGBROKER_H

#include <stdint.h>

#include "dskafka.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Emission policies of dsx_pipeline_set_emit, the rules of the command line's --emit. */
enum {
  DSX_EMIT_FRAMES = 0,   /* value N >= 1: frames whose 1-based number is a multiple of N */
  DSX_EMIT_INTERVAL = 1, /* value T >= 1: once T ms of stream time passed since the last message */
  DSX_EMIT_CHANGE = 2,   /* value unused: when cumulative, ROI, overcrowding or object counts change */
};

/* Flags of dsx_pipeline_set_msgbroker. */
enum {
  /* Attach each message as NVDS_CUSTOM_MSG_BLOB and put nvmsgconv (msg2p-newapi,
   * payload-type 1, frame-interval N) before nvmsgbroker, instead of attaching
   * NVDS_PAYLOAD_META. nvmsgconv emits on frames whose 0-based nvstreammux frame_num is
   * a multiple of N, so the blob follows that schedule; needs DSX_EMIT_FRAMES. */
  DSX_MSGBROKER_CUSTOM_BLOB = 1u << 0,
};

/* Adds the nvmsgbroker branch to a deepstream pipeline. `proto_lib` is the protocol
 * adapter library (e.g. libnvds_kafka_proto.so, an absolute path); `conn_str`
 * ("host;port"), `topic`, `broker_config` (nvmsgbroker's config file, e.g.
 * configs/cfg_kafka.txt) and `msgconv_config` (nvmsgconv's config file, blob mode only)
 * may be NULL. nvmsgbroker needs `conn_str` or `broker_config`. `flags` is a set of
 * DSX_MSGBROKER_* bits. The texts are copied (transfer none); whether the files exist is
 * checked by dsx_pipeline_start, whose error then names the missing path. Every stream
 * needs a device id (dsx_pipeline_set_device) before start.
 * Returns DSX_OK; DSX_ERR_INVALID_ARGUMENT for another backend, a NULL or empty
 * `proto_lib`, or unknown flags; DSX_ERR_UNAVAILABLE when the library was built without
 * the DeepStream SDK. Before start; control thread. */
DSX_API int32_t dsx_pipeline_set_msgbroker(dsx_pipeline *pipeline, const char *proto_lib,
                                           const char *conn_str, const char *topic,
                                           const char *broker_config, const char *msgconv_config,
                                           uint32_t flags);

/* Sets the device id (deviceId of the messages, sensorStr of NvDsEventMsgMeta, and the
 * Kafka key through the adapter's partition-key) and the session key (input of the
 * stable messageid, as the TypeScript side derives it) of stream `stream_id`, which
 * dsx_pipeline_add_source returned. `device_id` is non-empty UTF-8; `session_key` may be
 * empty. Both are copied. Returns DSX_OK or DSX_ERR_INVALID_ARGUMENT (unknown stream,
 * empty device id, another backend); DSX_ERR_UNAVAILABLE without the SDK. Before start;
 * control thread. */
DSX_API int32_t dsx_pipeline_set_device(dsx_pipeline *pipeline, uint32_t stream_id,
                                        const char *device_id, const char *session_key);

/* Sets the emission policy of the nvmsgbroker branch (default DSX_EMIT_FRAMES, 30).
 * Returns DSX_OK or DSX_ERR_INVALID_ARGUMENT (unknown kind, value 0 for frames or
 * interval, another backend); DSX_ERR_UNAVAILABLE without the SDK. Before start;
 * control thread. */
DSX_API int32_t dsx_pipeline_set_emit(dsx_pipeline *pipeline, uint32_t kind, uint64_t value);

#ifdef __cplusplus
}
#endif

#endif /* DSX_MSGBROKER_H */
