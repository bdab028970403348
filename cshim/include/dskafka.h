/*
 * dskafka.h — the C ABI of the dskafka shim.
 *
 * The shim runs a video-analytics pipeline (GStreamer on the CPU, or DeepStream on a
 * GPU) on threads it owns and hands per-frame results to the caller as binary records.
 * The caller is TypeScript through Deno.dlopen, so this header uses only fixed-width
 * integers, floats, `const char *` UTF-8 strings, caller-owned buffers and one opaque
 * handle: no GLib, GStreamer or DeepStream types.
 *
 * Lifecycle of a pipeline:
 *
 *   dsx_pipeline_new → dsx_pipeline_add_source (once per input) → dsx_pipeline_set_*
 *   → dsx_pipeline_start → dsx_pipeline_poll (repeatedly) → dsx_pipeline_stop
 *   → dsx_pipeline_free
 *
 * Threads: the configuring calls, start, stop and free must come from one thread at a
 * time (the "control thread"). dsx_pipeline_poll may run on another thread (Deno runs a
 * `nonblocking` call on a worker thread) while the control thread calls
 * dsx_pipeline_stop or dsx_pipeline_stats, but never at the same time as
 * dsx_pipeline_free: the caller waits for an in-flight poll to return before freeing.
 * The shim never calls back into the caller.
 *
 * Errors: functions that can fail return a negative dsx_status and store a one-line
 * message that dsx_pipeline_last_error copies out. dsx_pipeline_new returns NULL only
 * when memory is exhausted.
 */
#ifndef DSKAFKA_H
#define DSKAFKA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DSX_API __attribute__((visibility("default")))
#else
#define DSX_API
#endif

/* Version of this ABI: major << 16 | minor << 8 | patch. A caller refuses a library
 * whose major differs from the one it was written for. */
#define DSX_VERSION_MAJOR 1
#define DSX_VERSION_MINOR 1
#define DSX_VERSION_PATCH 0

/* Version of the record layout described below; bumped on any layout change. */
#define DSX_RECORD_VERSION 1

/* Status codes. Every negative value is an error; the message is in last_error. */
typedef enum {
  DSX_OK = 0,
  DSX_ERR_INVALID_ARGUMENT = -1, /* a NULL handle, an out-of-range value */
  DSX_ERR_INVALID_STATE = -2,    /* e.g. a setter after start, start twice */
  DSX_ERR_UNAVAILABLE = -3,      /* backend or GStreamer element not installed */
  DSX_ERR_PIPELINE = -4,         /* GStreamer refused to build or start the pipeline */
  DSX_ERR_BUFFER_TOO_SMALL = -5, /* poll buffer smaller than dsx_pipeline_max_record_bytes */
  DSX_ERR_ENDED = -6,            /* poll: the pipeline ended and every record was read */
} dsx_status;

/* Pipeline backends. */
typedef enum {
  DSX_BACKEND_CPU = 0,        /* decode, scale to GRAY8, motion detection in the shim */
  DSX_BACKEND_DEEPSTREAM = 1, /* nvstreammux → nvinfer → nvtracker → nvdsanalytics */
} dsx_backend;

/* What the producer does when a stream's ring is full. */
typedef enum {
  /* Block the streaming thread until the consumer makes room: no frame is lost. The
   * default, right for files. */
  DSX_OVERFLOW_BLOCK = 0,
  /* Discard the oldest records to make room and count them: right for live sources,
   * where blocking would make the source drop data upstream anyway. */
  DSX_OVERFLOW_DROP_OLDEST = 1,
} dsx_overflow;

/* Parameters of the CPU motion detector. Pass with `size` = sizeof(dsx_detector_params)
 * so that a later, larger struct stays compatible. Zero in a field means "default". */
