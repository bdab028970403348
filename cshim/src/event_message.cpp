/*
 * event_message.cpp — the nvmsgbroker branch of the deepstream backend. It contains the
 * branch's options (dsx_pipeline_set_msgbroker, _set_device and _set_emit of
 * dskafka.h), its tee ► queue ► [nvmsgconv] ► nvmsgbroker elements, and the metadata
 * that carries each message to nvmsgbroker without any change to NVIDIA's structs:
 *
 *   - NVDS_EVENT_MSG_META: an NvDsEventMsgMeta with sensorStr = the device id, ts = the
 *     message time (ISO 8601, UTC, milliseconds), frameId, sensorId = the stream id;
 *   - the message itself, the JSON that payload_json.c writes (byte-identical to the
 *     TypeScript sink's), either as NVDS_PAYLOAD_META (an NvDsPayload, which
 *     nvmsgbroker sends as it is) or, in blob mode, as NVDS_CUSTOM_MSG_BLOB (an
 *     NvDsCustomMsgInfo, which nvmsgconv's msg2p-newapi adds to the "customMessage"
 *     array of its own message).
 *
 * Both are frame-level user metas, where nvmsgbroker and nvmsgconv look for them since
 * DeepStream 6.0, attached under the batch's meta lock as nvdsanalytics attaches its
 * own. Each has copy and release functions, so that the SDK can copy or free them with
 * the buffer's metadata.
 *
 * Threads: the option setters, dsx_msgbroker_check, _build and _release run on the
 * control thread; dsx_msgbroker_on_frame runs on the pad probe's streaming thread and
 * owns the branch's aggregators and message buffer.
 */
#include <gst/gst.h>
#include <limits.h>
#include <string.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "deepstream.h"
#include "device_counts.h"
#include "gstnvdsmeta.h"
#include "dskafka.h"
#include "nvdsmeta_schema.h"
#include "payload_json.h"

GST_DEBUG_CATEGORY_STATIC(dsx_msgbroker_debug);
#define GST_CAT_DEFAULT dsx_msgbroker_debug

#ifndef DSX_DEEPSTREAM_DIR
#define DSX_DEEPSTREAM_DIR "/opt/nvidia/deepstream/deepstream"
#endif

struct dsx_msgbroker_branch {
  std::vector<dsx_device_counts *> counts; /* by stream id */
  GString *message = nullptr;
  bool blob = false;
  uint64_t frame_interval = 0; /* blob mode: nvmsgconv's frame-interval */
  uint64_t attach_failures = 0;
};

namespace {

/* NVDS_CUSTOM_MSG_BLOB is an enumerator of NvDsMetaType in recent SDKs only; the
 * specialization exists where it does. */
template <typename MetaType, typename = void>
struct custom_blob_meta {
  static constexpr bool available = false;
  static NvDsMetaType type() { return NVDS_INVALID_META; }
};

template <typename MetaType>
struct custom_blob_meta<MetaType, std::void_t<decltype(MetaType::NVDS_CUSTOM_MSG_BLOB)>> {
  static constexpr bool available = true;
  static NvDsMetaType type() { return MetaType::NVDS_CUSTOM_MSG_BLOB; }
};

using blob_meta = custom_blob_meta<NvDsMetaType>;

/* The layout of NvDsCustomMsgInfo (nvdsmeta_schema.h), which older headers lack: the
 * message bytes and their count. nvmsgconv reads it as that struct. */
struct custom_message {
  void *message;
  guint size;
};

void init_debug() {
  static gsize initialized = 0;
  if (g_once_init_enter(&initialized)) {
    GST_DEBUG_CATEGORY_INIT(dsx_msgbroker_debug, "dsx-msgbroker", 0,
                            "dskafka nvmsgbroker branch of the deepstream backend");
    g_once_init_leave(&initialized, 1);
  }
}

bool is_regular_file(const std::string &path) {
  return !path.empty() && g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR);
}

bool factory_exists(const char *name) {
  GstElementFactory *factory = gst_element_factory_find(name);
  if (factory == nullptr) return false;
  gst_object_unref(factory);
  return true;
}

