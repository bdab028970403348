/*
 * pipeline_test.c — runs the public C ABI of the shim on real video files, built with
 * ASan and UBSan: the whole record flow, error events, both overflow policies, stop
 * while a producer is blocked, and inputs whose text looks like pipeline syntax.
 *
 * Usage: pipeline_test VIDEO [VIDEO_FRAMES]
 *   VIDEO         a decodable video file path (the tests use car-detection.mp4)
 *   VIDEO_FRAMES  its exact frame count (default 377)
 * Prints "N passed, M failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dskafka.h"

static int passed, failed;

#define CHECK(condition)                                                            \
  do {                                                                              \
    if (condition) {                                                                \
      passed++;                                                                     \
    } else {                                                                        \
      failed++;                                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
    }                                                                               \
  } while (0)

#define POLL_BYTES (4u << 20)

typedef struct {
  uint64_t frames;
  uint64_t eos;
  uint64_t errors;
  uint32_t last_error_code;
  uint64_t ends;
  uint64_t last_frame_number;
  int frame_numbers_in_order; /* each frame number is the previous one + 1 */
  int frame_numbers_increasing;
  uint64_t dropped_sum; /* sum of dropped_before over the frames */
} tally;

static uint32_t u32_at(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64_at(const uint8_t *p) { return (uint64_t)u32_at(p) | (uint64_t)u32_at(p + 4) << 32; }

static void count_records(const uint8_t *buffer, int64_t length, tally *t) {
  for (int64_t offset = 0; offset < length;) {
    const uint8_t *record = buffer + offset;
    uint16_t type = (uint16_t)(record[0] | record[1] << 8);
    uint32_t size = u32_at(record + 4);

    if (type == DSX_RECORD_FRAME) {
      uint64_t number = u64_at(record + 16);
      if (number != t->last_frame_number + 1) t->frame_numbers_in_order = 0;
      if (number <= t->last_frame_number) t->frame_numbers_increasing = 0;
      t->dropped_sum += u32_at(record + 44);
      t->last_frame_number = number;
      t->frames++;
    } else if (type == DSX_RECORD_EVENT) {
      uint32_t kind = u32_at(record + 12);
      if (kind == DSX_EVENT_STREAM_EOS) t->eos++;
      if (kind == DSX_EVENT_PIPELINE_END) t->ends++;
      if (kind == DSX_EVENT_ERROR) {
        t->errors++;
        t->last_error_code = u32_at(record + 16);
      }
    }
    offset += size;
  }
}

/* Polls until DSX_ERR_ENDED; first sleeps `delay_ms` to play a consumer that falls
 * behind, long enough for the decoder to fill a small ring. */
static tally drain(dsx_pipeline *pipeline, uint8_t *buffer, long delay_ms) {
  tally t = {0};
  t.frame_numbers_in_order = 1;
  t.frame_numbers_increasing = 1;
  struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
  if (delay_ms > 0) nanosleep(&pause, NULL);

  for (;;) {
    int64_t n = dsx_pipeline_poll(pipeline, buffer, POLL_BYTES, 1000);
    if (n == DSX_ERR_ENDED) break;
    if (n < 0) {
      fprintf(stderr, "poll failed: %lld\n", (long long)n);
      break;
    }
    count_records(buffer, n, &t);
  }
  return t;
}

static void test_whole_video(const char *video, uint64_t expected_frames, uint8_t *buffer) {
  dsx_pipeline *pipeline = dsx_pipeline_new(DSX_BACKEND_CPU);
  CHECK(dsx_pipeline_add_source(pipeline, video) == 0);
  CHECK(dsx_pipeline_start(pipeline) == DSX_OK);

  tally t = drain(pipeline, buffer, 0);
  CHECK(t.frames == expected_frames);
  CHECK(t.eos == 1);
  CHECK(t.errors == 0);
  CHECK(t.ends == 1);
  CHECK(t.frame_numbers_in_order);

  dsx_stats stats;
  CHECK(dsx_pipeline_stats(pipeline, &stats) == DSX_OK);
  CHECK(stats.frames_decoded == expected_frames);
  CHECK(stats.frames_delivered == expected_frames);
  CHECK(stats.frames_dropped == 0);
  CHECK(dsx_pipeline_poll(pipeline, buffer, POLL_BYTES, 0) == DSX_ERR_ENDED);
  dsx_pipeline_free(pipeline);
}

static void test_error_event(const char *uri, uint32_t expected_code, uint8_t *buffer) {
  dsx_pipeline *pipeline = dsx_pipeline_new(DSX_BACKEND_CPU);
  CHECK(dsx_pipeline_add_source(pipeline, uri) == 0);
  CHECK(dsx_pipeline_start(pipeline) == DSX_OK);

  tally t = drain(pipeline, buffer, 0);
  CHECK(t.frames == 0);
  CHECK(t.errors == 1);
  CHECK(t.last_error_code == expected_code);
  CHECK(t.ends == 1);
  if (t.last_error_code != expected_code) {
    fprintf(stderr, "  input %s: error code %u, expected %u\n", uri, t.last_error_code, expected_code);
  }
  dsx_pipeline_free(pipeline);
}

static void test_drop_oldest_counts_every_frame(const char *video, uint64_t expected_frames,
                                                uint8_t *buffer) {
  dsx_pipeline *pipeline = dsx_pipeline_new(DSX_BACKEND_CPU);
  CHECK(dsx_pipeline_add_source(pipeline, video) == 0);
  CHECK(dsx_pipeline_set_ring(pipeline, 4096, DSX_OVERFLOW_DROP_OLDEST) == DSX_OK);
  CHECK(dsx_pipeline_set_max_objects(pipeline, 1) == DSX_OK);
  CHECK(dsx_pipeline_start(pipeline) == DSX_OK);

  /* The ring holds a few dozen records; in 1.5 s the decoder produces hundreds. */
  tally t = drain(pipeline, buffer, 1500);
  dsx_stats stats;
  dsx_pipeline_stats(pipeline, &stats);
  CHECK(stats.frames_dropped > 0);
  CHECK(t.frames + stats.frames_dropped == expected_frames);
  CHECK(t.frame_numbers_increasing);
  CHECK(t.dropped_sum == stats.frames_dropped);
  CHECK(t.eos == 1);
  dsx_pipeline_free(pipeline);
}

static void test_block_loses_nothing(const char *video, uint64_t expected_frames, uint8_t *buffer) {
  dsx_pipeline *pipeline = dsx_pipeline_new(DSX_BACKEND_CPU);
  CHECK(dsx_pipeline_add_source(pipeline, video) == 0);
  CHECK(dsx_pipeline_set_ring(pipeline, 4096, DSX_OVERFLOW_BLOCK) == DSX_OK);
  CHECK(dsx_pipeline_set_max_objects(pipeline, 1) == DSX_OK);
  CHECK(dsx_pipeline_start(pipeline) == DSX_OK);

  tally t = drain(pipeline, buffer, 1500);
  dsx_stats stats;
  dsx_pipeline_stats(pipeline, &stats);
  CHECK(stats.frames_dropped == 0);
  CHECK(t.frames == expected_frames);
  CHECK(t.frame_numbers_in_order);
  CHECK(stats.producer_waits > 0);
  dsx_pipeline_free(pipeline);
}

static void test_stop_while_producer_blocked(const char *video, uint8_t *buffer) {
  dsx_pipeline *pipeline = dsx_pipeline_new(DSX_BACKEND_CPU);
  CHECK(dsx_pipeline_add_source(pipeline, video) == 0);
  CHECK(dsx_pipeline_set_ring(pipeline, 4096, DSX_OVERFLOW_BLOCK) == DSX_OK);
  CHECK(dsx_pipeline_set_max_objects(pipeline, 1) == DSX_OK);
  CHECK(dsx_pipeline_start(pipeline) == DSX_OK);

  struct timespec pause = {0, 300 * 1000 * 1000};
  nanosleep(&pause, NULL); /* the ring fills and the producer blocks */
  CHECK(dsx_pipeline_stop(pipeline) == DSX_OK);

  tally t = drain(pipeline, buffer, 0);
  CHECK(t.ends == 1);
  CHECK(dsx_pipeline_stop(pipeline) == DSX_OK); /* twice is fine */
  dsx_pipeline_free(pipeline);
}

static void test_invalid_arguments(void) {
  char message[256];
  dsx_pipeline *pipeline = dsx_pipeline_new(DSX_BACKEND_CPU);
  CHECK(dsx_pipeline_add_source(pipeline, "") == DSX_ERR_INVALID_ARGUMENT);
  CHECK(dsx_pipeline_add_source(NULL, "x") == DSX_ERR_INVALID_ARGUMENT);
  CHECK(dsx_pipeline_set_ring(pipeline, 10, DSX_OVERFLOW_BLOCK) == DSX_ERR_INVALID_ARGUMENT);
  CHECK(dsx_pipeline_last_error(pipeline, message, sizeof message) > 0);
  CHECK(strstr(message, "ring capacity 10 bytes") != NULL);
  CHECK(dsx_pipeline_set_ring(pipeline, 1 << 20, 7) == DSX_ERR_INVALID_ARGUMENT);
  CHECK(dsx_pipeline_set_max_objects(pipeline, 0) == DSX_ERR_INVALID_ARGUMENT);
  CHECK(dsx_pipeline_set_processing_size(pipeline, 641, 360) == DSX_ERR_INVALID_ARGUMENT);
  CHECK(dsx_pipeline_set_path(pipeline, "unknown", "/x") == DSX_ERR_INVALID_ARGUMENT);
  CHECK(dsx_pipeline_start(pipeline) == DSX_ERR_INVALID_ARGUMENT); /* no source */
  dsx_pipeline_free(pipeline);

  dsx_pipeline *deepstream = dsx_pipeline_new(DSX_BACKEND_DEEPSTREAM);
  CHECK(dsx_pipeline_add_source(deepstream, "/nonexistent.mp4") == 0);
  if (!dsx_backend_available(DSX_BACKEND_DEEPSTREAM, message, sizeof message)) {
    CHECK(strstr(message, "DeepStream SDK not found") != NULL);
    CHECK(dsx_pipeline_start(deepstream) == DSX_ERR_UNAVAILABLE);
  }
  dsx_pipeline_free(deepstream);
  dsx_pipeline_free(NULL);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s VIDEO [VIDEO_FRAMES]\n", argv[0]);
    return 2;
  }
  const char *video = argv[1];
  uint64_t frames = argc > 2 ? strtoull(argv[2], NULL, 10) : 377;
  uint8_t *buffer = malloc(POLL_BYTES);

  CHECK(dsx_version() >> 16 == DSX_VERSION_MAJOR);
  CHECK(dsx_record_version() == DSX_RECORD_VERSION);

  test_invalid_arguments();
  test_whole_video(video, frames, buffer);
  test_error_event("/nonexistent/video.mp4", DSX_EVENT_CODE_NOT_FOUND, buffer);
  test_error_event("foo://camera/1", DSX_EVENT_CODE_UNSUPPORTED, buffer);
  /* Pipeline syntax in a path is a file name, never elements. */
  test_error_event("/tmp/a ! fakesink name=x.mp4", DSX_EVENT_CODE_NOT_FOUND, buffer);
  test_error_event("/etc/hostname", DSX_EVENT_CODE_NOT_VIDEO, buffer);
  test_drop_oldest_counts_every_frame(video, frames, buffer);
  test_block_loses_nothing(video, frames, buffer);
  test_stop_while_producer_blocked(video, buffer);

  free(buffer);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