typedef struct {
  uint32_t size;
  /* Minimum absolute difference, in gray levels (0–255), between the background and the
   * frame for foreground. The detector compares means of 4x4-pixel cells, not single
   * pixels. Default 25. */
  uint32_t threshold;
  /* Minimum area of a connected component, in pixels of the processing frame. Default 150. */
  uint32_t min_area;
  /* Radius in pixels of the morphological opening and closing, rounded up to whole
   * 4-pixel cells, so the default acts as 4 pixels. Default 1. */
  uint32_t morph_radius;
  /* Seconds of stillness after which a foreground object is absorbed into the
   * background. Default 60. */
  float absorb_seconds;
  /* Time constant, in seconds, of the background model's adaptation to background
   * pixels (lighting drift). Default 5. */
  float adapt_seconds;
} dsx_detector_params;

/* Counters of one pipeline, filled by dsx_pipeline_stats. All fields are totals since
 * start, summed over every stream. */
typedef struct {
  uint64_t frames_decoded;   /* frames that reached the probe / appsink */
  uint64_t frames_delivered; /* frame records copied out by poll */
  uint64_t frames_dropped;   /* frame records discarded by DSX_OVERFLOW_DROP_OLDEST */
  uint64_t objects_truncated; /* objects past max_objects_per_frame, left out of records */
  uint64_t ring_high_water;  /* largest number of bytes ever queued in one ring */
  uint64_t producer_waits;   /* times a producer blocked on a full ring */
} dsx_stats;

typedef struct dsx_pipeline dsx_pipeline;

/* ---------------------------------------------------------------------------------
 * Record layout (DSX_RECORD_VERSION 1)
 *
 * dsx_pipeline_poll fills the caller's buffer with whole records, back to back. All
 * integers are little endian; every record starts at an 8-byte aligned offset and its
 * size is a multiple of 8.
 *
 * Record header (8 bytes):
 *   u16 type        DSX_RECORD_*
 *   u16 version     DSX_RECORD_VERSION
 *   u32 size        bytes of the whole record, header included
 *
 * DSX_RECORD_FRAME (type 1), after the header:
 *   u32 stream_id       0-based input index
 *   u32 object_count
 *   u64 frame_number    1-based per stream
 *   u64 pts_ns          presentation time relative to the stream's first frame
 *   u32 width, height   processing frame size in pixels
 *   u32 section_count   analytics sections that follow the objects (deepstream only)
 *   u32 dropped_before  frames of this stream that the overflow policy discarded
 *                       between the previous delivered frame and this one
 *   objects[object_count], 32 bytes each:
 *     u64 track_id      DSX_UNTRACKED when no tracker assigned one
 *     i32 class_id
 *     f32 confidence
 *     f32 left, top, width, height   pixels of the processing frame
 *   sections[section_count]:
 *     u16 tag           DSX_SECTION_*
 *     u16 reserved
 *     u32 entry_count
 *     entries[entry_count], 16 bytes each: u32 a, u32 b, u64 value
 *       frame sections (a = label id, b = 0):  LC_CURRENT, LC_CUMULATIVE, ROI_COUNT,
 *         OVERCROWDING (value 0 or 1); OBJECT_COUNT has a = class id.
 *       object sections (a = object index, b = label id): OBJECT_ROI, OBJECT_LC,
 *         OBJECT_OVERCROWDING, OBJECT_DIRECTION (value unused);
 *         OBJECT_STATUS_TEXT has a = object index, b = label id of an interned string
 *         holding the raw objStatus text.
 *
 * DSX_RECORD_LABEL (type 2): interns a string once per pipeline, before the first
 * record that uses its id.
 *   u32 label_id
 *   u32 length          bytes of UTF-8 text, no terminator, then padding to 8
 *
 * DSX_RECORD_EVENT (type 3): a stream or pipeline event from the GStreamer bus.
 *   i32 stream_id       -1 when the event is about the whole pipeline
 *   u32 kind            DSX_EVENT_*
 *   u32 code            DSX_EVENT_CODE_* classifying an error
 *   u32 length          bytes of UTF-8 message text that follow, then padding to 8
 * --------------------------------------------------------------------------------- */

#define DSX_UNTRACKED UINT64_MAX

enum {
  DSX_RECORD_FRAME = 1,
  DSX_RECORD_LABEL = 2,
  DSX_RECORD_EVENT = 3,
};

