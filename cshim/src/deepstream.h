/*
 * deepstream.h — state shared by the two SDK-only sources of the deepstream backend:
 * backend_deepstream.cpp (pipeline, pad probe, frame records) and event_message.cpp
 * (the nvmsgbroker branch and the metadata it attaches). C++17; compiled only where
 * the DeepStream SDK headers are found.
 *
 * Ownership: a deepstream pipeline's dsx_pipeline.backend_data is a dsx_deepstream,
 * created by the first option setter or by start (dsx_deepstream_of) and freed by the
 * backend's free operation.
 *
 * Threads: `options` is written on the control thread before start and only read
 * afterwards. `branch` is created at start, before the pipeline plays, and then used by
 * the pad probe's streaming thread only.
 */
#ifndef DSX_DEEPSTREAM_H
#define DSX_DEEPSTREAM_H

#include <gst/gst.h>

#include <string>
#include <vector>

#include "device_counts.h"
#include "internal.h"
#include "dskafka.h"
#include "nvdsmeta.h"

/* Options of the nvmsgbroker branch (dsx_pipeline_set_msgbroker, _set_device and
 * _set_emit). An empty string means "not set". */
struct dsx_msgbroker_options {
  bool enabled = false;
  std::string proto_lib;
  std::string conn_str;
  std::string topic;
  std::string broker_config;
  std::string msgconv_config;
  uint32_t flags = 0; /* DSX_MSGBROKER_* */
  uint32_t emit_kind = DSX_EMIT_FRAMES;
  uint64_t emit_value = 30; /* nvmsgconv's default frame-interval */

  /* Indexed by stream id; a stream without a device id has an empty entry. */
  std::vector<std::string> device_ids;
  std::vector<std::string> session_keys;
};

/* Running state of the branch, defined in event_message.cpp. */
struct dsx_msgbroker_branch;
/* Running state of the pipeline, defined in backend_deepstream.cpp. */
struct dsx_ds_runtime;

struct dsx_deepstream {
  dsx_msgbroker_options options;
  dsx_msgbroker_branch *branch = nullptr;

  /* Owned by backend_deepstream.cpp: the GstPipeline, its bus watch and the probe's
   * scratch state. */
  dsx_ds_runtime *runtime = nullptr;
};

/* Returns the pipeline's backend state, creating it when `create` is true and it does
 * not exist yet (NULL otherwise). Only for pipelines of the deepstream backend. Control
 * thread. */
dsx_deepstream *dsx_deepstream_of(dsx_pipeline *pipeline, bool create);

/* Checks the branch's options before start: the files exist, the elements are
 * installed, every stream has a device id, the policy suits the mode. Returns DSX_OK
 * (also when the branch is off) or a negative status with the pipeline's last error
 * set. Control thread. */
int32_t dsx_msgbroker_check(dsx_pipeline *pipeline, dsx_deepstream *state);

/* Links the end of the pipeline after `analytics`, inside `bin`:
 *   without the branch:  analytics ► fakesink
 *   with the branch:     analytics ► tee ► queue ► fakesink
 *                                     └──► queue ► [nvmsgconv] ► nvmsgbroker
 * and creates the per-device aggregators. `sink` (transfer floating) is the fakesink,
 * already configured. Returns DSX_OK or a negative status with the last error set.
 * Control thread. */
int32_t dsx_msgbroker_build(dsx_pipeline *pipeline, dsx_deepstream *state, GstBin *bin,
                            GstElement *analytics, GstElement *sink);

/* Adds one frame's counts (those written to its frame record) to its device and, when
 * a message is due, attaches NVDS_EVENT_MSG_META and the message (NVDS_PAYLOAD_META or
 * NVDS_CUSTOM_MSG_BLOB) to `frame`. Copies and returns; never blocks on I/O. A no-op
 * when the branch is off. Pad probe's streaming thread. */
void dsx_msgbroker_on_frame(dsx_deepstream *state, NvDsBatchMeta *batch, NvDsFrameMeta *frame,
                            uint32_t stream_id, uint64_t frame_number, uint64_t pts_ns,
                            const dsx_frame_counts *counts);

/* Frees the branch's running state. Control thread, after the pipeline stopped. */
void dsx_msgbroker_release(dsx_deepstream *state);

#endif /* DSX_DEEPSTREAM_H */
