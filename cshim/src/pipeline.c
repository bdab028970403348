/*
 * pipeline.c — the public dsx_pipeline API: options, lifecycle, the record queues and
 * poll. Backends (backend_cpu.c, backend_deepstream.cpp) build the GStreamer elements
 * and produce records through dsx_stream_push_record and dsx_post_event.
 *
 * Threads:
 *   - control thread: new, add_source, set_*, start, stop, free;
 *   - poll thread: dsx_pipeline_poll (a Deno worker thread), one call at a time;
 *   - streaming threads (GStreamer): produce frame records;
 *   - bus thread (owned here): runs a GMainLoop on the pipeline's own GMainContext, where
 *     backends attach their bus watches; posts errors, warnings and end-of-stream.
 *
 * Invariants (under `lock`):
 *   - a record is either in a ring, in `events`, or copied out: never lost unless the
 *     overflow policy drops it (counted in stats.frames_dropped) or stop discards it;
 *   - PIPELINE_END is copied out exactly once, after every ring and the event queue are
 *     empty and every stream has ended (or stop was called);
 *   - the ring capacity is at least twice the largest record, so a push always fits
 *     once older records are consumed or dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

GST_DEBUG_CATEGORY_STATIC(dsx_pipeline_debug);
#define GST_CAT_DEFAULT dsx_pipeline_debug

#define DEFAULT_RING_BYTES (4u * 1024u * 1024u)
#define MIN_RING_BYTES (4u * 1024u)
#define DEFAULT_MAX_OBJECTS 256u
#define MAX_MAX_OBJECTS 4096u
#define EVENT_FIXED_BYTES 24u
#define RECORDS_PER_STREAM_PER_PASS 32u
/* After the first record arrives, poll waits up to this long for a batch to build up,
 * because every poll is a nonblocking FFI call that costs tens of microseconds. */
#define POLL_LINGER_US 2000
#define POLL_BATCH_BYTES (8u * 1024u)

/* ---------------------------------------------------------------------------------
 * Library
 * --------------------------------------------------------------------------------- */

static gpointer init_gstreamer_once(gpointer unused) {
  (void)unused;
  GError *error = NULL;
  if (!gst_init_check(NULL, NULL, &error)) {
    g_clear_error(&error);
    return GINT_TO_POINTER(0);
  }
  GST_DEBUG_CATEGORY_INIT(dsx_pipeline_debug, "dsx-pipeline", 0, "dskafka pipeline API");
  return GINT_TO_POINTER(1);
}

/* Initializes GStreamer once per process. Returns false when it cannot start. */
static bool ensure_gstreamer(void) {
  static GOnce once = G_ONCE_INIT;
  return GPOINTER_TO_INT(g_once(&once, init_gstreamer_once, NULL)) != 0;
}

uint32_t dsx_version(void) {
  return (uint32_t)DSX_VERSION_MAJOR << 16 | (uint32_t)DSX_VERSION_MINOR << 8 |
         (uint32_t)DSX_VERSION_PATCH;
}

uint32_t dsx_record_version(void) { return DSX_RECORD_VERSION; }

static void copy_text(char *buffer, uint32_t capacity, const char *text) {
  if (buffer == NULL || capacity == 0) return;
  g_strlcpy(buffer, text, capacity);
}

int32_t dsx_backend_available(uint32_t backend, char *reason, uint32_t reason_capacity) {
  if (!ensure_gstreamer()) {
    copy_text(reason, reason_capacity, "GStreamer failed to initialize");
    return 0;
  }

  switch (backend) {
    case DSX_BACKEND_CPU:
      return 1;
    case DSX_BACKEND_DEEPSTREAM:
      return dsx_deepstream_available(reason, reason_capacity);
    default:
      copy_text(reason, reason_capacity, "unknown backend number");
      return 0;
  }
}

/* ---------------------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------------------- */