enum {
  DSX_SECTION_LC_CURRENT = 1,
  DSX_SECTION_LC_CUMULATIVE = 2,
  DSX_SECTION_ROI_COUNT = 3,
  DSX_SECTION_OVERCROWDING = 4,
  DSX_SECTION_OBJECT_COUNT = 5,
  DSX_SECTION_OBJECT_ROI = 6,
  DSX_SECTION_OBJECT_LC = 7,
  DSX_SECTION_OBJECT_OVERCROWDING = 8,
  DSX_SECTION_OBJECT_DIRECTION = 9,
  DSX_SECTION_OBJECT_STATUS_TEXT = 10,
};

enum {
  DSX_EVENT_STREAM_STARTED = 1, /* the stream negotiated caps; text = "WIDTHxHEIGHT@FPS" */
  DSX_EVENT_STREAM_EOS = 2,     /* the stream reached its end; no more frames follow */
  DSX_EVENT_ERROR = 3,          /* fatal for the stream (or pipeline, stream_id -1) */
  DSX_EVENT_WARNING = 4,        /* logged, not fatal */
  DSX_EVENT_PIPELINE_END = 5,   /* last record: every stream ended or the pipeline stopped */
  /* Since 1.1. A live stream (rtsp://, rtsps://) lost its source and is not ended: the
   * shim reconnects after a delay. `code` classifies the failure, and the text is
   * "ATTEMPT DELAY_MS REASON": the attempt counted from 1 per outage, the delay in
   * milliseconds, then GStreamer's message. */
  DSX_EVENT_STREAM_RECONNECTING = 6,
  /* Since 1.1. Frames flow again after a reconnect. Text: "WIDTHxHEIGHT@FPS". */
  DSX_EVENT_STREAM_RECONNECTED = 7,
  /* Since 1.1. A looped file (dsx_pipeline_set_loop) reached its end and restarts from
   * its beginning. Text: the number of completed passes, in decimal. */
  DSX_EVENT_STREAM_LOOPED = 8,
};

enum {
  DSX_EVENT_CODE_NONE = 0,
  DSX_EVENT_CODE_NOT_FOUND = 1,     /* the file or URI does not exist */
  DSX_EVENT_CODE_UNSUPPORTED = 2,   /* no element handles this URI scheme */
  DSX_EVENT_CODE_NOT_VIDEO = 3,     /* the input has no video stream, or is not media */
  DSX_EVENT_CODE_DECODE = 4,        /* corrupt or truncated data */
  DSX_EVENT_CODE_OTHER = 5,
};

/* ---------------------------------------------------------------------------------
 * Library
 * --------------------------------------------------------------------------------- */

/* Returns DSX_VERSION_MAJOR << 16 | DSX_VERSION_MINOR << 8 | DSX_VERSION_PATCH of the
 * loaded library. Any thread; never blocks. */
DSX_API uint32_t dsx_version(void);

/* Returns DSX_RECORD_VERSION of the loaded library. Any thread; never blocks. */
DSX_API uint32_t dsx_record_version(void);

/* Returns 1 when the backend can run on this host (for the deepstream backend: the
 * library was built with the SDK and its GStreamer plugins load), 0 otherwise. When 0
 * and `reason` is not NULL, copies a one-line reason, NUL-terminated and truncated to
 * `reason_capacity` bytes. Initializes GStreamer on first use. Control thread; may
 * block while GStreamer scans its plugins. */
DSX_API int32_t dsx_backend_available(uint32_t backend, char *reason, uint32_t reason_capacity);

/* ---------------------------------------------------------------------------------
 * Pipeline
 * --------------------------------------------------------------------------------- */

/* Creates an unconfigured pipeline for `backend` (a dsx_backend value).
 * Returns: (transfer full) a handle that the caller releases with dsx_pipeline_free;
 * NULL only when memory is exhausted. An unknown backend still returns a handle, and
 * dsx_pipeline_start then fails with DSX_ERR_INVALID_ARGUMENT.
 * Control thread; never blocks. */
DSX_API dsx_pipeline *dsx_pipeline_new(uint32_t backend);

