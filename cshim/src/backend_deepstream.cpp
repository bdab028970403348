/*
 * backend_deepstream.cpp — the deepstream backend: detection, tracking and analytics on
 * the GPU with NVIDIA's GStreamer plugins, and a pad probe that copies each frame's
 * objects and nvdsanalytics results into frame records.
 *
 * All sources share one GstPipeline, because nvstreammux batches their frames:
 *
 *   nvurisrcbin (or uridecodebin) per source ─► nvstreammux ─► nvinfer ─► nvtracker
 *     ─► nvdsanalytics ─(pad probe)─► fakesink, or the nvmsgbroker branch (deepstream.h)
 *
 * Threads:
 *   - control thread: start, stop, free, and the option setters of event_message.cpp;
 *   - a source's streaming thread runs on_source_pad_added, which only links pads;
 *   - nvdsanalytics' output streaming thread runs the pad probe: it owns the label table,
 *     the scratch record and every per-stream counter marked "probe thread" below, and
 *     pushes records (it may block on a full ring, as the overflow policy decides);
 *   - the pipeline's bus thread runs on_bus_message: errors and warnings become events.
 *
 * Labels (line, ROI and overcrowding names, direction and status texts) are interned
 * once per pipeline: each distinct text gets an id, and a DSX_RECORD_LABEL goes into a
 * stream's ring before the first frame of that stream that uses the id. A label record
 * thus always precedes its first use within the same ring, whatever order poll reads the
 * rings in.
 *
 * SDK differences are settled at compile time: how the nvdsanalytics user-meta types are
 * found (a name lookup up to DeepStream 7.1, enumerators of NvDsMetaType from 8.0) and
 * whether NvDsAnalyticsObjInfo has objStatus are detected with SFINAE on the headers.
 *
 * C++ exceptions: only std::bad_alloc can be thrown here. Every function that C or
 * GStreamer calls is noexcept, so memory exhaustion terminates the process, as GLib's
 * allocator does.
 */
#include <gst/gst.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "deepstream.h"
#include "gst-nvevent.h"
#include "gstnvdsmeta.h"
#include "nvds_analytics_meta.h"
#include "nvds_version.h"
#include "payload_json.h"

GST_DEBUG_CATEGORY_STATIC(dsx_deepstream_debug);
#define GST_CAT_DEFAULT dsx_deepstream_debug

#ifndef DSX_DEEPSTREAM_DIR
#define DSX_DEEPSTREAM_DIR "/opt/nvidia/deepstream/deepstream"
#endif

namespace {

constexpr uint32_t DEFAULT_WIDTH = 1920;
constexpr uint32_t DEFAULT_HEIGHT = 1080;
/* How long nvstreammux waits for a full batch before pushing a partial one: one frame
 * at 25 fps, the value of NVIDIA's sample applications. */
constexpr gint BATCHED_PUSH_TIMEOUT_US = 40000;
/* Longer texts are cut: a label record must stay far below the ring's capacity. */
constexpr size_t MAX_LABEL_BYTES = 4096;
/* Distinct texts per pipeline. objStatus texts combine the config's labels, so their
 * number is finite in practice, and this bound keeps the table finite in any case. */
constexpr size_t MAX_LABELS = 65536;
constexpr size_t SECTION_KINDS = 10; /* DSX_SECTION_LC_CURRENT … OBJECT_STATUS_TEXT */
constexpr size_t FRAME_SECTION_KINDS = 5; /* … OBJECT_COUNT: written even when empty */
constexpr size_t LABEL_FIXED_BYTES = 16;
constexpr const char *DEFAULT_TRACKER_LIBRARY =
    DSX_DEEPSTREAM_DIR "/lib/libnvds_nvmultiobjecttracker.so";

/* Elements the backend cannot run without; nvurisrcbin or uridecodebin is the fourth. */
constexpr const char *REQUIRED_ELEMENTS[] = {"nvstreammux", "nvinfer", "nvtracker",
                                             "nvdsanalytics"};

/* ---------------------------------------------------------------------------------
 * SDK differences
 * --------------------------------------------------------------------------------- */

/* The meta types of NvDsAnalyticsFrameMeta and NvDsAnalyticsObjInfo. Up to DeepStream
 * 7.1 nvdsanalytics registers them by name at run time; from 8.0 they are enumerators
 * of NvDsMetaType (NVDS_FRAME_META_NVDSANALYTICS, NVDS_OBJ_META_NVDSANALYTICS). The
 * primary template is the name lookup; the specialization exists when the enumerator
 * does. nvds_analytics_meta.h's own NVDS_USER_FRAME_META_NVDSANALYTICS macro expands
 * to the same choice in each version. */
template <typename MetaType, typename = void>
struct analytics_meta_types {
  static constexpr bool by_name = true;
  static NvDsMetaType frame() {
    return nvds_get_user_meta_type(const_cast<gchar *>("NVIDIA.DSANALYTICSFRAME.USER_META"));
  }
  static NvDsMetaType object() {
    return nvds_get_user_meta_type(const_cast<gchar *>("NVIDIA.DSANALYTICSOBJ.USER_META"));
  }
};

template <typename MetaType>
struct analytics_meta_types<MetaType, std::void_t<decltype(MetaType::NVDS_FRAME_META_NVDSANALYTICS)>> {
  static constexpr bool by_name = false;
  static NvDsMetaType frame() { return MetaType::NVDS_FRAME_META_NVDSANALYTICS; }
  static NvDsMetaType object() { return MetaType::NVDS_OBJ_META_NVDSANALYTICS; }
};

using analytics_types = analytics_meta_types<NvDsMetaType>;

/* NvDsAnalyticsObjInfo::objStatus, where the header has it (NULL otherwise). */
template <typename Info, typename = void>
struct object_status {
  static const std::string *of(const Info &) { return nullptr; }
};

template <typename Info>
struct object_status<Info, std::void_t<decltype(std::declval<const Info &>().objStatus)>> {
  static const std::string *of(const Info &info) { return &info.objStatus; }
};

/* ---------------------------------------------------------------------------------
 * State
 * --------------------------------------------------------------------------------- */

struct section_entry {
  uint32_t a;
  uint32_t b;
  uint64_t value;
};

struct ds_stream {
  dsx_pipeline *owner = nullptr;
  dsx_stream *stream = nullptr;
  dsx_ds_runtime *runtime = nullptr;
  GstElement *source = nullptr; /* owned by the pipeline; NULL when the input failed early */
  GstPad *mux_pad = nullptr;    /* the requested nvstreammux sink pad (a reference) */
  bool uses_decodebin = false;  /* uridecodebin, whose decoder may not output NVMM memory */