/* ---------------------------------------------------------------------------------
 * Options (control thread)
 * --------------------------------------------------------------------------------- */

/* Checks that `pipeline` may take branch options now, and returns its backend state. */
int32_t options_of(dsx_pipeline *pipeline, const char *function, dsx_deepstream **state) {
  init_debug();
  if (pipeline == nullptr) return DSX_ERR_INVALID_ARGUMENT;

  if (pipeline->state != DSX_STATE_CONFIGURING) {
    dsx_set_error(pipeline, "%s: the pipeline has already been started", function);
    return DSX_ERR_INVALID_STATE;
  }
  if (pipeline->backend != DSX_BACKEND_DEEPSTREAM) {
    dsx_set_error(pipeline,
                  "%s: the nvmsgbroker branch belongs to the deepstream backend, and this "
                  "pipeline uses another one",
                  function);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  /* NOTE: pipeline.c frees backend state only for pipelines that were started, so the
   * options of a pipeline freed before start are not freed. */
  *state = dsx_deepstream_of(pipeline, true);
  return DSX_OK;
}

const char *text_or_empty(const char *text) { return text != nullptr ? text : ""; }

int32_t set_msgbroker(dsx_pipeline *pipeline, const char *proto_lib, const char *conn_str,
                      const char *topic, const char *broker_config, const char *msgconv_config,
                      uint32_t flags) noexcept {
  dsx_deepstream *state = nullptr;
  int32_t status = options_of(pipeline, "dsx_pipeline_set_msgbroker", &state);
  if (status != DSX_OK) return status;

  if (proto_lib == nullptr || proto_lib[0] == '\0') {
    dsx_set_error(pipeline,
                  "dsx_pipeline_set_msgbroker: the protocol adapter library is empty: pass its "
                  "path, e.g. " DSX_DEEPSTREAM_DIR "/lib/libnvds_kafka_proto.so");
    return DSX_ERR_INVALID_ARGUMENT;
  }
  if ((flags & ~static_cast<uint32_t>(DSX_MSGBROKER_CUSTOM_BLOB)) != 0) {
    dsx_set_error(pipeline, "dsx_pipeline_set_msgbroker: unknown flags 0x%x", flags);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  dsx_msgbroker_options &options = state->options;
  options.enabled = true;
  options.proto_lib = proto_lib;
  options.conn_str = text_or_empty(conn_str);
  options.topic = text_or_empty(topic);
  options.broker_config = text_or_empty(broker_config);
  options.msgconv_config = text_or_empty(msgconv_config);
  options.flags = flags;
  return DSX_OK;
}

int32_t set_device(dsx_pipeline *pipeline, uint32_t stream_id, const char *device_id,
                   const char *session_key) noexcept {
  dsx_deepstream *state = nullptr;
  int32_t status = options_of(pipeline, "dsx_pipeline_set_device", &state);
  if (status != DSX_OK) return status;

  if (stream_id >= pipeline->stream_count) {
    dsx_set_error(pipeline, "dsx_pipeline_set_device: stream %u does not exist (%u sources added)",
                  stream_id, pipeline->stream_count);
    return DSX_ERR_INVALID_ARGUMENT;
  }
  if (device_id == nullptr || device_id[0] == '\0' || !g_utf8_validate(device_id, -1, nullptr)) {
    dsx_set_error(pipeline, "dsx_pipeline_set_device: the device id of stream %u is empty or "
                  "not valid UTF-8", stream_id);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  dsx_msgbroker_options &options = state->options;
  options.device_ids.resize(pipeline->stream_count);
  options.session_keys.resize(pipeline->stream_count);
  options.device_ids[stream_id] = device_id;
  options.session_keys[stream_id] = text_or_empty(session_key);
  return DSX_OK;
}

int32_t set_emit(dsx_pipeline *pipeline, uint32_t kind, uint64_t value) noexcept {
  dsx_deepstream *state = nullptr;
  int32_t status = options_of(pipeline, "dsx_pipeline_set_emit", &state);
  if (status != DSX_OK) return status;

  bool known = kind == DSX_EMIT_FRAMES || kind == DSX_EMIT_INTERVAL || kind == DSX_EMIT_CHANGE;
  if (!known || (kind != DSX_EMIT_CHANGE && value == 0)) {
    dsx_set_error(pipeline,
                  "dsx_pipeline_set_emit: policy %u with value %llu is invalid: use "
                  "DSX_EMIT_FRAMES or DSX_EMIT_INTERVAL with a value >= 1, or DSX_EMIT_CHANGE",
                  kind, static_cast<unsigned long long>(value));
    return DSX_ERR_INVALID_ARGUMENT;
  }

  state->options.emit_kind = kind;
  state->options.emit_value = value;
  return DSX_OK;
}

/* ---------------------------------------------------------------------------------
 * Metadata (pad probe's streaming thread, and the SDK's metadata copies)
 * --------------------------------------------------------------------------------- */

gpointer copy_event_meta(gpointer data, gpointer user_data) noexcept {
  auto *user_meta = static_cast<NvDsUserMeta *>(data);
  auto *source = static_cast<const NvDsEventMsgMeta *>(user_meta->user_meta_data);

  auto *copy = g_new(NvDsEventMsgMeta, 1);
  memcpy(copy, source, sizeof *copy);
  copy->ts = g_strdup(source->ts);
  copy->sensorStr = g_strdup(source->sensorStr);
  return copy;
}

void release_event_meta(gpointer data, gpointer user_data) noexcept {
  auto *user_meta = static_cast<NvDsUserMeta *>(data);
  auto *meta = static_cast<NvDsEventMsgMeta *>(user_meta->user_meta_data);
  if (meta != nullptr) {
    g_free(meta->ts);
    g_free(meta->sensorStr);
    g_free(meta);
  }
  user_meta->user_meta_data = nullptr;
}

/* Returns (transfer full) `length` bytes of `text` and a terminating NUL, which no
 * reader needs but which keeps the bytes printable in a debugger. */
gpointer copy_bytes(const void *text, size_t length) {
  auto *bytes = static_cast<char *>(g_malloc(length + 1));
  memcpy(bytes, text, length);
  bytes[length] = '\0';
  return bytes;
}

gpointer copy_payload_meta(gpointer data, gpointer user_data) noexcept {
  auto *user_meta = static_cast<NvDsUserMeta *>(data);
  auto *source = static_cast<const NvDsPayload *>(user_meta->user_meta_data);

  auto *copy = g_new0(NvDsPayload, 1);
  copy->payload = copy_bytes(source->payload, source->payloadSize);
  copy->payloadSize = source->payloadSize;
  copy->componentId = source->componentId;
  return copy;
}

void release_payload_meta(gpointer data, gpointer user_data) noexcept {
  auto *user_meta = static_cast<NvDsUserMeta *>(data);
  auto *payload = static_cast<NvDsPayload *>(user_meta->user_meta_data);
  if (payload != nullptr) {
    g_free(payload->payload);
    g_free(payload);
  }
  user_meta->user_meta_data = nullptr;
}

gpointer copy_blob_meta(gpointer data, gpointer user_data) noexcept {
  auto *user_meta = static_cast<NvDsUserMeta *>(data);
  auto *source = static_cast<const custom_message *>(user_meta->user_meta_data);

  auto *copy = g_new0(custom_message, 1);
  copy->message = copy_bytes(source->message, source->size);
  copy->size = source->size;
  return copy;
}

void release_blob_meta(gpointer data, gpointer user_data) noexcept {
  auto *user_meta = static_cast<NvDsUserMeta *>(data);
  auto *blob = static_cast<custom_message *>(user_meta->user_meta_data);
  if (blob != nullptr) {
    g_free(blob->message);
    g_free(blob);
  }
  user_meta->user_meta_data = nullptr;
}

NvDsEventMsgMeta *new_event_meta(const std::string &device_id, uint32_t stream_id,
                                 uint64_t frame_number, int64_t timestamp_ms) {
  char timestamp[DSX_ISO_TIMESTAMP_BYTES] = "";
  if (!dsx_iso_timestamp(timestamp_ms, timestamp)) timestamp[0] = '\0';

  auto *meta = g_new0(NvDsEventMsgMeta, 1);
  meta->type = NVDS_EVENT_CUSTOM;
  meta->objType = NVDS_OBJECT_TYPE_CUSTOM;
  meta->objClassId = -1;
  meta->sensorId = static_cast<gint>(stream_id);
  meta->frameId = frame_number > static_cast<uint64_t>(INT_MAX) ? INT_MAX
                                                                : static_cast<gint>(frame_number);
  meta->ts = g_strdup(timestamp);
  meta->sensorStr = g_strdup(device_id.c_str());
  return meta;
}

/* Acquires a user meta from the batch's pool, fills it and adds it to `frame`. Returns
 * false, leaving `data` to the caller, when the pool has none. Meta lock held. */
bool add_frame_meta(NvDsBatchMeta *batch, NvDsFrameMeta *frame, NvDsMetaType type, gpointer data,
                    NvDsMetaCopyFunc copy, NvDsMetaReleaseFunc release) {
  NvDsUserMeta *user_meta = nvds_acquire_user_meta_from_pool(batch);
  if (user_meta == nullptr) return false;

  user_meta->user_meta_data = data;
  user_meta->base_meta.meta_type = type;
  user_meta->base_meta.copy_func = copy;
  user_meta->base_meta.release_func = release;
  nvds_add_user_meta_to_frame(frame, user_meta);
  return true;
}

/* Attaches the message in branch->message and its NvDsEventMsgMeta to `frame`. */
void attach_message(dsx_msgbroker_branch *branch, NvDsBatchMeta *batch, NvDsFrameMeta *frame,
                    const std::string &device_id, uint32_t stream_id, uint64_t frame_number,
                    int64_t timestamp_ms) {
  const GString *message = branch->message;
  NvDsEventMsgMeta *event = new_event_meta(device_id, stream_id, frame_number, timestamp_ms);

  gpointer carrier = nullptr;
  NvDsMetaType carrier_type = NVDS_PAYLOAD_META;
  NvDsMetaCopyFunc copy = copy_payload_meta;
  NvDsMetaReleaseFunc release = release_payload_meta;
  if (branch->blob) {
    auto *blob = g_new0(custom_message, 1);
    blob->message = copy_bytes(message->str, message->len);
    blob->size = static_cast<guint>(message->len);
    carrier = blob;
    carrier_type = blob_meta::type();
    copy = copy_blob_meta;
    release = release_blob_meta;
  } else {
    auto *payload = g_new0(NvDsPayload, 1);
    payload->payload = copy_bytes(message->str, message->len);
    payload->payloadSize = static_cast<guint>(message->len);
    carrier = payload;
  }

  /* The message goes first: were the pool to run dry, the event meta is the one to lose. */
  nvds_acquire_meta_lock(batch);
  bool carried = add_frame_meta(batch, frame, carrier_type, carrier, copy, release);
  bool described = carried && add_frame_meta(batch, frame, NVDS_EVENT_MSG_META, event,
                                             copy_event_meta, release_event_meta);
  nvds_release_meta_lock(batch);

  if (!carried) {
    NvDsUserMeta holder = {};
    holder.user_meta_data = carrier;
    release(&holder, nullptr);
  }
  if (!described) {
    NvDsUserMeta holder = {};
    holder.user_meta_data = event;
    release_event_meta(&holder, nullptr);
  }
  if (!carried && branch->attach_failures++ == 0) {
    GST_WARNING("stream %u: the batch's user-meta pool is empty: a message was not sent",
                stream_id);
  }
}

/* ---------------------------------------------------------------------------------
 * Elements (control thread)
 * --------------------------------------------------------------------------------- */

GstElement *make_element(dsx_pipeline *owner, const char *factory, const char *name) {
  GstElement *element = gst_element_factory_make(factory, name);
  if (element == nullptr) {
    dsx_set_error(owner, "GStreamer element \"%s\" is not installed or failed to load: check "
                  "the DeepStream installation with gst-inspect-1.0 %s", factory, factory);
  }
  return element;
}

void drop_floating(std::initializer_list<GstElement *> elements) {
  for (GstElement *element : elements) {
    if (element != nullptr) gst_object_unref(gst_object_ref_sink(element));
  }
}

int32_t link_plain_sink(dsx_pipeline *owner, GstBin *bin, GstElement *analytics, GstElement *sink) {
  if (!gst_bin_add(bin, sink)) {
    dsx_set_error(owner, "could not add the fakesink to the pipeline");
    return DSX_ERR_PIPELINE;
  }
  if (!gst_element_link(analytics, sink)) {
    dsx_set_error(owner, "linking nvdsanalytics ! fakesink failed");
    return DSX_ERR_PIPELINE;
  }
  return DSX_OK;
}

/* Sets the properties of nvmsgconv for blob mode; false when this version lacks one. */
bool configure_msgconv(dsx_pipeline *owner, GstElement *msgconv,
                       const dsx_msgbroker_options &options) {
  for (const char *property : {"msg2p-newapi", "frame-interval", "payload-type"}) {
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(msgconv), property) == nullptr) {
      dsx_set_error(owner, "nvmsgconv of this DeepStream version has no \"%s\" property, "
                    "which the custom-blob mode needs: use the default payload mode", property);
      return false;
    }
  }

  /* One payload per frame (the minimal schema), on the frames where the blob is. */
  g_object_set(msgconv, "msg2p-newapi", TRUE, "frame-interval",
               static_cast<guint>(options.emit_value), "payload-type",
               static_cast<gint>(NVDS_PAYLOAD_DEEPSTREAM_MINIMAL), nullptr);
  if (!options.msgconv_config.empty()) {
    g_object_set(msgconv, "config", options.msgconv_config.c_str(), nullptr);
  }
  return true;
}

void configure_broker(GstElement *broker, const dsx_msgbroker_options &options) {
  g_object_set(broker, "proto-lib", options.proto_lib.c_str(), "sync", FALSE, "async", FALSE,
               nullptr);
  if (!options.conn_str.empty()) g_object_set(broker, "conn-str", options.conn_str.c_str(), nullptr);
  if (!options.topic.empty()) g_object_set(broker, "topic", options.topic.c_str(), nullptr);
  if (!options.broker_config.empty()) {
    g_object_set(broker, "config", options.broker_config.c_str(), nullptr);
  }
}

}  // namespace