void dsx_set_error(dsx_pipeline *pipeline, const char *format, ...) {
  static GMutex orphan_lock;
  static char orphan_error[DSX_ERROR_TEXT_BYTES];

  GMutex *lock = pipeline != NULL ? &pipeline->error_lock : &orphan_lock;
  char *target = pipeline != NULL ? pipeline->last_error : orphan_error;

  va_list args;
  va_start(args, format);
  g_mutex_lock(lock);
  g_vsnprintf(target, DSX_ERROR_TEXT_BYTES, format, args);
  g_mutex_unlock(lock);
  va_end(args);
}

uint32_t dsx_pipeline_last_error(dsx_pipeline *pipeline, char *buffer, uint32_t capacity) {
  if (pipeline == NULL) {
    copy_text(buffer, capacity, "no pipeline handle (out of memory?)");
    return (uint32_t)strlen("no pipeline handle (out of memory?)");
  }

  g_mutex_lock(&pipeline->error_lock);
  uint32_t length = (uint32_t)strlen(pipeline->last_error);
  copy_text(buffer, capacity, pipeline->last_error);
  g_mutex_unlock(&pipeline->error_lock);
  return length;
}

uint32_t dsx_classify_error(const GError *error) {
  if (error == NULL) return DSX_EVENT_CODE_OTHER;

  if (error->domain == GST_RESOURCE_ERROR) {
    switch (error->code) {
      case GST_RESOURCE_ERROR_NOT_FOUND:
      case GST_RESOURCE_ERROR_OPEN_READ:
      case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
        return DSX_EVENT_CODE_NOT_FOUND;
      default:
        return DSX_EVENT_CODE_OTHER;
    }
  }

  if (error->domain == GST_STREAM_ERROR) {
    switch (error->code) {
      case GST_STREAM_ERROR_TYPE_NOT_FOUND:
      case GST_STREAM_ERROR_WRONG_TYPE:
      case GST_STREAM_ERROR_CODEC_NOT_FOUND:
        return DSX_EVENT_CODE_NOT_VIDEO;
      case GST_STREAM_ERROR_DECODE:
      case GST_STREAM_ERROR_DEMUX:
      case GST_STREAM_ERROR_FORMAT:
      case GST_STREAM_ERROR_FAILED:
        return DSX_EVENT_CODE_DECODE;
      default:
        return DSX_EVENT_CODE_OTHER;
    }
  }

  if (error->domain == GST_CORE_ERROR && error->code == GST_CORE_ERROR_MISSING_PLUGIN) {
    return DSX_EVENT_CODE_NOT_VIDEO;
  }
  return DSX_EVENT_CODE_OTHER;
}

/* ---------------------------------------------------------------------------------
 * Records
 * --------------------------------------------------------------------------------- */

void dsx_write_record_header(uint8_t *record, uint16_t type, uint32_t size) {
  dsx_put_u16(record, type);
  dsx_put_u16(record + 2, DSX_RECORD_VERSION);
  dsx_put_u32(record + 4, size);
}

static uint16_t record_type(const uint8_t *record) {
  return (uint16_t)(record[0] | record[1] << 8);
}

#define DROPPED_BEFORE_OFFSET 44

