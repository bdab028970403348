/*
 * internal.h — the pipeline object shared by the common code (pipeline.c) and the
 * backends (backend_cpu.c, backend_deepstream.cpp). Not part of the public ABI.
 *
 * Locking: `lock` guards every ring, the event queue, the per-stream state flags and the
 * counters in `stats`. `records_ready` wakes the poll thread; `room_ready` wakes
 * producers blocked on a full ring. No GStreamer call and no callback runs while `lock`
 * is held.
 */
#ifndef DSX_INTERNAL_H
#define DSX_INTERNAL_H

#include <gst/gst.h>
#include <stdbool.h>
#include <stdint.h>

#include "dskafka.h"
#include "ring.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DSX_MAX_SOURCES 64
#define DSX_ERROR_TEXT_BYTES 1024
#define DSX_EVENT_TEXT_MAX 1000
#define DSX_FRAME_HEADER_BYTES 48u
#define DSX_OBJECT_BYTES 32u
#define DSX_SECTION_HEADER_BYTES 8u
#define DSX_SECTION_ENTRY_BYTES 16u
#define DSX_MAX_SECTIONS 16u

typedef enum {
  DSX_STATE_CONFIGURING = 0,
  DSX_STATE_RUNNING = 1,
  DSX_STATE_STOPPED = 2,
} dsx_state;

typedef struct dsx_stream {
  uint32_t id;
  char *uri;

  /* Guarded by the pipeline lock. */
  dsx_ring ring;
  bool ended;                /* EOS or error: no more records will be produced */
  bool error_reported;       /* the first error of this stream was queued */
  uint64_t frame_number;     /* frames produced so far */
  uint32_t dropped_pending;  /* drops since the last queued frame, for dropped_before */

  /* Owned by the backend. */
  void *backend_data;
} dsx_stream;

struct dsx_pipeline {
  dsx_backend backend;
  dsx_state state;

  /* Options, written before start only. */
  dsx_stream *streams[DSX_MAX_SOURCES];
  uint32_t stream_count;
  uint32_t processing_width, processing_height;
  uint64_t ring_capacity;
  dsx_overflow overflow;
  uint32_t max_objects;
  bool realtime;
  dsx_detector_params detector;
  char *analytics_config, *infer_config, *tracker_config, *tracker_library;

  /* Synchronisation between producers (streaming and bus threads) and the poll thread. */
  GMutex lock;
  GCond records_ready;
  GCond room_ready;
  bool stopping;       /* stop requested: producers stop waiting and drop */
  bool end_queued;     /* every stream ended; PIPELINE_END is owed to the consumer */
  bool end_delivered;  /* PIPELINE_END was copied out */
  GQueue events;       /* (uint8_t *) event records, unbounded: errors and warnings are rare */
  uint32_t poll_cursor; /* next stream to read from, for round-robin fairness */
  dsx_stats stats;

  /* Bus thread: runs `context`'s main loop, where the backend attaches bus watches. */
  GMainContext *context;
  GMainLoop *loop;
  GThread *bus_thread;

  /* Last error, guarded by `error_lock` because any thread may set it. */
  GMutex error_lock;
  char last_error[DSX_ERROR_TEXT_BYTES];

  /* Backend-wide state. */
  void *backend_data;
};

/* Backend operations, called on the control thread. */
typedef struct {
  const char *name;
  int32_t (*start)(dsx_pipeline *pipeline);
  void (*stop)(dsx_pipeline *pipeline);
  void (*free)(dsx_pipeline *pipeline);
} dsx_backend_ops;

extern const dsx_backend_ops dsx_backend_cpu_ops;
/* NULL when the library was built without the DeepStream SDK. */
extern const dsx_backend_ops *const dsx_backend_deepstream_ops;
/* Fills `reason` and returns 0 when the deepstream backend cannot run here. */
int32_t dsx_deepstream_available(char *reason, uint32_t capacity);

/* Formats and stores the pipeline's last error. Any thread. */
void dsx_set_error(dsx_pipeline *pipeline, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Bytes of the largest frame record this pipeline produces. */
uint64_t dsx_max_frame_record_bytes(const dsx_pipeline *pipeline);

/* Queues a finished record of `size` bytes (a multiple of 8) on a stream's ring,
 * applying the overflow policy: blocks while the ring is full (DSX_OVERFLOW_BLOCK) or
 * discards the oldest frame records (DSX_OVERFLOW_DROP_OLDEST). Returns false when the
 * record was discarded because the pipeline is stopping. Streaming or bus thread; takes
 * the pipeline lock; may block. */
bool dsx_stream_push_record(dsx_pipeline *pipeline, dsx_stream *stream, const uint8_t *record,
                            size_t size, bool is_frame);

/* Queues an event record on the pipeline's event queue (errors and warnings) or on the
 * stream's ring (STREAM_STARTED and STREAM_EOS, which must stay in order with frames).
 * Marks the stream ended for STREAM_EOS and ERROR. Any thread except with the lock held. */
void dsx_post_event(dsx_pipeline *pipeline, int32_t stream_id, uint32_t kind, uint32_t code,
                    const char *text);

/* Writes the 8-byte record header. */
void dsx_write_record_header(uint8_t *record, uint16_t type, uint32_t size);

static inline void dsx_put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void dsx_put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void dsx_put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void dsx_put_f32(uint8_t *p, float v) {
  union {
    float f;
    uint32_t u;
  } bits;
  bits.f = v;
  dsx_put_u32(p, bits.u);
}

/* Classifies a GStreamer error into a DSX_EVENT_CODE_* value. */
uint32_t dsx_classify_error(const GError *error);

#ifdef __cplusplus
}
#endif

#endif /* DSX_INTERNAL_H */