/* ---------------------------------------------------------------------------------
 * Interface of deepstream.h
 * --------------------------------------------------------------------------------- */

int32_t dsx_msgbroker_check(dsx_pipeline *pipeline, dsx_deepstream *state) {
  init_debug();
  const dsx_msgbroker_options &options = state->options;
  if (!options.enabled) return DSX_OK;
  bool blob = (options.flags & DSX_MSGBROKER_CUSTOM_BLOB) != 0;

  if (!is_regular_file(options.proto_lib)) {
    dsx_set_error(pipeline,
                  "nvmsgbroker protocol adapter library \"%s\" not found: pass the path of an "
                  "existing adapter, e.g. " DSX_DEEPSTREAM_DIR "/lib/libnvds_kafka_proto.so",
                  options.proto_lib.c_str());
    return DSX_ERR_INVALID_ARGUMENT;
  }
  if (options.conn_str.empty() && options.broker_config.empty()) {
    dsx_set_error(pipeline, "nvmsgbroker needs a connection string (host;port) or a config file "
                  "that names the broker");
    return DSX_ERR_INVALID_ARGUMENT;
  }
  /* Without a topic, nvmsgbroker takes whatever follows the last ';' of the connection
   * string as the topic: the port, for "host;port". */
  size_t separators = static_cast<size_t>(
      std::count(options.conn_str.begin(), options.conn_str.end(), ';'));
  if (options.topic.empty() && separators < 2) {
    dsx_set_error(pipeline, "nvmsgbroker needs a topic: pass one, or a connection string "
                  "host;port;topic");
    return DSX_ERR_INVALID_ARGUMENT;
  }

  const std::pair<const std::string *, const char *> files[] = {
      {&options.broker_config, "nvmsgbroker config"},
      {&options.msgconv_config, "nvmsgconv config"},
  };
  for (const auto &[path, what] : files) {
    if (!path->empty() && !is_regular_file(*path)) {
      dsx_set_error(pipeline, "%s \"%s\" not found", what, path->c_str());
      return DSX_ERR_INVALID_ARGUMENT;
    }
  }

  if (blob && !blob_meta::available) {
    dsx_set_error(pipeline, "this DeepStream SDK has no NVDS_CUSTOM_MSG_BLOB metadata: use the "
                  "default payload mode");
    return DSX_ERR_UNAVAILABLE;
  }
  if (blob && options.emit_kind != DSX_EMIT_FRAMES) {
    dsx_set_error(pipeline, "the custom-blob mode needs the emission policy frames:N, because "
                  "nvmsgconv emits on its frame-interval");
    return DSX_ERR_INVALID_ARGUMENT;
  }
  for (const char *factory : {"nvmsgbroker", blob ? "nvmsgconv" : nullptr}) {
    if (factory != nullptr && !factory_exists(factory)) {
      dsx_set_error(pipeline, "GStreamer element \"%s\" is not installed or failed to load: "
                    "check the DeepStream installation with gst-inspect-1.0 %s", factory, factory);
      return DSX_ERR_UNAVAILABLE;
    }
  }

  for (uint32_t i = 0; i < pipeline->stream_count; i++) {
    if (i >= options.device_ids.size() || options.device_ids[i].empty()) {
      dsx_set_error(pipeline, "stream %u has no device id, which the nvmsgbroker branch needs: "
                    "call dsx_pipeline_set_device", i);
      return DSX_ERR_INVALID_ARGUMENT;
    }
  }
  return DSX_OK;
}