static uint32_t read_dropped_before(const uint8_t *frame) {
  const uint8_t *p = frame + DROPPED_BEFORE_OFFSET;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t dsx_max_frame_record_bytes(const dsx_pipeline *pipeline) {
  uint64_t objects = DSX_FRAME_HEADER_BYTES + (uint64_t)DSX_OBJECT_BYTES * pipeline->max_objects;
  if (pipeline->backend != DSX_BACKEND_DEEPSTREAM) return objects;

  /* Sections exist only for the deepstream backend: frame sections hold one entry per
   * label or class, object sections a few entries per object. */
  uint64_t section_entries = 8ull * pipeline->max_objects + 1024ull;
  return objects + (uint64_t)DSX_SECTION_HEADER_BYTES * DSX_MAX_SECTIONS +
         (uint64_t)DSX_SECTION_ENTRY_BYTES * section_entries;
}

uint64_t dsx_pipeline_max_record_bytes(const dsx_pipeline *pipeline) {
  if (pipeline == NULL) return 0;

  uint64_t event_bytes = EVENT_FIXED_BYTES + DSX_EVENT_TEXT_MAX + 8u;
  uint64_t frame_bytes = dsx_max_frame_record_bytes(pipeline);
  return frame_bytes > event_bytes ? frame_bytes : event_bytes;
}

/* Checks whether every stream has ended, and if so owes the consumer PIPELINE_END.
 * Lock held. */
static void update_end_locked(dsx_pipeline *pipeline) {
  for (uint32_t i = 0; i < pipeline->stream_count; i++) {
    if (!pipeline->streams[i]->ended) return;
  }
  pipeline->end_queued = true;
}

/* Drops the oldest record of a full ring to make room (DSX_OVERFLOW_DROP_OLDEST). The
 * dropped frame, and the drops it carried, are added to dropped_before of the next
 * frame still queued, or to the next frame pushed when none is queued. Lock held. */
static void drop_oldest_locked(dsx_pipeline *pipeline, dsx_stream *stream) {
  const uint8_t *oldest = NULL;
  size_t size = 0;
  if (!dsx_ring_peek(&stream->ring, &oldest, &size)) return;

  bool was_frame = record_type(oldest) == DSX_RECORD_FRAME;
  uint32_t carried = was_frame ? read_dropped_before(oldest) + 1 : 0;
  dsx_ring_pop(&stream->ring);
  if (!was_frame) return;
  pipeline->stats.frames_dropped++;

  const uint8_t *next = NULL;
  if (dsx_ring_peek(&stream->ring, &next, &size) && record_type(next) == DSX_RECORD_FRAME) {
    dsx_put_u32((uint8_t *)next + DROPPED_BEFORE_OFFSET, read_dropped_before(next) + carried);
  } else {
    stream->dropped_pending += carried;
  }
}

bool dsx_stream_push_record(dsx_pipeline *pipeline, dsx_stream *stream, const uint8_t *record,
                            size_t size, bool is_frame) {
  bool queued = false;

  g_mutex_lock(&pipeline->lock);

  /* A stream that ended with an error, or a pipeline that is stopping, takes no more
   * records: producers must not wait for room that will never come. */
  while (!dsx_ring_fits(&stream->ring, size) && !pipeline->stopping && !stream->ended) {
    if (pipeline->overflow == DSX_OVERFLOW_DROP_OLDEST) {
      drop_oldest_locked(pipeline, stream);
    } else {
      pipeline->stats.producer_waits++;
      g_cond_wait(&pipeline->room_ready, &pipeline->lock);
    }
  }
  if (pipeline->stopping || stream->ended) goto out;

  dsx_ring_push(&stream->ring, record, size);
  queued = true;

  if (is_frame && stream->dropped_pending > 0) {
    /* Drops that found no queued frame to carry them go to the record just queued,
     * which ends at `head`. */
    size_t start = (stream->ring.head + stream->ring.capacity - size) % stream->ring.capacity;
    dsx_put_u32(stream->ring.data + start + DROPPED_BEFORE_OFFSET, stream->dropped_pending);
    stream->dropped_pending = 0;
  }
  if (stream->ring.high_water > pipeline->stats.ring_high_water) {
    pipeline->stats.ring_high_water = stream->ring.high_water;
  }
  g_cond_signal(&pipeline->records_ready);

out:
  g_mutex_unlock(&pipeline->lock);
  return queued;
}

/* Builds an event record. Returns (transfer full) the record and its size. */
static uint8_t *build_event(int32_t stream_id, uint32_t kind, uint32_t code, const char *text,
                            size_t *size_out) {
  size_t length = text != NULL ? strnlen(text, DSX_EVENT_TEXT_MAX) : 0;
  size_t size = (EVENT_FIXED_BYTES + length + 7u) & ~(size_t)7u;

  uint8_t *record = g_malloc0(size);
  dsx_write_record_header(record, DSX_RECORD_EVENT, (uint32_t)size);
  dsx_put_u32(record + 8, (uint32_t)stream_id);
  dsx_put_u32(record + 12, kind);
  dsx_put_u32(record + 16, code);
  dsx_put_u32(record + 20, (uint32_t)length);
  if (length > 0) memcpy(record + EVENT_FIXED_BYTES, text, length);

  *size_out = size;
  return record;
}

void dsx_post_event(dsx_pipeline *pipeline, int32_t stream_id, uint32_t kind, uint32_t code,
                    const char *text) {
  size_t size = 0;
  uint8_t *record = build_event(stream_id, kind, code, text, &size);
  bool known_stream = stream_id >= 0 && (uint32_t)stream_id < pipeline->stream_count;
  bool ordered = known_stream && (kind == DSX_EVENT_STREAM_STARTED || kind == DSX_EVENT_STREAM_EOS);

  if (ordered) {
    dsx_stream_push_record(pipeline, pipeline->streams[stream_id], record, size, false);
    g_free(record);
  }

  g_mutex_lock(&pipeline->lock);

  if (!ordered) g_queue_push_tail(&pipeline->events, record);

  bool ends_stream = kind == DSX_EVENT_STREAM_EOS || kind == DSX_EVENT_ERROR;
  if (known_stream && ends_stream) {
    pipeline->streams[stream_id]->ended = true;
    update_end_locked(pipeline);
  }
  if (stream_id < 0 && kind == DSX_EVENT_ERROR) {
    for (uint32_t i = 0; i < pipeline->stream_count; i++) pipeline->streams[i]->ended = true;
    update_end_locked(pipeline);
  }
  g_cond_signal(&pipeline->records_ready);
  g_cond_broadcast(&pipeline->room_ready);

  g_mutex_unlock(&pipeline->lock);
}

/* ---------------------------------------------------------------------------------
 * Lifecycle
 * --------------------------------------------------------------------------------- */

dsx_pipeline *dsx_pipeline_new(uint32_t backend) {
  dsx_pipeline *pipeline = calloc(1, sizeof *pipeline);
  if (pipeline == NULL) return NULL;

  pipeline->backend = (dsx_backend)backend;
  pipeline->state = DSX_STATE_CONFIGURING;
  pipeline->ring_capacity = DEFAULT_RING_BYTES;
  pipeline->overflow = DSX_OVERFLOW_BLOCK;
  pipeline->max_objects = DEFAULT_MAX_OBJECTS;
  pipeline->detector.size = sizeof pipeline->detector;

  g_mutex_init(&pipeline->lock);
  g_cond_init(&pipeline->records_ready);
  g_cond_init(&pipeline->room_ready);
  g_mutex_init(&pipeline->error_lock);
  g_queue_init(&pipeline->events);
  return pipeline;
}

/* Returns DSX_OK when `pipeline` is valid and still accepts options. */
static int32_t check_configuring(dsx_pipeline *pipeline, const char *function) {
  if (pipeline == NULL) return DSX_ERR_INVALID_ARGUMENT;

  if (pipeline->state != DSX_STATE_CONFIGURING) {
    dsx_set_error(pipeline, "%s: the pipeline has already been started", function);
    return DSX_ERR_INVALID_STATE;
  }
  return DSX_OK;
}

int32_t dsx_pipeline_add_source(dsx_pipeline *pipeline, const char *uri) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_add_source");
  if (status != DSX_OK) return status;

  if (uri == NULL || uri[0] == '\0') {
    dsx_set_error(pipeline, "dsx_pipeline_add_source: the URI is empty");
    return DSX_ERR_INVALID_ARGUMENT;
  }
  if (!g_utf8_validate(uri, -1, NULL)) {
    dsx_set_error(pipeline, "dsx_pipeline_add_source: the URI is not valid UTF-8");
    return DSX_ERR_INVALID_ARGUMENT;
  }
  if (pipeline->stream_count == DSX_MAX_SOURCES) {
    dsx_set_error(pipeline, "dsx_pipeline_add_source: at most %d sources per pipeline",
                  DSX_MAX_SOURCES);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  dsx_stream *stream = g_new0(dsx_stream, 1);
  stream->id = pipeline->stream_count;
  stream->uri = g_strdup(uri);
  pipeline->streams[pipeline->stream_count++] = stream;
  return (int32_t)stream->id;
}

int32_t dsx_pipeline_set_processing_size(dsx_pipeline *pipeline, uint32_t width,
                                         uint32_t height) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_set_processing_size");
  if (status != DSX_OK) return status;

  bool both_or_neither = (width == 0) == (height == 0);
  if (!both_or_neither || width > 16384 || height > 16384 || width % 2 || height % 2) {
    dsx_set_error(pipeline,
                  "processing size %ux%u is invalid: use even values up to 16384, or 0x0 to "
                  "keep each stream's own size",
                  width, height);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  pipeline->processing_width = width;
  pipeline->processing_height = height;
  return DSX_OK;
}

int32_t dsx_pipeline_set_ring(dsx_pipeline *pipeline, uint64_t capacity_bytes,
                              uint32_t overflow) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_set_ring");
  if (status != DSX_OK) return status;

  if (capacity_bytes < MIN_RING_BYTES || capacity_bytes > (1ull << 32)) {
    dsx_set_error(pipeline, "ring capacity %llu bytes is invalid: use 4 KiB to 4 GiB",
                  (unsigned long long)capacity_bytes);
    return DSX_ERR_INVALID_ARGUMENT;
  }
  if (overflow != DSX_OVERFLOW_BLOCK && overflow != DSX_OVERFLOW_DROP_OLDEST) {
    dsx_set_error(pipeline, "overflow policy %u is unknown: use 0 (block) or 1 (drop oldest)",
                  overflow);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  pipeline->ring_capacity = capacity_bytes;
  pipeline->overflow = (dsx_overflow)overflow;
  return DSX_OK;
}

int32_t dsx_pipeline_set_max_objects(dsx_pipeline *pipeline, uint32_t max_objects) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_set_max_objects");
  if (status != DSX_OK) return status;

  if (max_objects == 0 || max_objects > MAX_MAX_OBJECTS) {
    dsx_set_error(pipeline, "max objects per frame %u is invalid: use 1 to %u", max_objects,
                  MAX_MAX_OBJECTS);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  pipeline->max_objects = max_objects;
  return DSX_OK;
}

int32_t dsx_pipeline_set_realtime(dsx_pipeline *pipeline, uint32_t realtime) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_set_realtime");
  if (status != DSX_OK) return status;

  pipeline->realtime = realtime != 0;
  return DSX_OK;
}