/* Adds an input. `uri` is a URI (file://, rtsp://, http://…) or an absolute or relative
 * file path, UTF-8, NUL-terminated; the shim copies it (transfer none). The stream id is
 * the number of sources added before. The text is only ever set as a property value, so
 * characters such as `!`, quotes or `name=value` cannot add elements to the pipeline.
 * Returns the stream id (>= 0) or a negative dsx_status. Before start; control thread. */
DSX_API int32_t dsx_pipeline_add_source(dsx_pipeline *pipeline, const char *uri);

/* Sets the processing frame size. 0 x 0 (the default) keeps each stream's own size for
 * the CPU backend; the deepstream backend needs a size for nvstreammux and defaults to
 * 1920 x 1080. Before start; control thread. */
DSX_API int32_t dsx_pipeline_set_processing_size(dsx_pipeline *pipeline, uint32_t width,
                                                 uint32_t height);

/* Sets the ring capacity per stream in bytes (default 4 MiB, minimum 4 KiB; raised to
 * twice the largest record when smaller) and the
 * overflow policy (a dsx_overflow value). Before start; control thread. */
DSX_API int32_t dsx_pipeline_set_ring(dsx_pipeline *pipeline, uint64_t capacity_bytes,
                                      uint32_t overflow);

/* Sets the maximum number of objects written per frame record (default 256, maximum
 * 4096). Extra objects are left out and counted in dsx_stats.objects_truncated.
 * Before start; control thread. */
DSX_API int32_t dsx_pipeline_set_max_objects(dsx_pipeline *pipeline, uint32_t max_objects);

/* When `realtime` is 1, sources are played at their own frame rate, as a live camera
 * delivers them; 0 (the default) processes them as fast as possible. Before start;
 * control thread. */
DSX_API int32_t dsx_pipeline_set_realtime(dsx_pipeline *pipeline, uint32_t realtime);

/* Copies the motion detector parameters (CPU backend). `params` is read during the call
 * only (transfer none) and may be NULL to restore the defaults. Before start; control
 * thread. */
DSX_API int32_t dsx_pipeline_set_detector(dsx_pipeline *pipeline,
                                          const dsx_detector_params *params);

/* Sets a file path option of the deepstream backend: `key` is one of
 * "analytics-config", "infer-config", "tracker-config", "tracker-library". The value is
 * copied. Other backends accept and ignore these keys. Before start; control thread. */
DSX_API int32_t dsx_pipeline_set_path(dsx_pipeline *pipeline, const char *key,
                                      const char *value);

/* ---------------------------------------------------------------------------------
 * nvmsgbroker branch of the deepstream backend (since 1.1)
 *
 * With the branch, the pipeline itself publishes the analytics messages:
 *
 *   nvdsanalytics ─(probe: counts → message)─► tee ─► queue ─► fakesink
 *                                                └──► queue ─► [nvmsgconv] ─► nvmsgbroker
 *
 * The probe aggregates each stream's counts per device as the TypeScript side does (same
 * emission policy, lc_curr since the device's previous message) and attaches the JSON,
 * byte-identical to what the TypeScript Kafka sink sends, to the frame: as
 * NVDS_PAYLOAD_META, which nvmsgbroker sends as is, or, with DSX_MSGBROKER_CUSTOM_BLOB,
 * as NVDS_CUSTOM_MSG_BLOB for nvmsgconv's msg2p-newapi. Each message also gets an
 * NVDS_EVENT_MSG_META with sensorStr = the device id. Frame records still reach
 * dsx_pipeline_poll as without the branch. Without the SDK these functions return
 * DSX_ERR_UNAVAILABLE.
 * --------------------------------------------------------------------------------- */

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


/* Builds the pipeline and sets it to PLAYING. Returns DSX_OK, or a negative status with
 * the reason in last_error (a missing element, an invalid option). Errors found only
 * while the stream runs (a missing file, a corrupt video) arrive later as
 * DSX_RECORD_EVENT records. Control thread; blocks while the pipeline changes state. */
DSX_API int32_t dsx_pipeline_start(dsx_pipeline *pipeline);

