/**
 * The `Deno.dlopen` symbol table of the dskafka shim (`cshim/include/dskafka.h`).
 *
 * Each entry carries the C prototype it binds. `dsx_pipeline_poll` (which waits on a
 * condition variable), `dsx_snapshot_rgba` and `dsx_frame_reader_next` (which decode a
 * video) and `dsx_video_writer_close` (which waits for the encoder to drain) are
 * `nonblocking`: Deno runs them on a worker thread and returns a Promise. Every other call
 * returns at once or blocks only for a GStreamer state change, except
 * `dsx_video_writer_push`, which blocks while 4 frames wait for the encoder.
 *
 * @module
 */

/** The shim's exported functions, as Deno's FFI declares them. */
export const SYMBOLS = {
  // uint32_t dsx_version(void);
  dsx_version: { parameters: [], result: "u32" },
  // uint32_t dsx_record_version(void);
  dsx_record_version: { parameters: [], result: "u32" },
  // int32_t dsx_backend_available(uint32_t backend, char *reason, uint32_t reason_capacity);
  dsx_backend_available: { parameters: ["u32", "buffer", "u32"], result: "i32" },

  // dsx_pipeline *dsx_pipeline_new(uint32_t backend);
  dsx_pipeline_new: { parameters: ["u32"], result: "pointer" },
  // int32_t dsx_pipeline_add_source(dsx_pipeline *pipeline, const char *uri);
  dsx_pipeline_add_source: { parameters: ["pointer", "buffer"], result: "i32" },
  // int32_t dsx_pipeline_set_processing_size(dsx_pipeline *pipeline, uint32_t width, uint32_t height);
  dsx_pipeline_set_processing_size: { parameters: ["pointer", "u32", "u32"], result: "i32" },
  // int32_t dsx_pipeline_set_ring(dsx_pipeline *pipeline, uint64_t capacity_bytes, uint32_t overflow);
  dsx_pipeline_set_ring: { parameters: ["pointer", "u64", "u32"], result: "i32" },
  // int32_t dsx_pipeline_set_max_objects(dsx_pipeline *pipeline, uint32_t max_objects);
  dsx_pipeline_set_max_objects: { parameters: ["pointer", "u32"], result: "i32" },
  // int32_t dsx_pipeline_set_realtime(dsx_pipeline *pipeline, uint32_t realtime);
  dsx_pipeline_set_realtime: { parameters: ["pointer", "u32"], result: "i32" },
  // int32_t dsx_pipeline_set_detector(dsx_pipeline *pipeline, const dsx_detector_params *params);
  dsx_pipeline_set_detector: { parameters: ["pointer", "buffer"], result: "i32" },
  // int32_t dsx_pipeline_set_path(dsx_pipeline *pipeline, const char *key, const char *value);
  dsx_pipeline_set_path: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  // int32_t dsx_pipeline_start(dsx_pipeline *pipeline);
  dsx_pipeline_start: { parameters: ["pointer"], result: "i32" },
  // int64_t dsx_pipeline_poll(dsx_pipeline *pipeline, uint8_t *buffer, uint64_t capacity, int32_t timeout_ms);
  dsx_pipeline_poll: {
    parameters: ["pointer", "buffer", "u64", "i32"],
    result: "i64",
    nonblocking: true,
  },
  // uint64_t dsx_pipeline_max_record_bytes(const dsx_pipeline *pipeline);
  dsx_pipeline_max_record_bytes: { parameters: ["pointer"], result: "u64" },
  // int32_t dsx_pipeline_stop(dsx_pipeline *pipeline);
  dsx_pipeline_stop: { parameters: ["pointer"], result: "i32" },
  // int32_t dsx_pipeline_stats(dsx_pipeline *pipeline, dsx_stats *stats);
  dsx_pipeline_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  // uint32_t dsx_pipeline_last_error(dsx_pipeline *pipeline, char *buffer, uint32_t capacity);
  dsx_pipeline_last_error: { parameters: ["pointer", "buffer", "u32"], result: "u32" },
  // void dsx_pipeline_free(dsx_pipeline *pipeline);
  dsx_pipeline_free: { parameters: ["pointer"], result: "void" },

  // Since ABI 1.1:
  // int32_t dsx_pipeline_set_loop(dsx_pipeline *pipeline, uint32_t loop);
  dsx_pipeline_set_loop: { parameters: ["pointer", "u32"], result: "i32" },
  // int32_t dsx_pipeline_set_reconnect(dsx_pipeline *pipeline, uint32_t initial_delay_ms,
  //                                    uint32_t max_delay_ms);
  dsx_pipeline_set_reconnect: { parameters: ["pointer", "u32", "u32"], result: "i32" },
  // int32_t dsx_pipeline_set_msgbroker(dsx_pipeline *pipeline, const char *proto_lib,
  //     const char *conn_str, const char *topic, const char *broker_config,
  //     const char *msgconv_config, uint32_t flags);
  dsx_pipeline_set_msgbroker: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer", "buffer", "u32"],
    result: "i32",
  },
  // int32_t dsx_pipeline_set_device(dsx_pipeline *pipeline, uint32_t stream_id,
  //                                 const char *device_id, const char *session_key);
  dsx_pipeline_set_device: { parameters: ["pointer", "u32", "buffer", "buffer"], result: "i32" },
  // int32_t dsx_pipeline_set_emit(dsx_pipeline *pipeline, uint32_t kind, uint64_t value);
  dsx_pipeline_set_emit: { parameters: ["pointer", "u32", "u64"], result: "i32" },

  // int32_t dsx_snapshot_rgba(const char *uri, double seconds, uint32_t timeout_ms, uint8_t *buffer,
  //                           uint64_t capacity, dsx_snapshot_info *info, char *error, uint32_t error_capacity);
  // nonblocking: it decodes and seeks the input, which takes up to timeout_ms.
  dsx_snapshot_rgba: {
    parameters: ["buffer", "f64", "u32", "buffer", "u64", "buffer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },

  // dsx_video_writer *dsx_video_writer_new(const char *path, uint32_t width, uint32_t height,
  //                                        uint32_t fps_num, uint32_t fps_den, char *error, uint32_t error_capacity);
  dsx_video_writer_new: {
    parameters: ["buffer", "u32", "u32", "u32", "u32", "buffer", "u32"],
    result: "pointer",
  },
  // int32_t dsx_video_writer_push(dsx_video_writer *writer, const uint8_t *rgba, uint64_t size, uint64_t pts_ns);
  dsx_video_writer_push: { parameters: ["pointer", "buffer", "u64", "u64"], result: "i32" },
  // int32_t dsx_video_writer_last_error(const dsx_video_writer *writer, char *error, uint32_t error_capacity);
  dsx_video_writer_last_error: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // int32_t dsx_video_writer_close(dsx_video_writer *writer);
  // nonblocking: it waits until the encoder has drained and mp4mux has written its index.
  dsx_video_writer_close: { parameters: ["pointer"], result: "i32", nonblocking: true },

  // dsx_frame_reader *dsx_frame_reader_new(const char *uri, char *error, uint32_t error_capacity);
  dsx_frame_reader_new: { parameters: ["buffer", "buffer", "u32"], result: "pointer" },
  // int32_t dsx_frame_reader_next(dsx_frame_reader *reader, uint8_t *buffer, uint64_t capacity,
  //                               uint32_t *width, uint32_t *height, uint64_t *pts_ns);
  // nonblocking: it waits until the next frame is decoded.
  dsx_frame_reader_next: {
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  // int32_t dsx_frame_reader_last_error(const dsx_frame_reader *reader, char *error, uint32_t error_capacity);
  dsx_frame_reader_last_error: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  // void dsx_frame_reader_free(dsx_frame_reader *reader);
  dsx_frame_reader_free: { parameters: ["pointer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded library's symbols. */
export type ShimSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The ABI major version this code was written for (`DSX_VERSION_MAJOR`). */
export const EXPECTED_VERSION_MAJOR = 1;

/** The record layout version this code decodes (`DSX_RECORD_VERSION`). */
export const EXPECTED_RECORD_VERSION = 1;