/*
 * Builds the end of the pipeline after nvdsanalytics:
 *
 *   analytics ► sink                                   (branch off)
 *
 *   analytics ► split (tee) ► records-queue ► sink     (branch on)
 *                     └────► broker-queue ► [msgconv (nvmsgconv), blob mode]
 *                                         ► broker (nvmsgbroker)
 *
 * broker-queue is not leaky: a slow broker slows the pipeline instead of losing messages.
 */
int32_t dsx_msgbroker_build(dsx_pipeline *pipeline, dsx_deepstream *state, GstBin *bin,
                            GstElement *analytics, GstElement *sink) {
  init_debug();
  const dsx_msgbroker_options &options = state->options;
  if (!options.enabled) return link_plain_sink(pipeline, bin, analytics, sink);
  bool blob = (options.flags & DSX_MSGBROKER_CUSTOM_BLOB) != 0;

  GstElement *tee = make_element(pipeline, "tee", "split");
  GstElement *records_queue = make_element(pipeline, "queue", "records-queue");
  GstElement *broker_queue = make_element(pipeline, "queue", "broker-queue");
  GstElement *msgconv = blob ? make_element(pipeline, "nvmsgconv", "msgconv") : nullptr;
  GstElement *broker = make_element(pipeline, "nvmsgbroker", "broker");
  if (!tee || !records_queue || !broker_queue || (blob && !msgconv) || !broker ||
      (blob && !configure_msgconv(pipeline, msgconv, options))) {
    drop_floating({tee, records_queue, broker_queue, msgconv, broker, sink});
    return DSX_ERR_UNAVAILABLE;
  }
  configure_broker(broker, options);

  gst_bin_add_many(bin, tee, records_queue, sink, broker_queue, broker, nullptr);
  if (msgconv != nullptr) gst_bin_add(bin, msgconv);

  bool linked = gst_element_link(analytics, tee) &&
                gst_element_link_many(tee, records_queue, sink, nullptr) &&
                gst_element_link(tee, broker_queue);
  if (linked && msgconv != nullptr) {
    linked = gst_element_link_many(broker_queue, msgconv, broker, nullptr);
  } else if (linked) {
    linked = gst_element_link(broker_queue, broker);
  }
  if (!linked) {
    dsx_set_error(pipeline, "linking the nvmsgbroker branch (tee, queues%s, nvmsgbroker) failed",
                  blob ? ", nvmsgconv" : "");
    return DSX_ERR_PIPELINE;
  }

  auto *branch = new dsx_msgbroker_branch();
  state->branch = branch;
  branch->blob = blob;
  branch->frame_interval = options.emit_value;
  branch->message = g_string_sized_new(1024);
  for (uint32_t i = 0; i < pipeline->stream_count; i++) {
    branch->counts.push_back(dsx_device_counts_new(options.device_ids[i].c_str(),
                                                   options.session_keys[i].c_str(), i,
                                                   options.emit_kind, options.emit_value));
  }
  GST_INFO("nvmsgbroker branch: %s via %s, topic \"%s\"",
           blob ? "NVDS_CUSTOM_MSG_BLOB through nvmsgconv" : "NVDS_PAYLOAD_META",
           options.proto_lib.c_str(), options.topic.c_str());
  return DSX_OK;
}