/* Copies whole records into `buffer` (caller-owned, `capacity` bytes, written only during
 * the call), waiting up to `timeout_ms` milliseconds (0 = do not wait, negative = wait
 * without limit) for the first record. Returns the number of bytes written (0 when
 * the timeout passed with nothing to read), DSX_ERR_ENDED once the pipeline has ended
 * and every record was read, or another negative status. `capacity` must be at least
 * dsx_pipeline_max_record_bytes. Poll thread (one at a time); blocks up to timeout_ms. */
DSX_API int64_t dsx_pipeline_poll(dsx_pipeline *pipeline, uint8_t *buffer, uint64_t capacity,
                                  int32_t timeout_ms);

/* Returns the size in bytes of the largest record this pipeline can produce, so the
 * caller can size its poll buffer. Any thread; never blocks. */
DSX_API uint64_t dsx_pipeline_max_record_bytes(const dsx_pipeline *pipeline);

/* Stops the pipeline: sets it to NULL state, wakes a waiting poll, and queues a
 * DSX_EVENT_PIPELINE_END after the records already queued, which poll still returns.
 * Safe to call twice and before start. Control thread; blocks while GStreamer stops
 * its streaming threads. */
DSX_API int32_t dsx_pipeline_stop(dsx_pipeline *pipeline);

/* Fills `stats` (caller-owned, written during the call only). Any thread; never blocks
 * for long. */
DSX_API int32_t dsx_pipeline_stats(dsx_pipeline *pipeline, dsx_stats *stats);

/* Copies the last error message of this pipeline, NUL-terminated and truncated to
 * `capacity` bytes, into `buffer`. Returns the full length of the message (0 when there
 * is none). `pipeline` may be NULL for errors of dsx_pipeline_new. Any thread. */
DSX_API uint32_t dsx_pipeline_last_error(dsx_pipeline *pipeline, char *buffer, uint32_t capacity);

/* Stops the pipeline if needed and releases it with everything it owns. The caller must
 * not use `pipeline` afterwards and must not have a poll in flight. NULL is a no-op.
 * Control thread; blocks like dsx_pipeline_stop. */
DSX_API void dsx_pipeline_free(dsx_pipeline *pipeline);

/* ---------------------------------------------------------------------------------
 * Snapshot: one decoded frame of an input, for drawing the analytics config on it
 * --------------------------------------------------------------------------------- */

/* What dsx_snapshot_rgba found, filled by the call. */
typedef struct {
  uint32_t width;      /* frame width in pixels, also set with DSX_ERR_BUFFER_TOO_SMALL */
  uint32_t height;     /* frame height in pixels, also set with DSX_ERR_BUFFER_TOO_SMALL */
  uint64_t pts_ns;     /* stream time of the frame in nanoseconds; after a seek into the
                        * middle of a frame, the seek position (GStreamer clips the frame) */
  uint32_t error_code; /* DSX_EVENT_CODE_* classifying a failure; DSX_EVENT_CODE_NONE on success */
  uint32_t reserved;   /* 0 */
} dsx_snapshot_info;

/* Decodes one frame of `uri` (a URI or a file path, UTF-8, NUL-terminated, read during
 * the call only) and copies it into `buffer` as RGBA, 4 bytes per pixel, rows packed
 * without padding: width * height * 4 bytes.
 *
 * Files are paused and sought accurately to `seconds` (>= 0), and the frame on display at
 * that time (the last one starting at or before it) is copied; 0 takes the first frame
 * without seeking, so still images work too. A live source (RTSP) is played and the first frame at least `seconds` after its
 * first frame is copied. `timeout_ms` bounds the whole call (0 = 30000).
 *
 * `buffer` (caller-owned, `capacity` bytes, written during the call only) may be NULL
 * with `capacity` 0 to learn the size. `info` (caller-owned, required) is always
 * written. On failure, a one-line reason is copied NUL-terminated and truncated to
 * `error_capacity` bytes into `error` (caller-owned, may be NULL).
 *
 * Returns DSX_OK; DSX_ERR_BUFFER_TOO_SMALL with info->width and info->height set, so the
 * caller can retry with width * height * 4 bytes (the input is decoded again);
 * DSX_ERR_INVALID_ARGUMENT for a NULL argument, a negative time or a time past the end
 * of a file; DSX_ERR_UNAVAILABLE for an unsupported URI scheme or a missing GStreamer
 * element; DSX_ERR_PIPELINE when the input cannot be opened or decoded, or the timeout
 * passed, with info->error_code saying which.
 *
 * Independent of any dsx_pipeline: any thread, and calls may run concurrently. Blocks
 * while it opens, decodes and seeks the input, up to the timeout. */