int32_t dsx_pipeline_set_detector(dsx_pipeline *pipeline, const dsx_detector_params *params) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_set_detector");
  if (status != DSX_OK) return status;

  memset(&pipeline->detector, 0, sizeof pipeline->detector);
  pipeline->detector.size = sizeof pipeline->detector;
  if (params == NULL) return DSX_OK;

  if (params->size < sizeof(uint32_t) || params->size > sizeof pipeline->detector) {
    dsx_set_error(pipeline, "detector parameters have size %u, expected %zu", params->size,
                  sizeof pipeline->detector);
    return DSX_ERR_INVALID_ARGUMENT;
  }
  memcpy(&pipeline->detector, params, params->size);
  pipeline->detector.size = sizeof pipeline->detector;
  return DSX_OK;
}

int32_t dsx_pipeline_set_path(dsx_pipeline *pipeline, const char *key, const char *value) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_set_path");
  if (status != DSX_OK) return status;
  if (key == NULL || value == NULL) return DSX_ERR_INVALID_ARGUMENT;

  char **slot = NULL;
  if (strcmp(key, "analytics-config") == 0) slot = &pipeline->analytics_config;
  if (strcmp(key, "infer-config") == 0) slot = &pipeline->infer_config;
  if (strcmp(key, "tracker-config") == 0) slot = &pipeline->tracker_config;
  if (strcmp(key, "tracker-library") == 0) slot = &pipeline->tracker_library;
  if (slot == NULL) {
    dsx_set_error(pipeline,
                  "path option \"%s\" is unknown: use analytics-config, infer-config, "
                  "tracker-config or tracker-library",
                  key);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  g_free(*slot);
  *slot = g_strdup(value);
  return DSX_OK;
}