void dsx_msgbroker_on_frame(dsx_deepstream *state, NvDsBatchMeta *batch, NvDsFrameMeta *frame,
                            uint32_t stream_id, uint64_t frame_number, uint64_t pts_ns,
                            const dsx_frame_counts *counts) {
  dsx_msgbroker_branch *branch = state->branch;
  if (branch == nullptr || stream_id >= branch->counts.size()) return;
  dsx_device_counts *device = branch->counts[stream_id];

  bool due = dsx_device_counts_add(device, frame_number, pts_ns, counts);
  if (branch->blob) {
    /* nvmsgconv makes a message on the frames whose 0-based frame_num is a multiple of
     * its frame-interval; the blob must be on exactly those. */
    due = frame->frame_num >= 0 &&
          static_cast<uint64_t>(frame->frame_num) % branch->frame_interval == 0;
  }
  if (!due) return;

  int64_t timestamp_ms = g_get_real_time() / 1000;
  g_string_truncate(branch->message, 0);
  if (!dsx_device_counts_emit(device, timestamp_ms, branch->message)) {
    GST_WARNING("stream %u: the message of frame %" G_GUINT64_FORMAT " could not be written",
                stream_id, frame_number);
    return;
  }

  attach_message(branch, batch, frame, state->options.device_ids[stream_id], stream_id,
                 frame_number, timestamp_ms);
  GST_LOG("stream %u: message for frame %" G_GUINT64_FORMAT " attached (%zu bytes)", stream_id,
          frame_number, branch->message->len);
}