DSX_API int32_t dsx_snapshot_rgba(const char *uri, double seconds, uint32_t timeout_ms,
                                  uint8_t *buffer, uint64_t capacity, dsx_snapshot_info *info,
                                  char *error, uint32_t error_capacity);

/* ---------------------------------------------------------------------------------
 * Live sources (since 1.1)
 *
 * Frame numbers and the pts of frame records keep increasing across a loop or a
 * reconnect: after a loop the pts continues one frame duration after the last frame of
 * the previous pass, after a reconnect it continues by the wall-clock time of the gap.
 * Both functions are implemented by the cpu backend; other backends return
 * DSX_ERR_UNAVAILABLE.
 * --------------------------------------------------------------------------------- */

/* When `loop` is 1, a file or http(s) stream that reaches its end seeks back to its start
 * and posts DSX_EVENT_STREAM_LOOPED instead of DSX_EVENT_STREAM_EOS, so it runs until
 * dsx_pipeline_stop. Live streams ignore it. 0 (the default) ends streams at their end.
 * Before start; control thread. */
DSX_API int32_t dsx_pipeline_set_loop(dsx_pipeline *pipeline, uint32_t loop);

/* Sets the wait before reconnecting a live stream (rtsp://, rtsps://) that failed or
 * ended after it delivered frames: `initial_delay_ms` before the first attempt, doubled
 * after each failed attempt up to `max_delay_ms`, and reset once frames flow again.
 * Attempts never stop while the pipeline runs. A live stream that fails before its first
 * frame ends with DSX_EVENT_ERROR, as a file does. Defaults: 1000 and 30000 ms; valid:
 * 1 <= initial_delay_ms <= max_delay_ms <= 3600000. Before start; control thread. */
DSX_API int32_t dsx_pipeline_set_reconnect(dsx_pipeline *pipeline, uint32_t initial_delay_ms,
                                           uint32_t max_delay_ms);

/* ---------------------------------------------------------------------------------
 * Annotated video: an H.264 MP4 writer for RGBA frames, and a frame-by-frame reader
 * that decodes an input into RGBA, for drawing a run's results on its input
 *
 * Both are independent of any dsx_pipeline. One writer or reader is used by one thread
 * at a time; different writers and readers may run concurrently.
 * --------------------------------------------------------------------------------- */

/* An MP4 file being written: appsrc (RGBA) → videoconvert → I420 → x264enc (speed-preset
 * ultrafast; openh264enc when x264enc is not installed) → h264parse → mp4mux → filesink.
 * The video is 4:2:0 (H.264 High profile or lower), which common players decode. */
typedef struct dsx_video_writer dsx_video_writer;

/* Creates the file at `path` (UTF-8, NUL-terminated, read during the call only; replaced
 * when it exists) and starts the encoder for `width` x `height` frames (even, 2–16384) at
 * `fps_num`/`fps_den` frames per second (both 1–INT32_MAX).
 *
 * Returns (caller owns) a writer to release with dsx_video_writer_close, or NULL with a
 * one-line reason copied NUL-terminated and truncated to `error_capacity` bytes into
 * `error` (caller-owned, may be NULL): an invalid argument, a missing GStreamer element
 * (x264enc and openh264enc both missing, or mp4mux), or a file that cannot be opened.
 * Any thread; blocks only for the GStreamer state change. */
DSX_API dsx_video_writer *dsx_video_writer_new(const char *path, uint32_t width,
                                               uint32_t height, uint32_t fps_num,
                                               uint32_t fps_den, char *error,
                                               uint32_t error_capacity);