static gpointer bus_thread_main(gpointer data) {
  dsx_pipeline *pipeline = data;

  g_main_context_push_thread_default(pipeline->context);
  g_main_loop_run(pipeline->loop);
  g_main_context_pop_thread_default(pipeline->context);
  return NULL;
}

static gboolean quit_loop(gpointer data) {
  g_main_loop_quit(data);
  return G_SOURCE_REMOVE;
}

/* Quits the bus thread's loop from inside the loop: a g_main_loop_quit from another
 * thread before g_main_loop_run has started would be lost. */
static void request_bus_thread_exit(dsx_pipeline *pipeline) {
  GSource *source = g_idle_source_new();
  g_source_set_callback(source, quit_loop, pipeline->loop, NULL);
  g_source_attach(source, pipeline->context);
  g_source_unref(source);
}

static const dsx_backend_ops *backend_ops(dsx_backend backend) {
  switch (backend) {
    case DSX_BACKEND_CPU:
      return &dsx_backend_cpu_ops;
    case DSX_BACKEND_DEEPSTREAM:
      return dsx_backend_deepstream_ops;
    default:
      return NULL;
  }
}

int32_t dsx_pipeline_start(dsx_pipeline *pipeline) {
  int32_t status = check_configuring(pipeline, "dsx_pipeline_start");
  if (status != DSX_OK) return status;

  if (!ensure_gstreamer()) {
    dsx_set_error(pipeline, "GStreamer failed to initialize");
    return DSX_ERR_UNAVAILABLE;
  }
  if (pipeline->backend != DSX_BACKEND_CPU && pipeline->backend != DSX_BACKEND_DEEPSTREAM) {
    dsx_set_error(pipeline, "backend number %u is unknown", (unsigned)pipeline->backend);
    return DSX_ERR_INVALID_ARGUMENT;
  }
  const dsx_backend_ops *ops = backend_ops(pipeline->backend);
  if (ops == NULL) {
    char reason[256] = "";
    dsx_deepstream_available(reason, sizeof reason);
    dsx_set_error(pipeline, "%s", reason);
    return DSX_ERR_UNAVAILABLE;
  }
  if (pipeline->stream_count == 0) {
    dsx_set_error(pipeline, "no source was added: call dsx_pipeline_add_source first");
    return DSX_ERR_INVALID_ARGUMENT;
  }

  /* Rings: at least twice the largest record, so a record always fits once older
   * ones are consumed. */
  uint64_t capacity = pipeline->ring_capacity;
  uint64_t minimum = 2 * dsx_pipeline_max_record_bytes(pipeline);
  if (capacity < minimum) capacity = minimum;
  for (uint32_t i = 0; i < pipeline->stream_count; i++) {
    if (!dsx_ring_init(&pipeline->streams[i]->ring, (size_t)capacity)) {
      dsx_set_error(pipeline, "out of memory allocating a %llu-byte ring",
                    (unsigned long long)capacity);
      return DSX_ERR_INVALID_ARGUMENT;
    }
  }

  /* Bus thread: started before the backend so that its bus watches run from the
   * first message on. */
  pipeline->context = g_main_context_new();
  pipeline->loop = g_main_loop_new(pipeline->context, FALSE);
  pipeline->bus_thread = g_thread_new("dsx-bus", bus_thread_main, pipeline);
  pipeline->state = DSX_STATE_RUNNING;

  GST_INFO("starting %s backend with %u source(s)", ops->name, pipeline->stream_count);
  status = ops->start(pipeline);
  if (status != DSX_OK) GST_WARNING("start failed: %s", pipeline->last_error);
  return status;
}