  gint video_linked = 0; /* atomic: set by pad-added, read by the probe thread */
  gint finished = 0;     /* atomic: 1 once the stream's EOS or ERROR event was posted */

  /* Probe thread. */
  uint64_t frames = 0;
  guint64 first_pts = 0;
  std::vector<bool> labels_sent; /* by label id: a label record is in this stream's ring */
};

}  // namespace

struct dsx_ds_runtime {
  dsx_pipeline *owner = nullptr;
  GstElement *pipeline = nullptr;
  GstElement *mux = nullptr;
  GSource *bus_watch = nullptr;
  std::vector<ds_stream> streams; /* by stream id; sized once at start, never moved */

  uint32_t width = 0, height = 0;
  bool mux_scales = true; /* nvstreammux scales to width x height (the legacy muxer) */
  NvDsMetaType frame_meta_type = NVDS_INVALID_META;
  NvDsMetaType object_meta_type = NVDS_INVALID_META;

  /* Probe thread. */
  std::unordered_map<std::string, uint32_t> label_ids;
  std::vector<std::string> label_texts;
  std::vector<uint8_t> record;
  std::vector<uint8_t> label_record;
  std::vector<section_entry> sections[SECTION_KINDS];
  std::vector<NvDsObjectMeta *> objects;
  std::vector<uint32_t> labels_to_send;
  dsx_frame_counts counts = {};
  uint64_t entries_left_out = 0;
  uint64_t labels_refused = 0;
};