/* Copies one frame of width * height * 4 bytes of packed RGBA (`rgba`, caller-owned, read
 * during the call only) into the encoder's queue, with presentation time `pts_ns`
 * (nanoseconds, increasing from frame to frame). Returns DSX_OK; DSX_ERR_INVALID_ARGUMENT
 * for a NULL argument or a `size` that is not width * height * 4; DSX_ERR_PIPELINE when
 * encoding or writing failed. dsx_video_writer_last_error copies the reason.
 * The writer's thread; blocks while 4 frames wait to be encoded. */
DSX_API int32_t dsx_video_writer_push(dsx_video_writer *writer, const uint8_t *rgba,
                                      uint64_t size, uint64_t pts_ns);

/* Copies the reason of the writer's last failed push, NUL-terminated and truncated to
 * `error_capacity` bytes, into `error` (caller-owned); "" when none failed. Returns
 * DSX_OK, or DSX_ERR_INVALID_ARGUMENT for a NULL argument. The writer's thread; never
 * blocks. */
DSX_API int32_t dsx_video_writer_last_error(const dsx_video_writer *writer, char *error,
                                            uint32_t error_capacity);

/* Ends the stream, waits until mp4mux has written the file's index (up to 60 s), stops
 * the pipeline and frees the writer, which must not be used again. The file plays only
 * after a close that returned DSX_OK. Returns DSX_OK; DSX_ERR_INVALID_ARGUMENT for NULL;
 * DSX_ERR_PIPELINE when encoding failed or end-of-stream did not arrive in time (the
 * GStreamer log of category dsx-video-writer has the reason). The writer's thread;
 * blocks until the encoder has drained. */
DSX_API int32_t dsx_video_writer_close(dsx_video_writer *writer);

/* An input decoded frame by frame: uridecodebin → videoconvert → RGBA → appsink. */
typedef struct dsx_frame_reader dsx_frame_reader;

/* Opens `uri` (a URI or a file path, UTF-8, NUL-terminated, read during the call only)
 * and starts decoding its first video stream. Decoding runs ahead of the caller by at
 * most 4 frames. Returns (caller owns) a reader to release with dsx_frame_reader_free,
 * or NULL with the reason in `error` (as dsx_video_writer_new) for an invalid argument or
 * a missing GStreamer element. An input that cannot be opened or decoded is reported by
 * the first dsx_frame_reader_next. Any thread; blocks only for the state change. */
DSX_API dsx_frame_reader *dsx_frame_reader_new(const char *uri, char *error,
                                               uint32_t error_capacity);

/* Copies the next frame into `buffer` (caller-owned, `capacity` bytes, written during the
 * call only) as packed RGBA, width * height * 4 bytes, and sets `*width`, `*height` and
 * `*pts_ns` (stream time in nanoseconds). Returns DSX_OK; DSX_ERR_BUFFER_TOO_SMALL with
 * the size set, and the frame kept for the next call, which should pass width * height
 * * 4 bytes; DSX_ERR_ENDED after the last frame; DSX_ERR_PIPELINE when the input could
 * not be opened or decoded, or no frame came within 30 s; DSX_ERR_INVALID_ARGUMENT for a
 * NULL argument. dsx_frame_reader_last_error copies the reason. The reader's thread;
 * blocks until a frame is decoded. */
DSX_API int32_t dsx_frame_reader_next(dsx_frame_reader *reader, uint8_t *buffer,
                                      uint64_t capacity, uint32_t *width, uint32_t *height,
                                      uint64_t *pts_ns);

/* Copies the reason of the reader's last failure, as dsx_video_writer_last_error. */
DSX_API int32_t dsx_frame_reader_last_error(const dsx_frame_reader *reader, char *error,
                                            uint32_t error_capacity);

/* Stops decoding and frees the reader (NULL is ignored). The reader's thread; blocks
 * only for the state change. */
DSX_API void dsx_frame_reader_free(dsx_frame_reader *reader);

#ifdef __cplusplus
}
#endif

#endif /* DSKAFKA_H */