int32_t dsx_pipeline_stop(dsx_pipeline *pipeline) {
  if (pipeline == NULL) return DSX_ERR_INVALID_ARGUMENT;
  if (pipeline->state != DSX_STATE_RUNNING) {
    pipeline->state = DSX_STATE_STOPPED;
    g_mutex_lock(&pipeline->lock);
    pipeline->stopping = true;
    pipeline->end_queued = true;
    g_cond_broadcast(&pipeline->records_ready);
    g_mutex_unlock(&pipeline->lock);
    return DSX_OK;
  }

  /* Release producers blocked on a full ring first: the backend's state change to
   * NULL joins the streaming threads, which must not be waiting for room. */
  g_mutex_lock(&pipeline->lock);
  pipeline->stopping = true;
  g_cond_broadcast(&pipeline->room_ready);
  g_mutex_unlock(&pipeline->lock);

  backend_ops(pipeline->backend)->stop(pipeline);

  request_bus_thread_exit(pipeline);
  g_thread_join(pipeline->bus_thread);
  pipeline->bus_thread = NULL;
  pipeline->state = DSX_STATE_STOPPED;

  g_mutex_lock(&pipeline->lock);
  pipeline->end_queued = true;
  g_cond_broadcast(&pipeline->records_ready);
  g_mutex_unlock(&pipeline->lock);
  return DSX_OK;
}