namespace {

void init_debug() {
  static gsize initialized = 0;
  if (g_once_init_enter(&initialized)) {
    GST_DEBUG_CATEGORY_INIT(dsx_deepstream_debug, "dsx-deepstream", 0, "dskafka deepstream backend");
    g_once_init_leave(&initialized, 1);
  }
}

bool has_property(GstElement *element, const char *name) {
  return g_object_class_find_property(G_OBJECT_GET_CLASS(element), name) != nullptr;
}

/* Sets a property the element may lack in some DeepStream versions (nvstreammux's new
 * implementation has no width, height or live-source); returns whether it was set.
 * `value` must have the property's C type. */
template <typename Value>
bool set_if_present(GstElement *element, const char *name, Value value) {
  if (!has_property(element, name)) {
    GST_INFO_OBJECT(element, "no property \"%s\" in this DeepStream version: left as is", name);
    return false;
  }
  g_object_set(element, name, value, nullptr);
  return true;
}

bool factory_exists(const char *name) {
  GstElementFactory *factory = gst_element_factory_find(name);
  if (factory == nullptr) return false;
  gst_object_unref(factory);
  return true;
}

bool is_regular_file(const char *path) {
  return path != nullptr && g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

/* Posts the stream's final event (STREAM_EOS, or ERROR with `code` and `text`) unless
 * one was posted already; returns whether this call posted it. Any thread. */
bool finish_stream(ds_stream &ds, uint32_t kind, uint32_t code, const char *text) {
  if (!g_atomic_int_compare_and_exchange(&ds.finished, 0, 1)) return false;
  dsx_post_event(ds.owner, static_cast<int32_t>(ds.stream->id), kind, code, text);
  return true;
}

/* ---------------------------------------------------------------------------------
 * Pad probe: frame records
 * --------------------------------------------------------------------------------- */

/* Returns the id of `text`, interning it on first use; false when the table is full. */
bool intern_label(dsx_ds_runtime *runtime, const std::string &text, uint32_t *id) {
  const std::string *key = &text;
  std::string cut;
  if (text.size() > MAX_LABEL_BYTES) {
    cut = text.substr(0, MAX_LABEL_BYTES);
    key = &cut;
  }

  auto found = runtime->label_ids.find(*key);
  if (found != runtime->label_ids.end()) {
    *id = found->second;
    return true;
  }
  if (runtime->label_texts.size() >= MAX_LABELS) {
    if (runtime->labels_refused++ == 0) {
      GST_WARNING("more than %zu distinct labels: entries with new texts are left out", MAX_LABELS);
    }
    return false;
  }

  *id = static_cast<uint32_t>(runtime->label_texts.size());
  runtime->label_texts.push_back(*key);
  runtime->label_ids.emplace(*key, *id);
  return true;
}

/* Adds an entry whose label (a for frame sections, b for object sections) is `text`. */
void add_labelled(dsx_ds_runtime *runtime, uint16_t tag, uint32_t object_index,
                  const std::string &text, uint64_t value) {
  uint32_t id = 0;
  if (!intern_label(runtime, text, &id)) return;

  bool object_section = tag >= DSX_SECTION_OBJECT_ROI;
  section_entry entry = {object_section ? object_index : id, object_section ? id : 0u, value};
  runtime->sections[tag - 1].push_back(entry);
}

const NvDsAnalyticsFrameMeta *frame_analytics(const dsx_ds_runtime *runtime,
                                              const NvDsFrameMeta *frame) {
  for (NvDsMetaList *l = frame->frame_user_meta_list; l != nullptr; l = l->next) {
    auto *user_meta = static_cast<NvDsUserMeta *>(l->data);
    if (user_meta != nullptr && user_meta->base_meta.meta_type == runtime->frame_meta_type) {
      return static_cast<const NvDsAnalyticsFrameMeta *>(user_meta->user_meta_data);
    }
  }
  return nullptr;
}

const NvDsAnalyticsObjInfo *object_analytics(const dsx_ds_runtime *runtime,
                                             const NvDsObjectMeta *object) {
  for (NvDsMetaList *l = object->obj_user_meta_list; l != nullptr; l = l->next) {
    auto *user_meta = static_cast<NvDsUserMeta *>(l->data);
    if (user_meta != nullptr && user_meta->base_meta.meta_type == runtime->object_meta_type) {
      return static_cast<const NvDsAnalyticsObjInfo *>(user_meta->user_meta_data);
    }
  }
  return nullptr;
}

/* Collects the frame's analytics into runtime->sections, in the order of
 * nvdsanalytics' maps (which decides the key order of the messages). */
void collect_sections(dsx_ds_runtime *runtime, const NvDsFrameMeta *frame) {
  for (auto &section : runtime->sections) section.clear();

  const NvDsAnalyticsFrameMeta *analytics = frame_analytics(runtime, frame);
  if (analytics != nullptr) {
    for (const auto &[label, count] : analytics->objLCCurrCnt) {
      add_labelled(runtime, DSX_SECTION_LC_CURRENT, 0, label, count);
    }
    for (const auto &[label, count] : analytics->objLCCumCnt) {
      add_labelled(runtime, DSX_SECTION_LC_CUMULATIVE, 0, label, count);
    }
    for (const auto &[label, count] : analytics->objInROIcnt) {
      add_labelled(runtime, DSX_SECTION_ROI_COUNT, 0, label, count);
    }
    for (const auto &[label, triggered] : analytics->ocStatus) {
      add_labelled(runtime, DSX_SECTION_OVERCROWDING, 0, label, triggered ? 1 : 0);
    }
    for (const auto &[class_id, count] : analytics->objCnt) {
      section_entry entry = {static_cast<uint32_t>(class_id), 0u, count};
      runtime->sections[DSX_SECTION_OBJECT_COUNT - 1].push_back(entry);
    }
  }

  for (size_t index = 0; index < runtime->objects.size(); index++) {
    const NvDsAnalyticsObjInfo *info = object_analytics(runtime, runtime->objects[index]);
    if (info == nullptr) continue;

    auto object_index = static_cast<uint32_t>(index);
    for (const auto &label : info->roiStatus) {
      add_labelled(runtime, DSX_SECTION_OBJECT_ROI, object_index, label, 0);
    }
    for (const auto &label : info->lcStatus) {
      add_labelled(runtime, DSX_SECTION_OBJECT_LC, object_index, label, 0);
    }
    for (const auto &label : info->ocStatus) {
      add_labelled(runtime, DSX_SECTION_OBJECT_OVERCROWDING, object_index, label, 0);
    }
    if (!info->dirStatus.empty()) {
      add_labelled(runtime, DSX_SECTION_OBJECT_DIRECTION, object_index, info->dirStatus, 0);
    }

    /* Always one status entry per object with analytics, so the reader knows that
     * nvdsanalytics attached NvDsAnalyticsObjInfo; empty where the SDK has no objStatus. */
    const std::string *status = object_status<NvDsAnalyticsObjInfo>::of(*info);
    static const std::string no_status;
    add_labelled(runtime, DSX_SECTION_OBJECT_STATUS_TEXT, object_index,
                 status != nullptr ? *status : no_status, 0);
  }
}

bool section_has_label(size_t kind) {
  return kind + 1 != DSX_SECTION_OBJECT_COUNT;
}

/* Writes the frame record into runtime->record and returns its size. Sections that do
 * not fit are cut, and the cut entries removed from runtime->sections, so that the
 * record and the counts of the nvmsgbroker branch contain the same entries. */
size_t write_frame_record(dsx_ds_runtime *runtime, const ds_stream &ds, uint64_t pts_ns,
                          uint32_t width, uint32_t height) {
  uint8_t *r = runtime->record.data();
  auto object_count = static_cast<uint32_t>(runtime->objects.size());

  dsx_put_u32(r + 8, ds.stream->id);
  dsx_put_u32(r + 12, object_count);
  dsx_put_u64(r + 16, ds.frames);
  dsx_put_u64(r + 24, pts_ns);
  dsx_put_u32(r + 32, width);
  dsx_put_u32(r + 36, height);
  dsx_put_u32(r + 44, 0);

  size_t offset = DSX_FRAME_HEADER_BYTES;
  for (const NvDsObjectMeta *object : runtime->objects) {
    uint8_t *o = r + offset;
    dsx_put_u64(o, object->object_id); /* UNTRACKED_OBJECT_ID equals DSX_UNTRACKED */
    dsx_put_u32(o + 8, static_cast<uint32_t>(object->class_id));
    dsx_put_f32(o + 12, object->confidence);
    dsx_put_f32(o + 16, object->rect_params.left);
    dsx_put_f32(o + 20, object->rect_params.top);
    dsx_put_f32(o + 24, object->rect_params.width);
    dsx_put_f32(o + 28, object->rect_params.height);
    offset += DSX_OBJECT_BYTES;
  }

  /* Room for every section header is set aside first; entries share what is left. */
  size_t reserved = offset + DSX_SECTION_HEADER_BYTES * SECTION_KINDS;
  size_t budget = (runtime->record.size() - reserved) / DSX_SECTION_ENTRY_BYTES;
  uint32_t section_count = 0;

  for (size_t kind = 0; kind < SECTION_KINDS; kind++) {
    std::vector<section_entry> &entries = runtime->sections[kind];
    if (kind >= FRAME_SECTION_KINDS && entries.empty()) continue;

    if (entries.size() > budget) {
      if (runtime->entries_left_out == 0) {
        GST_WARNING("stream %u: analytics entries exceed the record size: some are left out",
                    ds.stream->id);
      }
      runtime->entries_left_out += entries.size() - budget;
      entries.resize(budget);
    }
    budget -= entries.size();

    uint8_t *s = r + offset;
    dsx_put_u16(s, static_cast<uint16_t>(kind + 1));
    dsx_put_u16(s + 2, 0);
    dsx_put_u32(s + 4, static_cast<uint32_t>(entries.size()));
    offset += DSX_SECTION_HEADER_BYTES;
    for (const section_entry &entry : entries) {
      dsx_put_u32(r + offset, entry.a);
      dsx_put_u32(r + offset + 4, entry.b);
      dsx_put_u64(r + offset + 8, entry.value);
      offset += DSX_SECTION_ENTRY_BYTES;
    }
    section_count++;
  }

  dsx_put_u32(r + 40, section_count);
  dsx_write_record_header(r, DSX_RECORD_FRAME, static_cast<uint32_t>(offset));
  return offset;
}

size_t label_record_bytes(const std::string &text) {
  return (LABEL_FIXED_BYTES + text.size() + 7u) & ~static_cast<size_t>(7u);
}

/* Returns true when pushing `bytes` more may make the drop-oldest policy discard
 * records of this stream, label records among them. Wrap padding can waste up to one
 * record, hence the margin of the largest record. */
bool ring_may_drop(dsx_pipeline *owner, dsx_stream *stream, size_t bytes, size_t largest) {
  if (owner->overflow != DSX_OVERFLOW_DROP_OLDEST) return false;

  g_mutex_lock(&owner->lock);
  size_t free_bytes = stream->ring.capacity - stream->ring.used;
  g_mutex_unlock(&owner->lock);
  return free_bytes < bytes + largest;
}

/* Pushes the label records the written frame needs and this stream's ring has not had
 * yet. Returns false when the stream or pipeline no longer takes records. */
bool push_labels(dsx_ds_runtime *runtime, ds_stream &ds, size_t frame_bytes) {
  if (ds.labels_sent.size() < runtime->label_texts.size()) {
    ds.labels_sent.resize(runtime->label_texts.size(), false);
  }

  runtime->labels_to_send.clear();
  size_t label_bytes = 0;
  for (size_t kind = 0; kind < SECTION_KINDS; kind++) {
    if (!section_has_label(kind)) continue;
    bool object_section = kind + 1 >= DSX_SECTION_OBJECT_ROI;
    for (const section_entry &entry : runtime->sections[kind]) {
      uint32_t id = object_section ? entry.b : entry.a;
      runtime->labels_to_send.push_back(id);
      label_bytes += label_record_bytes(runtime->label_texts[id]);
    }
  }

  /* NOTE: a label record dropped by the drop-oldest policy while the frame after it
   * stays queued leaves that one frame with "label-N" keys on the reading side. Sending
   * every label of the frame again whenever the ring is near full repairs the frames
   * that follow. A pipeline-wide label table read by poll would close the gap. */
  if (ring_may_drop(ds.owner, ds.stream, label_bytes + frame_bytes, runtime->record.size())) {
    std::fill(ds.labels_sent.begin(), ds.labels_sent.end(), false);
  }

  for (uint32_t id : runtime->labels_to_send) {
    if (ds.labels_sent[id]) continue;

    const std::string &text = runtime->label_texts[id];
    size_t size = label_record_bytes(text);
    runtime->label_record.assign(size, 0);
    uint8_t *r = runtime->label_record.data();
    dsx_write_record_header(r, DSX_RECORD_LABEL, static_cast<uint32_t>(size));
    dsx_put_u32(r + 8, id);
    dsx_put_u32(r + 12, static_cast<uint32_t>(text.size()));
    memcpy(r + LABEL_FIXED_BYTES, text.data(), text.size());

    if (!dsx_stream_push_record(ds.owner, ds.stream, r, size, false)) return false;
    ds.labels_sent[id] = true;
  }
  return true;
}

/* The label text as the reading side decodes it: TextDecoder drops a leading byte
 * order mark. */
std::pair<const char *, size_t> decoded_label(const dsx_ds_runtime *runtime, uint32_t id) {
  const std::string &text = runtime->label_texts[id];
  size_t bom = dsx_label_bom_length(text.data(), text.size());
  return {text.data() + bom, text.size() - bom};
}

/* Fills runtime->counts from the sections written to the record, as ffi/records.ts
 * turns them into FrameAnalytics. */
void fill_counts(dsx_ds_runtime *runtime) {
  dsx_frame_counts *counts = &runtime->counts;
  dsx_frame_counts_reset(counts);

  const std::pair<uint16_t, dsx_jsmap *> labelled[] = {
      {DSX_SECTION_LC_CURRENT, &counts->lc_current},
      {DSX_SECTION_LC_CUMULATIVE, &counts->lc_cumulative},
      {DSX_SECTION_ROI_COUNT, &counts->roi_counts},
      {DSX_SECTION_OVERCROWDING, &counts->overcrowding},
  };
  for (const auto &[tag, map] : labelled) {
    for (const section_entry &entry : runtime->sections[tag - 1]) {
      auto [text, length] = decoded_label(runtime, entry.a);
      dsx_jsmap_set(map, text, length, entry.value);
    }
  }

  for (const section_entry &entry : runtime->sections[DSX_SECTION_OBJECT_COUNT - 1]) {
    char key[16];
    int length = g_snprintf(key, sizeof key, "%u", entry.a);
    dsx_jsmap_set(&counts->object_counts, key, static_cast<size_t>(length), entry.value);
  }

  /* One direction entry per object at most, in object order. */
  for (const section_entry &entry : runtime->sections[DSX_SECTION_OBJECT_DIRECTION - 1]) {
    auto [text, length] = decoded_label(runtime, entry.b);
    dsx_count_directions(&counts->directions, text, length);
  }
}

/* Posts STREAM_STARTED with "WIDTHxHEIGHT@FPS", the rate from the caps that reached
 * nvstreammux (0 when they carry none). */
void post_started(const ds_stream &ds, uint32_t width, uint32_t height) {
  gint numerator = 0, denominator = 1;
  GstCaps *caps = ds.mux_pad != nullptr ? gst_pad_get_current_caps(ds.mux_pad) : nullptr;
  if (caps != nullptr) {
    const GstStructure *structure = gst_caps_get_structure(caps, 0);
    if (!gst_structure_get_fraction(structure, "framerate", &numerator, &denominator) ||
        denominator == 0) {
      numerator = 0;
      denominator = 1;
    }
    gst_caps_unref(caps);
  }

  char description[64];
  g_snprintf(description, sizeof description, "%ux%u@%.3f", width, height,
             static_cast<double>(numerator) / denominator);
  dsx_post_event(ds.owner, static_cast<int32_t>(ds.stream->id), DSX_EVENT_STREAM_STARTED,
                 DSX_EVENT_CODE_NONE, description);
}

void process_frame(dsx_deepstream *state, NvDsBatchMeta *batch, NvDsFrameMeta *frame) {
  dsx_ds_runtime *runtime = state->runtime;
  dsx_pipeline *owner = runtime->owner;
  if (frame->pad_index >= runtime->streams.size()) {
    GST_WARNING("frame from unknown nvstreammux pad %u ignored", frame->pad_index);
    return;
  }
  ds_stream &ds = runtime->streams[frame->pad_index];

  uint32_t width = runtime->mux_scales ? runtime->width : frame->source_frame_width;
  uint32_t height = runtime->mux_scales ? runtime->height : frame->source_frame_height;
  if (ds.frames == 0) {
    ds.first_pts = frame->buf_pts;
    post_started(ds, width, height);
  }
  ds.frames++;
  uint64_t pts_ns = frame->buf_pts >= ds.first_pts ? frame->buf_pts - ds.first_pts : 0;

  runtime->objects.clear();
  uint64_t found = 0;
  for (NvDsMetaList *l = frame->obj_meta_list; l != nullptr; l = l->next) {
    found++;
    if (runtime->objects.size() < owner->max_objects) {
      runtime->objects.push_back(static_cast<NvDsObjectMeta *>(l->data));
    }
  }

  collect_sections(runtime, frame);
  size_t size = write_frame_record(runtime, ds, pts_ns, width, height);

  g_mutex_lock(&owner->lock);
  owner->stats.frames_decoded++;
  owner->stats.objects_truncated += found - runtime->objects.size();
  g_mutex_unlock(&owner->lock);

  if (!push_labels(runtime, ds, size)) return;
  if (!dsx_stream_push_record(owner, ds.stream, runtime->record.data(), size, true)) return;

  if (state->options.enabled) {
    fill_counts(runtime);
    dsx_msgbroker_on_frame(state, batch, frame, ds.stream->id, ds.frames, pts_ns, &runtime->counts);
  }
}

/* Ends a stream at its end: STREAM_EOS, or an error when it never had a video stream. */
void end_stream(ds_stream &ds) {
  if (ds.frames == 0 && !g_atomic_int_get(&ds.video_linked)) {
    finish_stream(ds, DSX_EVENT_ERROR, DSX_EVENT_CODE_NOT_VIDEO, "the input has no video stream");
  } else {
    GST_INFO("stream %u: end of stream after %" G_GUINT64_FORMAT " frames", ds.stream->id,
             ds.frames);
    finish_stream(ds, DSX_EVENT_STREAM_EOS, DSX_EVENT_CODE_NONE, nullptr);
  }
}

void handle_event(dsx_ds_runtime *runtime, GstEvent *event) {
  auto type = static_cast<int>(GST_EVENT_TYPE(event));

  if (type == static_cast<int>(GST_NVEVENT_STREAM_EOS)) {
    guint source_id = 0;
    gst_nvevent_parse_stream_eos(event, &source_id);
    if (source_id < runtime->streams.size()) end_stream(runtime->streams[source_id]);
    return;
  }

  if (type == static_cast<int>(GST_EVENT_EOS)) {
    for (ds_stream &ds : runtime->streams) {
      if (ds.source != nullptr) end_stream(ds);
    }
  }
}

GstPadProbeReturn on_analytics_output(GstPad *pad, GstPadProbeInfo *info, gpointer data) noexcept {
  auto *state = static_cast<dsx_deepstream *>(data);

  if ((GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) != 0) {
    handle_event(state->runtime, GST_PAD_PROBE_INFO_EVENT(info));
    return GST_PAD_PROBE_OK;
  }

  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  NvDsBatchMeta *batch = buffer != nullptr ? gst_buffer_get_nvds_batch_meta(buffer) : nullptr;
  if (batch == nullptr) {
    GST_WARNING_OBJECT(pad, "buffer without NvDsBatchMeta ignored");
    return GST_PAD_PROBE_OK;
  }

  for (NvDsMetaList *l = batch->frame_meta_list; l != nullptr; l = l->next) {
    process_frame(state, batch, static_cast<NvDsFrameMeta *>(l->data));
  }
  return GST_PAD_PROBE_OK;
}

/* ---------------------------------------------------------------------------------
 * Source streaming threads
 * --------------------------------------------------------------------------------- */

void post_source_error(ds_stream &ds, GQuark domain, gint code, const char *text) {
  GError *error = g_error_new_literal(domain, code, text);
  GstMessage *message = gst_message_new_error(GST_OBJECT(ds.source), error, nullptr);
  gst_element_post_message(ds.source, message);
  g_error_free(error);
}

/* Consumes a pad that is not the stream's video (audio, a second video), so that the
 * demuxer never gets "not linked" from it. */
void discard_pad(ds_stream &ds, GstPad *pad) {
  GstElement *discard = gst_element_factory_make("fakesink", nullptr);
  if (discard == nullptr) return;

  g_object_set(discard, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(ds.runtime->pipeline), discard);
  GstPad *sink = gst_element_get_static_pad(discard, "sink");
  if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK) {
    GST_WARNING("stream %u: could not discard pad %s", ds.stream->id, GST_PAD_NAME(pad));
  }
  gst_object_unref(sink);
  if (!gst_element_sync_state_with_parent(discard)) {
    GST_WARNING("stream %u: the discarding fakesink did not start", ds.stream->id);
  }
}

void on_source_pad_added(GstElement *source, GstPad *pad, gpointer data) noexcept {
  ds_stream &ds = *static_cast<ds_stream *>(data);

  GstCaps *caps = gst_pad_get_current_caps(pad);
  if (caps == nullptr) caps = gst_pad_query_caps(pad, nullptr);
  const GstStructure *structure = gst_caps_get_structure(caps, 0);
  bool is_video = g_str_has_prefix(gst_structure_get_name(structure), "video/");
  GstCapsFeatures *features = gst_caps_get_features(caps, 0);
  bool in_gpu_memory = features != nullptr && gst_caps_features_contains(features, "memory:NVMM");

  if (!is_video || g_atomic_int_get(&ds.video_linked)) {
    discard_pad(ds, pad);
  } else if (ds.uses_decodebin && !in_gpu_memory) {
    GST_WARNING("stream %u: decoded video is not in NVMM memory: %" GST_PTR_FORMAT,
                ds.stream->id, caps);
    post_source_error(ds, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
                      "uridecodebin did not choose an NVIDIA hardware decoder for this input "
                      "(its output is not in NVMM memory): install nvurisrcbin, or convert the "
                      "video to H.264 or H.265");
    discard_pad(ds, pad);
  } else {
    GstPadLinkReturn linked = gst_pad_link(pad, ds.mux_pad);
    if (linked == GST_PAD_LINK_OK) {
      g_atomic_int_set(&ds.video_linked, 1);
      GST_INFO("stream %u: linked %s to nvstreammux with caps %" GST_PTR_FORMAT, ds.stream->id,
               GST_PAD_NAME(pad), caps);
    } else {
      GST_WARNING("stream %u: linking %s to nvstreammux failed: %s", ds.stream->id,
                  GST_PAD_NAME(pad), gst_pad_link_get_name(linked));
      post_source_error(ds, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                        "the decoded video could not be linked to nvstreammux");
    }
  }
  gst_caps_unref(caps);
}

/* ---------------------------------------------------------------------------------
 * Bus thread
 * --------------------------------------------------------------------------------- */

/* Returns the stream whose source bin contains `object`, or NULL. */
ds_stream *stream_of(dsx_ds_runtime *runtime, GstObject *object) {
  for (ds_stream &ds : runtime->streams) {
    if (ds.source == nullptr) continue;
    GstObject *source = GST_OBJECT(ds.source);
    if (object == source || gst_object_has_as_ancestor(object, source)) return &ds;
  }
  return nullptr;
}

/* Takes a failed source out of the batch: stops it and ends its nvstreammux pad, so
 * that the other sources go on. */
void detach_source(ds_stream &ds) {
  if (!gst_element_set_locked_state(ds.source, TRUE)) {
    GST_WARNING("stream %u: could not lock the source's state", ds.stream->id);
  }
  if (gst_element_set_state(ds.source, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
    GST_WARNING("stream %u: the failed source did not stop", ds.stream->id);
  }
  if (!gst_pad_send_event(ds.mux_pad, gst_event_new_eos())) {
    GST_DEBUG("stream %u: nvstreammux refused the end-of-stream of a failed source",
              ds.stream->id);
  }
}

void report_error(dsx_ds_runtime *runtime, GstMessage *message) {
  GError *error = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error(message, &error, &debug);
  const char *element = GST_OBJECT_NAME(GST_MESSAGE_SRC(message));
  GST_WARNING("error from %s: %s (%s)", element, error->message,
              debug != nullptr ? debug : "no details");

  ds_stream *failed = stream_of(runtime, GST_MESSAGE_SRC(message));
  if (failed != nullptr) {
    if (finish_stream(*failed, DSX_EVENT_ERROR, dsx_classify_error(error), error->message)) {
      detach_source(*failed);
    }
  } else {
    /* nvinfer, nvtracker, nvdsanalytics, nvstreammux or the broker failed: every stream
     * is affected. Each gets the error, because readers act on stream errors. */
    char text[DSX_EVENT_TEXT_MAX];
    g_snprintf(text, sizeof text, "%s failed: %s", element, error->message);
    for (ds_stream &ds : runtime->streams) {
      finish_stream(ds, DSX_EVENT_ERROR, dsx_classify_error(error), text);
    }
  }

  g_clear_error(&error);
  g_free(debug);
}

gboolean on_bus_message(GstBus *bus, GstMessage *message, gpointer data) noexcept {
  auto *runtime = static_cast<dsx_ds_runtime *>(data);

  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
      report_error(runtime, message);
      break;

    case GST_MESSAGE_WARNING: {
      GError *warning = nullptr;
      gst_message_parse_warning(message, &warning, nullptr);
      ds_stream *ds = stream_of(runtime, GST_MESSAGE_SRC(message));
      dsx_post_event(runtime->owner, ds != nullptr ? static_cast<int32_t>(ds->stream->id) : -1,
                     DSX_EVENT_WARNING, dsx_classify_error(warning), warning->message);
      g_clear_error(&warning);
      break;
    }

    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------------------
 * Control thread
 * --------------------------------------------------------------------------------- */

GstElement *make_element(dsx_pipeline *owner, const char *factory, const char *name) {
  GstElement *element = gst_element_factory_make(factory, name);
  if (element == nullptr) {
    dsx_set_error(owner,
                  "GStreamer element \"%s\" is not installed or failed to load: check the "
                  "DeepStream installation with gst-inspect-1.0 %s",
                  factory, factory);
  }
  return element;
}

/* Checks the configuration files before anything is built. */
int32_t check_paths(dsx_pipeline *owner, const char **tracker_library) {
  struct required_file {
    const char *path;
    const char *what;
    const char *fix;
  };
  *tracker_library = owner->tracker_library != nullptr ? owner->tracker_library
                                                       : DEFAULT_TRACKER_LIBRARY;
  const required_file files[] = {
      {owner->analytics_config, "nvdsanalytics config (analytics-config)", "--analytics-config"},
      {owner->infer_config, "nvinfer config (infer-config)",
       "--infer-config, e.g. configs/config_infer_primary.txt"},
      {*tracker_library, "nvtracker library (tracker-library)", "--tracker-library"},
  };

  for (const required_file &file : files) {
    if (file.path == nullptr) {
      dsx_set_error(owner, "the deepstream backend needs an %s: pass %s", file.what, file.fix);
      return DSX_ERR_INVALID_ARGUMENT;
    }
    if (!is_regular_file(file.path)) {
      dsx_set_error(owner, "%s \"%s\" not found: pass an existing file with %s", file.what,
                    file.path, file.fix);
      return DSX_ERR_INVALID_ARGUMENT;
    }
  }
  if (owner->tracker_config != nullptr && !is_regular_file(owner->tracker_config)) {
    dsx_set_error(owner, "nvtracker config (tracker-config) \"%s\" not found", owner->tracker_config);
    return DSX_ERR_INVALID_ARGUMENT;
  }
  return DSX_OK;
}

/* Returns (transfer full) the URI of a source, or NULL after posting the stream's error:
 * not a URI nor a path, an unsupported scheme, or a local file that does not exist. A
 * missing file is caught here because one source failing to start would stop the whole
 * batched pipeline. */
gchar *checked_uri(ds_stream &ds, bool *live) {
  const char *input = ds.stream->uri;
  char text[DSX_EVENT_TEXT_MAX];

  GError *error = nullptr;
  gchar *uri = gst_uri_is_valid(input) ? g_strdup(input) : gst_filename_to_uri(input, &error);
  if (uri == nullptr) {
    g_snprintf(text, sizeof text, "\"%s\" is neither a URI nor a file path: %s", input,
               error->message);
    g_clear_error(&error);
    finish_stream(ds, DSX_EVENT_ERROR, DSX_EVENT_CODE_NOT_FOUND, text);
    return nullptr;
  }

  gchar *scheme = gst_uri_get_protocol(uri);
  bool supported = scheme != nullptr && gst_uri_protocol_is_supported(GST_URI_SRC, scheme);
  *live = scheme != nullptr && (g_ascii_strcasecmp(scheme, "rtsp") == 0 ||
                                g_ascii_strcasecmp(scheme, "rtsps") == 0);
  bool is_file = scheme != nullptr && g_ascii_strcasecmp(scheme, "file") == 0;
  g_free(scheme);
  if (!supported) {
    g_snprintf(text, sizeof text, "no GStreamer source element handles the URI \"%s\"", uri);
    finish_stream(ds, DSX_EVENT_ERROR, DSX_EVENT_CODE_UNSUPPORTED, text);
    g_free(uri);
    return nullptr;
  }

  if (is_file) {
    gchar *path = g_filename_from_uri(uri, nullptr, nullptr);
    bool exists = path != nullptr && g_file_test(path, G_FILE_TEST_EXISTS);
    g_free(path);
    if (!exists) {
      g_snprintf(text, sizeof text, "file not found: %s", input);
      finish_stream(ds, DSX_EVENT_ERROR, DSX_EVENT_CODE_NOT_FOUND, text);
      g_free(uri);
      return nullptr;
    }
  }
  return uri;
}

/* Creates a source bin for `uri`, requests its nvstreammux pad and connects pad-added. */
int32_t add_source(dsx_ds_runtime *runtime, ds_stream &ds, const gchar *uri) {
  char name[32];
  g_snprintf(name, sizeof name, "source-%u", ds.stream->id);

  bool has_urisrcbin = factory_exists("nvurisrcbin");
  GstElement *source = make_element(runtime->owner, has_urisrcbin ? "nvurisrcbin" : "uridecodebin",
                                    name);
  if (source == nullptr) return DSX_ERR_UNAVAILABLE;
  ds.uses_decodebin = !has_urisrcbin;

  /* The URI is only ever a property value, never parsed as pipeline syntax. */
  g_object_set(source, "uri", uri, nullptr);
  set_if_present(source, "disable-audio", TRUE);

  GstPadTemplate *pad_template = gst_element_get_pad_template(runtime->mux, "sink_%u");
  char pad_name[32];
  g_snprintf(pad_name, sizeof pad_name, "sink_%u", ds.stream->id);
  ds.mux_pad = pad_template != nullptr
                   ? gst_element_request_pad(runtime->mux, pad_template, pad_name, nullptr)
                   : nullptr;
  if (ds.mux_pad == nullptr) {
    gst_object_unref(gst_object_ref_sink(source));
    dsx_set_error(runtime->owner, "stream %u: nvstreammux refused the sink pad %s",
                  ds.stream->id, pad_name);
    return DSX_ERR_PIPELINE;
  }

  if (!gst_bin_add(GST_BIN(runtime->pipeline), source)) {
    dsx_set_error(runtime->owner, "stream %u: could not add the source to the pipeline",
                  ds.stream->id);
    return DSX_ERR_PIPELINE;
  }
  ds.source = source;
  g_signal_connect(source, "pad-added", G_CALLBACK(on_source_pad_added), &ds);
  return DSX_OK;
}

void configure_mux(dsx_ds_runtime *runtime, guint batch_size, bool live) {
  GstElement *mux = runtime->mux;
  g_object_set(mux, "batch-size", batch_size, nullptr);

  /* The legacy nvstreammux scales every frame to width x height; the new one
   * (USE_NEW_NVSTREAMMUX=yes) has no such properties and keeps each source's size. */
  bool scales = set_if_present(mux, "width", static_cast<guint>(runtime->width));
  scales = set_if_present(mux, "height", static_cast<guint>(runtime->height)) && scales;
  runtime->mux_scales = scales;

  set_if_present(mux, "live-source", live ? TRUE : FALSE);
  set_if_present(mux, "batched-push-timeout", BATCHED_PUSH_TIMEOUT_US);
}

/*
 * Builds the pipeline (diagram at the top of this file):
 *
 *   source-N (nvurisrcbin | uridecodebin) ──pad-added──► mux.sink_N
 *   mux (nvstreammux) ► infer (nvinfer) ► tracker (nvtracker) ► analytics (nvdsanalytics)
 *   analytics ─(probe)─► sink (fakesink)   or the nvmsgbroker branch
 *
 * Inputs that fail the checks of checked_uri get their error event and no source.
 */
int32_t build_pipeline(dsx_deepstream *state, const char *tracker_library) {
  dsx_ds_runtime *runtime = state->runtime;
  dsx_pipeline *owner = runtime->owner;

  runtime->pipeline = gst_pipeline_new("dsx-deepstream");
  runtime->mux = make_element(owner, "nvstreammux", "mux");
  GstElement *infer = make_element(owner, "nvinfer", "infer");
  GstElement *tracker = make_element(owner, "nvtracker", "tracker");
  GstElement *analytics = make_element(owner, "nvdsanalytics", "analytics");
  GstElement *sink = make_element(owner, "fakesink", "sink");
  if (!runtime->mux || !infer || !tracker || !analytics || !sink) {
    for (GstElement *element : {runtime->mux, infer, tracker, analytics, sink}) {
      if (element != nullptr) gst_object_unref(gst_object_ref_sink(element));
    }
    runtime->mux = nullptr;
    return DSX_ERR_UNAVAILABLE;
  }

  bool any_live = false;
  std::vector<gchar *> uris(runtime->streams.size(), nullptr);
  for (size_t i = 0; i < runtime->streams.size(); i++) {
    bool live = false;
    uris[i] = checked_uri(runtime->streams[i], &live);
    any_live = any_live || (uris[i] != nullptr && live);
  }

  configure_mux(runtime, static_cast<guint>(runtime->streams.size()), any_live);
  g_object_set(infer, "config-file-path", owner->infer_config, "batch-size",
               static_cast<guint>(runtime->streams.size()), nullptr);
  g_object_set(tracker, "ll-lib-file", tracker_library, nullptr);
  if (owner->tracker_config != nullptr) {
    g_object_set(tracker, "ll-config-file", owner->tracker_config, nullptr);
  }
  g_object_set(analytics, "config-file", owner->analytics_config, nullptr);
  g_object_set(sink, "sync", owner->realtime ? TRUE : FALSE, "async", FALSE, nullptr);

  gst_bin_add_many(GST_BIN(runtime->pipeline), runtime->mux, infer, tracker, analytics, nullptr);

  int32_t status = DSX_OK;
  if (!gst_element_link_many(runtime->mux, infer, tracker, analytics, nullptr)) {
    dsx_set_error(owner, "linking nvstreammux ! nvinfer ! nvtracker ! nvdsanalytics failed");
    gst_object_unref(gst_object_ref_sink(sink));
    status = DSX_ERR_PIPELINE;
  }
  if (status == DSX_OK) {
    status = dsx_msgbroker_build(owner, state, GST_BIN(runtime->pipeline), analytics, sink);
  }
  for (size_t i = 0; i < runtime->streams.size() && status == DSX_OK; i++) {
    if (uris[i] != nullptr) status = add_source(runtime, runtime->streams[i], uris[i]);
  }
  for (gchar *uri : uris) g_free(uri);
  if (status != DSX_OK) return status;

  GstPad *probe_pad = gst_element_get_static_pad(analytics, "src");
  gst_pad_add_probe(probe_pad,
                    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                 GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    on_analytics_output, state, nullptr);
  gst_object_unref(probe_pad);
  return DSX_OK;
}

void attach_bus_watch(dsx_ds_runtime *runtime) {
  GstBus *bus = gst_element_get_bus(runtime->pipeline);
  runtime->bus_watch = gst_bus_create_watch(bus);
  g_source_set_callback(runtime->bus_watch,
                        reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)(void)>(on_bus_message)),
                        runtime, nullptr);
  g_source_attach(runtime->bus_watch, runtime->owner->context);
  gst_object_unref(bus);
}

int32_t deepstream_start(dsx_pipeline *owner) noexcept {
  init_debug();
  GST_INFO("deepstream backend built against DeepStream %d.%d.%d headers; analytics meta "
           "types %s", NVDS_VERSION_MAJOR, NVDS_VERSION_MINOR, NVDS_VERSION_MICRO,
           analytics_types::by_name ? "looked up by name" : "from NvDsMetaType");

  dsx_deepstream *state = dsx_deepstream_of(owner, true);
  const char *tracker_library = nullptr;
  int32_t status = check_paths(owner, &tracker_library);
  if (status == DSX_OK) status = dsx_msgbroker_check(owner, state);
  if (status != DSX_OK) return status;

  auto *runtime = new dsx_ds_runtime();
  state->runtime = runtime;
  runtime->owner = owner;
  runtime->width = owner->processing_width > 0 ? owner->processing_width : DEFAULT_WIDTH;
  runtime->height = owner->processing_height > 0 ? owner->processing_height : DEFAULT_HEIGHT;
  runtime->frame_meta_type = analytics_types::frame();
  runtime->object_meta_type = analytics_types::object();
#if defined(NVDS_USER_FRAME_META_NVDSANALYTICS) && defined(NVDS_USER_OBJ_META_NVDSANALYTICS)
  /* The header's own macros name the types its nvdsanalytics attaches; they win should
   * the detection above ever disagree with them. */
  NvDsMetaType header_frame_type = NVDS_USER_FRAME_META_NVDSANALYTICS;
  NvDsMetaType header_object_type = NVDS_USER_OBJ_META_NVDSANALYTICS;
  if (header_frame_type != runtime->frame_meta_type ||
      header_object_type != runtime->object_meta_type) {
    GST_WARNING("nvds_analytics_meta.h names other analytics meta types than detected: "
                "using the header's");
    runtime->frame_meta_type = header_frame_type;
    runtime->object_meta_type = header_object_type;
  }
#endif
  runtime->record.assign(dsx_max_frame_record_bytes(owner), 0);
  runtime->streams.resize(owner->stream_count);
  for (uint32_t i = 0; i < owner->stream_count; i++) {
    runtime->streams[i].owner = owner;
    runtime->streams[i].stream = owner->streams[i];
    runtime->streams[i].runtime = runtime;
  }

  status = build_pipeline(state, tracker_library);
  if (status != DSX_OK) return status;
  attach_bus_watch(runtime);

  /* A failure here (an nvinfer config it cannot parse, an engine it cannot build) is
   * posted on the bus first, and the bus thread turns it into error events. */
  if (gst_element_set_state(runtime->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GST_WARNING("the pipeline did not start; its bus carries the reason");
  }
  return DSX_OK;
}

void deepstream_stop(dsx_pipeline *owner) noexcept {
  dsx_deepstream *state = dsx_deepstream_of(owner, false);
  if (state == nullptr || state->runtime == nullptr || state->runtime->pipeline == nullptr) return;

  if (gst_element_set_state(state->runtime->pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
    GST_WARNING("the pipeline failed to stop cleanly");
  }
}

void deepstream_free(dsx_pipeline *owner) noexcept {
  dsx_deepstream *state = dsx_deepstream_of(owner, false);
  if (state == nullptr) return;

  dsx_ds_runtime *runtime = state->runtime;
  if (runtime != nullptr) {
    if (runtime->bus_watch != nullptr) {
      g_source_destroy(runtime->bus_watch);
      g_source_unref(runtime->bus_watch);
    }
    for (ds_stream &ds : runtime->streams) {
      if (ds.mux_pad != nullptr) {
        gst_element_release_request_pad(runtime->mux, ds.mux_pad);
        gst_object_unref(ds.mux_pad);
      }
    }
    if (runtime->pipeline != nullptr) gst_object_unref(runtime->pipeline);
    dsx_frame_counts_clear(&runtime->counts);
    delete runtime;
  }

  dsx_msgbroker_release(state);
  delete state;
  owner->backend_data = nullptr;
}

const dsx_backend_ops deepstream_ops = {"deepstream", deepstream_start, deepstream_stop,
                                        deepstream_free};

}  // namespace

dsx_deepstream *dsx_deepstream_of(dsx_pipeline *pipeline, bool create) {
  if (pipeline->backend != DSX_BACKEND_DEEPSTREAM) return nullptr;

  auto *state = static_cast<dsx_deepstream *>(pipeline->backend_data);
  if (state == nullptr && create) {
    state = new dsx_deepstream();
    pipeline->backend_data = state;
  }
  return state;
}

namespace {

/* Lists the missing elements into `reason`; noexcept because the caller is C. */
int32_t check_elements(char *reason, uint32_t capacity) noexcept {
  init_debug();

  std::string missing;
  for (const char *factory : REQUIRED_ELEMENTS) {
    if (factory_exists(factory)) continue;
    missing += missing.empty() ? "" : ", ";
    missing += factory;
  }
  if (!factory_exists("nvurisrcbin") && !factory_exists("uridecodebin")) {
    missing += missing.empty() ? "" : ", ";
    missing += "nvurisrcbin (or uridecodebin)";
  }

  if (missing.empty()) return 1;
  GST_INFO("deepstream backend unavailable, missing: %s", missing.c_str());
  if (reason != nullptr && capacity > 0) {
    g_snprintf(reason, capacity,
               "DeepStream GStreamer plugins not found: %s. Check that the DeepStream SDK is "
               "installed, that the container runs with the GPU (docker run --gpus all), and "
               "what gst-inspect-1.0 %s says",
               missing.c_str(), REQUIRED_ELEMENTS[1]);
  }
  return 0;
}

}  // namespace

extern "C" {

const dsx_backend_ops *const dsx_backend_deepstream_ops = &deepstream_ops;

int32_t dsx_deepstream_available(char *reason, uint32_t capacity) {
  return check_elements(reason, capacity);
}

}  // extern "C"