void dsx_msgbroker_release(dsx_deepstream *state) {
  dsx_msgbroker_branch *branch = state->branch;
  if (branch == nullptr) return;

  for (dsx_device_counts *counts : branch->counts) dsx_device_counts_free(counts);
  if (branch->message != nullptr) g_string_free(branch->message, TRUE);
  delete branch;
  state->branch = nullptr;
}

/* ---------------------------------------------------------------------------------
 * Public functions (the nvmsgbroker section of dskafka.h)
 * --------------------------------------------------------------------------------- */

extern "C" {

int32_t dsx_pipeline_set_msgbroker(dsx_pipeline *pipeline, const char *proto_lib,
                                   const char *conn_str, const char *topic,
                                   const char *broker_config, const char *msgconv_config,
                                   uint32_t flags) {
  return set_msgbroker(pipeline, proto_lib, conn_str, topic, broker_config, msgconv_config, flags);
}

int32_t dsx_pipeline_set_device(dsx_pipeline *pipeline, uint32_t stream_id,
                                const char *device_id, const char *session_key) {
  return set_device(pipeline, stream_id, device_id, session_key);
}

int32_t dsx_pipeline_set_emit(dsx_pipeline *pipeline, uint32_t kind, uint64_t value) {
  return set_emit(pipeline, kind, value);
}

}  // extern "C"