void dsx_pipeline_free(dsx_pipeline *pipeline) {
  if (pipeline == NULL) return;

  dsx_pipeline_stop(pipeline);
  const dsx_backend_ops *ops = backend_ops(pipeline->backend);
  /* Backends free what they own even when start never ran (options set on a pipeline
   * that was never started). */
  if (ops != NULL) ops->free(pipeline);

  for (uint32_t i = 0; i < pipeline->stream_count; i++) {
    dsx_ring_clear(&pipeline->streams[i]->ring);
    g_free(pipeline->streams[i]->uri);
    g_free(pipeline->streams[i]);
  }
  g_queue_clear_full(&pipeline->events, g_free);
  if (pipeline->loop != NULL) g_main_loop_unref(pipeline->loop);
  if (pipeline->context != NULL) g_main_context_unref(pipeline->context);

  g_free(pipeline->analytics_config);
  g_free(pipeline->infer_config);
  g_free(pipeline->tracker_config);
  g_free(pipeline->tracker_library);
  g_mutex_clear(&pipeline->lock);
  g_cond_clear(&pipeline->records_ready);
  g_cond_clear(&pipeline->room_ready);
  g_mutex_clear(&pipeline->error_lock);
  free(pipeline);
}

int32_t dsx_pipeline_stats(dsx_pipeline *pipeline, dsx_stats *stats) {
  if (pipeline == NULL || stats == NULL) return DSX_ERR_INVALID_ARGUMENT;

  g_mutex_lock(&pipeline->lock);
  *stats = pipeline->stats;
  g_mutex_unlock(&pipeline->lock);
  return DSX_OK;
}

/* ---------------------------------------------------------------------------------
 * Poll
 * --------------------------------------------------------------------------------- */

/* Returns true when a poll should copy now rather than wait for a fuller batch: enough
 * bytes are queued, or a ring is half full, so its producer may soon have to wait. Lock
 * held. */
static bool batch_ready_locked(const dsx_pipeline *pipeline) {
  size_t total = 0;
  for (uint32_t i = 0; i < pipeline->stream_count; i++) {
    const dsx_ring *ring = &pipeline->streams[i]->ring;
    if (ring->used >= ring->capacity / 2) return true;
    total += ring->used;
  }
  return total >= POLL_BATCH_BYTES;
}

static bool has_records_locked(const dsx_pipeline *pipeline) {
  if (pipeline->events.length > 0) return true;
  for (uint32_t i = 0; i < pipeline->stream_count; i++) {
    if (!dsx_ring_is_empty(&pipeline->streams[i]->ring)) return true;
  }
  return false;
}

/* Copies up to RECORDS_PER_STREAM_PER_PASS records of one stream. Returns the bytes
 * copied; sets *blocked when the next record does not fit. Lock held. */
static size_t copy_stream_locked(dsx_pipeline *pipeline, dsx_stream *stream, uint8_t *buffer,
                                 size_t capacity, bool *blocked) {
  size_t written = 0;

  for (uint32_t n = 0; n < RECORDS_PER_STREAM_PER_PASS; n++) {
    const uint8_t *record = NULL;
    size_t size = 0;
    if (!dsx_ring_peek(&stream->ring, &record, &size)) break;
    if (size > capacity - written) {
      *blocked = true;
      break;
    }

    memcpy(buffer + written, record, size);
    written += size;
    if (record_type(record) == DSX_RECORD_FRAME) pipeline->stats.frames_delivered++;
    dsx_ring_pop(&stream->ring);
  }
  return written;
}

/* Copies whole records, round-robin over the streams, then queued events, then
 * PIPELINE_END when it is owed. Lock held. */
static size_t copy_records_locked(dsx_pipeline *pipeline, uint8_t *buffer, size_t capacity) {
  size_t written = 0;
  bool progress = true;

  while (progress) {
    progress = false;
    for (uint32_t n = 0; n < pipeline->stream_count; n++) {
      uint32_t index = (pipeline->poll_cursor + n) % pipeline->stream_count;
      bool blocked = false;
      size_t copied = copy_stream_locked(pipeline, pipeline->streams[index], buffer + written,
                                         capacity - written, &blocked);
      written += copied;
      if (copied > 0) progress = true;
    }
    pipeline->poll_cursor = (pipeline->poll_cursor + 1) % pipeline->stream_count;
  }

  while (!g_queue_is_empty(&pipeline->events)) {
    uint8_t *event = g_queue_peek_head(&pipeline->events);
    size_t size = event[4] | (size_t)event[5] << 8 | (size_t)event[6] << 16 |
                  (size_t)event[7] << 24;
    if (size > capacity - written) break;

    memcpy(buffer + written, event, size);
    written += size;
    g_free(g_queue_pop_head(&pipeline->events));
  }

  bool owed = pipeline->end_queued && !pipeline->end_delivered && !has_records_locked(pipeline);
  if (owed && capacity - written >= EVENT_FIXED_BYTES) {
    size_t size = 0;
    uint8_t *end = build_event(-1, DSX_EVENT_PIPELINE_END, DSX_EVENT_CODE_NONE, NULL, &size);
    memcpy(buffer + written, end, size);
    written += size;
    g_free(end);
    pipeline->end_delivered = true;
  }
  return written;
}

int64_t dsx_pipeline_poll(dsx_pipeline *pipeline, uint8_t *buffer, uint64_t capacity,
                          int32_t timeout_ms) {
  if (pipeline == NULL || buffer == NULL) return DSX_ERR_INVALID_ARGUMENT;
  if (capacity < dsx_pipeline_max_record_bytes(pipeline)) {
    dsx_set_error(pipeline, "poll buffer of %llu bytes is smaller than %llu bytes",
                  (unsigned long long)capacity,
                  (unsigned long long)dsx_pipeline_max_record_bytes(pipeline));
    return DSX_ERR_BUFFER_TOO_SMALL;
  }
  if (pipeline->stream_count == 0) return DSX_ERR_ENDED;

  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
  int64_t result = 0;

  g_mutex_lock(&pipeline->lock);

  for (;;) {
    bool end_owed = pipeline->end_queued && !pipeline->end_delivered;
    if (has_records_locked(pipeline) || end_owed) break;
    if (pipeline->end_delivered) {
      result = DSX_ERR_ENDED;
      goto out;
    }
    if (timeout_ms == 0) goto out;

    if (timeout_ms < 0) {
      g_cond_wait(&pipeline->records_ready, &pipeline->lock);
    } else if (!g_cond_wait_until(&pipeline->records_ready, &pipeline->lock, deadline)) {
      timeout_ms = 0; /* look once more, then return 0 */
    }
  }

  /* Linger briefly for a fuller batch, unless the stream is ending or stopping. */
  gint64 linger_deadline = g_get_monotonic_time() + POLL_LINGER_US;
  while (!batch_ready_locked(pipeline) && !pipeline->end_queued &&
         !pipeline->stopping && pipeline->events.length == 0) {
    if (!g_cond_wait_until(&pipeline->records_ready, &pipeline->lock, linger_deadline)) break;
  }

  result = (int64_t)copy_records_locked(pipeline, buffer, (size_t)capacity);
  g_cond_broadcast(&pipeline->room_ready);

out:
  g_mutex_unlock(&pipeline->lock);
  return result;
}
