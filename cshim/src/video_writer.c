/*
 * video_writer.c — dsx_video_writer encodes RGBA frames into an H.264 MP4 file, and
 * dsx_frame_reader decodes an input frame by frame into RGBA, for `dskafka --annotate`.
 *
 * Writer pipeline (dsx_video_writer_new builds it, element by element):
 *
 *   appsrc (RGBA, format=time) ► videoconvert ► capsfilter (I420) ► x264enc | openh264enc
 *     ► h264parse ► mp4mux ► filesink
 *
 * The I420 capsfilter keeps x264enc from choosing a 4:4:4 profile for RGBA input, which
 * many players (browsers among them) cannot decode. 4:2:0 is also why sizes must be even.
 *
 * Reader pipeline (dsx_frame_reader_new builds it, element by element):
 *
 *   uridecodebin ──video──► videoconvert ► capsfilter (RGBA) ► appsink
 *        │
 *        └─────other──► (left unlinked)
 *
 * Threads:
 *   - the caller's thread builds, pushes, pulls and closes. A writer or a reader belongs to
 *     one caller at a time; different writers and readers are independent.
 *   - GStreamer streaming threads encode, decode and write. The reader's on_pad_added runs
 *     on a decodebin streaming thread, and `video_linked` is the only field it shares with
 *     the caller, read and written atomically.
 *
 * Invariants: mp4mux writes its index (moov) only at end-of-stream, so a file is complete
 * only after dsx_video_writer_close saw EOS on the bus. appsrc blocks a push while its
 * queue holds max-bytes, so a fast caller cannot queue an unbounded number of frames.
 */
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "decoded_video.h"
#include "internal.h"

GST_DEBUG_CATEGORY_STATIC(dsx_video_writer_debug);
#define GST_CAT_DEFAULT dsx_video_writer_debug

/* Bound of the wait for end-of-stream in dsx_video_writer_close. */
#define CLOSE_TIMEOUT_MS 60000u
/* Bound of the wait for one decoded frame in dsx_frame_reader_next. */
#define READ_TIMEOUT_MS 30000u
/* Frames appsrc queues before a push blocks. */
#define QUEUED_FRAMES 4u
#define LAST_ERROR_CAPACITY 512

struct dsx_video_writer {
  GstElement *pipeline;
  GstElement *appsrc;
  uint32_t width;
  uint32_t height;
  GstClockTime frame_duration; /* from the frame rate, for each buffer's duration */
  uint64_t frames;             /* frames pushed */
  char last_error[LAST_ERROR_CAPACITY];
};

struct dsx_frame_reader {
  GstElement *pipeline;
  GstElement *convert; /* the element the decoded video pad links to */
  GstElement *appsink;
  GstSample *pending;  /* a frame that did not fit the caller's buffer; owned */
  gint video_linked;   /* atomic: set once the video pad is linked */
  bool ended;
  char last_error[LAST_ERROR_CAPACITY];
};

static gpointer init_once(gpointer unused) {
  (void)unused;
  GError *error = NULL;
  if (!gst_init_check(NULL, NULL, &error)) {
    g_clear_error(&error);
    return GINT_TO_POINTER(0);
  }
  GST_DEBUG_CATEGORY_INIT(dsx_video_writer_debug, "dsx-video-writer", 0,
                          "dskafka annotated video writer and frame reader");
  return GINT_TO_POINTER(1);
}

static bool ensure_initialized(void) {
  static GOnce once = G_ONCE_INIT;
  return GPOINTER_TO_INT(g_once(&once, init_once, NULL)) != 0;
}

/* Formats a message into `buffer` (may be NULL) and returns `status`. */
static int32_t fail(char *buffer, uint32_t capacity, int32_t status, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

static int32_t fail(char *buffer, uint32_t capacity, int32_t status, const char *format, ...) {
  if (buffer != NULL && capacity > 0) {
    va_list args;
    va_start(args, format);
    g_vsnprintf(buffer, capacity, format, args);
    va_end(args);
  }
  return status;
}

static void copy_text(char *buffer, uint32_t capacity, const char *text) {
  if (buffer != NULL && capacity > 0) g_strlcpy(buffer, text, capacity);
}

/* Pops the first error message from `bus` without waiting. Returns DSX_OK when there is
 * none, else DSX_ERR_PIPELINE with the message in `buffer`. */
static int32_t pop_error(GstBus *bus, char *buffer, uint32_t capacity) {
  GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (message == NULL) return DSX_OK;

  GError *error = NULL;
  gchar *debug = NULL;
  gst_message_parse_error(message, &error, &debug);
  GST_WARNING("error from %s: %s (%s)", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
              error->message, debug != NULL ? debug : "no details");
  int32_t status = fail(buffer, capacity, DSX_ERR_PIPELINE, "%s: %s",
                        GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message);
  g_clear_error(&error);
  g_free(debug);
  gst_message_unref(message);
  return status;
}

/* Returns (transfer full) the URI for a URI or file path, or NULL with `error` filled. */
static gchar *input_uri(const char *input, char *error_text, uint32_t capacity) {
  if (gst_uri_is_valid(input)) return g_strdup(input);

  GError *error = NULL;
  gchar *uri = gst_filename_to_uri(input, &error);
  if (uri == NULL) {
    fail(error_text, capacity, DSX_ERR_INVALID_ARGUMENT, "\"%s\" is neither a URI nor a file path: %s",
         input, error->message);
    g_clear_error(&error);
  }
  return uri;
}

/* Sinks and unrefs each non-NULL floating element of `elements`. */
static void drop_elements(GstElement **elements, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (elements[i] != NULL) gst_object_unref(gst_object_ref_sink(elements[i]));
  }
}

/* ---------------------------------------------------------------------------------
 * Writer
 * --------------------------------------------------------------------------------- */

/* Returns (floating) the H.264 encoder: x264enc at speed-preset ultrafast, else
 * openh264enc, else NULL. */
static GstElement *make_encoder(void) {
  GstElement *encoder = gst_element_factory_make("x264enc", "encode");
  if (encoder != NULL) {
    gst_util_set_object_arg(G_OBJECT(encoder), "speed-preset", "ultrafast");
    return encoder;
  }
  GST_INFO("x264enc is not installed: using openh264enc");
  return gst_element_factory_make("openh264enc", "encode");
}

/* Builds the writer pipeline of the design note into `writer`. Returns DSX_OK, or a
 * negative status with `error` filled and nothing left to release. */
static int32_t build_writer(struct dsx_video_writer *writer, const char *path, uint32_t fps_num,
                            uint32_t fps_den, char *error, uint32_t error_capacity) {
  GstElement *pipeline = gst_pipeline_new("dsx-video-writer");
  GstElement *elements[] = {
      gst_element_factory_make("appsrc", "frames"),
      gst_element_factory_make("videoconvert", "convert"),
      gst_element_factory_make("capsfilter", "i420-caps"),
      make_encoder(),
      gst_element_factory_make("h264parse", "parse"),
      gst_element_factory_make("mp4mux", "mux"),
      gst_element_factory_make("filesink", "file"),
  };
  static const char *const names[] = {"appsrc", "videoconvert", "capsfilter",
                                      "x264enc or openh264enc",
                                      "h264parse", "mp4mux", "filesink"};
  const size_t count = G_N_ELEMENTS(elements);

  for (size_t i = 0; i < count; i++) {
    if (elements[i] == NULL) {
      drop_elements(elements, count);
      gst_object_unref(pipeline);
      return fail(error, error_capacity, DSX_ERR_UNAVAILABLE,
                  "GStreamer element \"%s\" is not installed: install the GStreamer good, bad "
                  "and ugly plugins",
                  names[i]);
    }
  }

  GstCaps *caps = gst_caps_new_simple(
      "video/x-raw", "format", G_TYPE_STRING, "RGBA", "width", G_TYPE_INT, (gint)writer->width,
      "height", G_TYPE_INT, (gint)writer->height, "framerate", GST_TYPE_FRACTION, (gint)fps_num,
      (gint)fps_den, NULL);
  g_object_set(elements[0], "caps", caps, "format", GST_FORMAT_TIME, "is-live", FALSE, "block",
               TRUE, "max-bytes", (guint64)writer->width * writer->height * 4u * QUEUED_FRAMES,
               NULL);
  gst_caps_unref(caps);
  GstCaps *i420 = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", NULL);
  g_object_set(elements[2], "caps", i420, NULL);
  gst_caps_unref(i420);
  /* The path is only ever a property value, never parsed as pipeline syntax. */
  g_object_set(elements[6], "location", path, "sync", FALSE, NULL);

  for (size_t i = 0; i < count; i++) gst_bin_add(GST_BIN(pipeline), elements[i]);

  for (size_t i = 0; i + 1 < count; i++) {
    if (!gst_element_link(elements[i], elements[i + 1])) {
      gst_object_unref(pipeline);
      return fail(error, error_capacity, DSX_ERR_PIPELINE, "linking %s to %s failed",
                  names[i], names[i + 1]);
    }
  }

  writer->pipeline = pipeline;
  writer->appsrc = elements[0];
  return DSX_OK;
}

dsx_video_writer *dsx_video_writer_new(const char *path, uint32_t width, uint32_t height,
                                       uint32_t fps_num, uint32_t fps_den, char *error,
                                       uint32_t error_capacity) {
  copy_text(error, error_capacity, "");
  if (path == NULL || path[0] == '\0') {
    fail(error, error_capacity, DSX_ERR_INVALID_ARGUMENT, "the output path is NULL or empty");
    return NULL;
  }
  if (width == 0 || height == 0 || width > 16384 || height > 16384 || width % 2 != 0 ||
      height % 2 != 0) {
    fail(error, error_capacity, DSX_ERR_INVALID_ARGUMENT,
         "the frame size %ux%u is invalid: use even sizes from 2 to 16384", width, height);
    return NULL;
  }
  if (fps_num == 0 || fps_den == 0 || fps_num > INT32_MAX || fps_den > INT32_MAX) {
    fail(error, error_capacity, DSX_ERR_INVALID_ARGUMENT,
         "the frame rate %u/%u is invalid: use a positive fraction", fps_num, fps_den);
    return NULL;
  }
  if (!ensure_initialized()) {
    fail(error, error_capacity, DSX_ERR_UNAVAILABLE, "GStreamer failed to initialize");
    return NULL;
  }

  struct dsx_video_writer *writer = calloc(1, sizeof *writer);
  if (writer == NULL) {
    fail(error, error_capacity, DSX_ERR_UNAVAILABLE, "out of memory");
    return NULL;
  }
  writer->width = width;
  writer->height = height;
  writer->frame_duration = gst_util_uint64_scale_int(GST_SECOND, (gint)fps_den, (gint)fps_num);

  if (build_writer(writer, path, fps_num, fps_den, error, error_capacity) != DSX_OK) {
    free(writer);
    return NULL;
  }

  /* A failed start (the file cannot be opened) posts its reason on the bus. */
  GstBus *bus = gst_element_get_bus(writer->pipeline);
  if (gst_element_set_state(writer->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    if (pop_error(bus, error, error_capacity) == DSX_OK) {
      fail(error, error_capacity, DSX_ERR_PIPELINE, "the writer pipeline for \"%s\" did not start",
           path);
    }
    gst_object_unref(bus);
    if (gst_element_set_state(writer->pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
      GST_WARNING_OBJECT(writer->pipeline, "setting the pipeline to NULL failed");
    }
    gst_object_unref(writer->pipeline);
    free(writer);
    return NULL;
  }
  gst_object_unref(bus);

  GST_INFO_OBJECT(writer->pipeline, "writing %ux%u at %u/%u fps to %s", width, height, fps_num,
                  fps_den, path);
  return writer;
}

int32_t dsx_video_writer_push(dsx_video_writer *writer, const uint8_t *rgba, uint64_t size,
                              uint64_t pts_ns) {
  if (writer == NULL || rgba == NULL) return DSX_ERR_INVALID_ARGUMENT;
  uint64_t frame_bytes = (uint64_t)writer->width * writer->height * 4u;
  if (size != frame_bytes) {
    return fail(writer->last_error, LAST_ERROR_CAPACITY, DSX_ERR_INVALID_ARGUMENT,
                "the frame has %" G_GUINT64_FORMAT " bytes, a %ux%u RGBA frame has %"
                G_GUINT64_FORMAT, size, writer->width, writer->height, frame_bytes);
  }

  GstBus *bus = gst_element_get_bus(writer->pipeline);
  int32_t status = pop_error(bus, writer->last_error, LAST_ERROR_CAPACITY);
  gst_object_unref(bus);
  if (status != DSX_OK) return status;

  GstBuffer *buffer = gst_buffer_new_allocate(NULL, (gsize)size, NULL);
  if (buffer == NULL) {
    return fail(writer->last_error, LAST_ERROR_CAPACITY, DSX_ERR_UNAVAILABLE,
                "allocating a %" G_GUINT64_FORMAT "-byte buffer failed", size);
  }
  gsize copied = gst_buffer_fill(buffer, 0, rgba, (gsize)size);
  if (copied != (gsize)size) {
    gst_buffer_unref(buffer);
    return fail(writer->last_error, LAST_ERROR_CAPACITY, DSX_ERR_PIPELINE,
                "copying the frame into a GStreamer buffer failed");
  }
  GST_BUFFER_PTS(buffer) = pts_ns;
  GST_BUFFER_DURATION(buffer) = writer->frame_duration;

  /* Takes ownership of the buffer; blocks while the queue is full. */
  GstFlowReturn flow = gst_app_src_push_buffer(GST_APP_SRC(writer->appsrc), buffer);
  if (flow != GST_FLOW_OK) {
    return fail(writer->last_error, LAST_ERROR_CAPACITY, DSX_ERR_PIPELINE,
                "the encoder rejected frame %" G_GUINT64_FORMAT ": %s", writer->frames,
                gst_flow_get_name(flow));
  }
  writer->frames++;
  return DSX_OK;
}

int32_t dsx_video_writer_last_error(const dsx_video_writer *writer, char *error,
                                    uint32_t error_capacity) {
  if (writer == NULL || error == NULL || error_capacity == 0) return DSX_ERR_INVALID_ARGUMENT;
  copy_text(error, error_capacity, writer->last_error);
  return DSX_OK;
}

/* Waits on `bus` for end-of-stream or an error until `deadline` (monotonic
 * microseconds). */
static int32_t wait_for_eos(GstElement *pipeline, GstBus *bus, gint64 deadline) {
  for (;;) {
    gint64 remaining = deadline - g_get_monotonic_time();
    if (remaining <= 0) {
      GST_WARNING_OBJECT(pipeline, "timed out waiting for end-of-stream");
      return DSX_ERR_PIPELINE;
    }
    GstMessage *message = gst_bus_timed_pop_filtered(
        bus, (GstClockTime)remaining * GST_USECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (message == NULL) continue; /* the deadline check above ends the loop */

    bool eos = GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS;
    if (!eos) {
      GError *error = NULL;
      gst_message_parse_error(message, &error, NULL);
      GST_WARNING_OBJECT(pipeline, "error before end-of-stream from %s: %s",
                         GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message);
      g_clear_error(&error);
    }
    gst_message_unref(message);
    return eos ? DSX_OK : DSX_ERR_PIPELINE;
  }
}

int32_t dsx_video_writer_close(dsx_video_writer *writer) {
  if (writer == NULL) return DSX_ERR_INVALID_ARGUMENT;

  int32_t status = DSX_OK;
  GstBus *bus = gst_element_get_bus(writer->pipeline);
  GstFlowReturn flow = gst_app_src_end_of_stream(GST_APP_SRC(writer->appsrc));
  if (flow != GST_FLOW_OK) {
    GST_WARNING_OBJECT(writer->pipeline, "end-of-stream was rejected: %s",
                       gst_flow_get_name(flow));
    status = DSX_ERR_PIPELINE;
    goto out;
  }
  status = wait_for_eos(writer->pipeline, bus,
                        g_get_monotonic_time() + (gint64)CLOSE_TIMEOUT_MS * 1000);
  GST_INFO_OBJECT(writer->pipeline, "closed after %" G_GUINT64_FORMAT " frames: %s",
                  writer->frames, status == DSX_OK ? "complete" : "incomplete");

out:
  if (gst_element_set_state(writer->pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
    GST_WARNING_OBJECT(writer->pipeline, "setting the pipeline to NULL failed");
    status = DSX_ERR_PIPELINE;
  }
  gst_object_unref(bus);
  gst_object_unref(writer->pipeline);
  free(writer);
  return status;
}

/* ---------------------------------------------------------------------------------
 * Reader: streaming threads
 * --------------------------------------------------------------------------------- */

static void post_reader_error(struct dsx_frame_reader *reader, gint code, const char *text) {
  GError *error = g_error_new_literal(GST_STREAM_ERROR, code, text);
  GstMessage *message = gst_message_new_error(GST_OBJECT(reader->pipeline), error, NULL);
  gst_element_post_message(reader->pipeline, message);
  g_error_free(error);
}

static void on_reader_pad_added(GstElement *decodebin, GstPad *pad, gpointer data) {
  struct dsx_frame_reader *reader = data;
  (void)decodebin;

  if (!dsx_link_decoded_video(reader->pipeline, pad, reader->convert, &reader->video_linked)) {
    post_reader_error(reader, GST_STREAM_ERROR_FAILED, "the decoded video could not be linked");
  }
}

static void on_reader_no_more_pads(GstElement *decodebin, gpointer data) {
  struct dsx_frame_reader *reader = data;
  (void)decodebin;

  if (!g_atomic_int_get(&reader->video_linked)) {
    post_reader_error(reader, GST_STREAM_ERROR_WRONG_TYPE, "the input has no video stream");
  }
}

/* ---------------------------------------------------------------------------------
 * Reader: caller's thread
 * --------------------------------------------------------------------------------- */

/* Builds the reader pipeline of the design note into `reader`. Returns DSX_OK, or a
 * negative status with `error` filled and nothing left to release. */
static int32_t build_reader(struct dsx_frame_reader *reader, const gchar *uri, char *error,
                            uint32_t error_capacity) {
  GstElement *pipeline = gst_pipeline_new("dsx-frame-reader");
  GstElement *elements[] = {
      gst_element_factory_make("uridecodebin", "source"),
      gst_element_factory_make("videoconvert", "convert"),
      gst_element_factory_make("capsfilter", "rgba-caps"),
      gst_element_factory_make("appsink", "frames"),
  };
  static const char *const names[] = {"uridecodebin", "videoconvert", "capsfilter", "appsink"};
  const size_t count = G_N_ELEMENTS(elements);

  for (size_t i = 0; i < count; i++) {
    if (elements[i] == NULL) {
      drop_elements(elements, count);
      gst_object_unref(pipeline);
      return fail(error, error_capacity, DSX_ERR_UNAVAILABLE,
                  "GStreamer element \"%s\" is not installed: install the GStreamer base plugins",
                  names[i]);
    }
  }

  GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "RGBA", NULL);
  g_object_set(elements[2], "caps", caps, NULL);
  gst_caps_unref(caps);
  /* The URI is only ever a property value, never parsed as pipeline syntax. */
  g_object_set(elements[0], "uri", uri, NULL);
  /* Not synchronised to the clock, and decoding waits while QUEUED_FRAMES frames are
   * unread, so every frame reaches the caller and memory stays bounded. */
  g_object_set(elements[3], "sync", FALSE, "max-buffers", QUEUED_FRAMES, "drop", FALSE,
               "emit-signals", FALSE, NULL);

  for (size_t i = 0; i < count; i++) gst_bin_add(GST_BIN(pipeline), elements[i]);

  if (!gst_element_link_many(elements[1], elements[2], elements[3], NULL)) {
    gst_object_unref(pipeline);
    return fail(error, error_capacity, DSX_ERR_PIPELINE,
                "linking videoconvert ! capsfilter ! appsink failed");
  }

  reader->pipeline = pipeline;
  reader->convert = elements[1];
  reader->appsink = elements[3];
  g_signal_connect(elements[0], "pad-added", G_CALLBACK(on_reader_pad_added), reader);
  g_signal_connect(elements[0], "no-more-pads", G_CALLBACK(on_reader_no_more_pads), reader);
  return DSX_OK;
}

dsx_frame_reader *dsx_frame_reader_new(const char *uri, char *error, uint32_t error_capacity) {
  copy_text(error, error_capacity, "");
  if (uri == NULL || uri[0] == '\0') {
    fail(error, error_capacity, DSX_ERR_INVALID_ARGUMENT, "the input URI is NULL or empty");
    return NULL;
  }
  if (!ensure_initialized()) {
    fail(error, error_capacity, DSX_ERR_UNAVAILABLE, "GStreamer failed to initialize");
    return NULL;
  }

  gchar *full_uri = input_uri(uri, error, error_capacity);
  if (full_uri == NULL) return NULL;

  struct dsx_frame_reader *reader = calloc(1, sizeof *reader);
  if (reader == NULL) {
    g_free(full_uri);
    fail(error, error_capacity, DSX_ERR_UNAVAILABLE, "out of memory");
    return NULL;
  }
  int32_t status = build_reader(reader, full_uri, error, error_capacity);
  g_free(full_uri);
  if (status != DSX_OK) {
    free(reader);
    return NULL;
  }

  /* A failed start posts its reason on the bus, which dsx_frame_reader_next reports. */
  GstStateChangeReturn changed = gst_element_set_state(reader->pipeline, GST_STATE_PLAYING);
  GST_DEBUG_OBJECT(reader->pipeline, "PLAYING state change returned %s",
                   gst_element_state_change_return_get_name(changed));
  return reader;
}

/* Copies a sample's frame into `buffer` as packed RGBA, or returns
 * DSX_ERR_BUFFER_TOO_SMALL with the size set. Does not take ownership of `sample`. */
static int32_t copy_sample(struct dsx_frame_reader *reader, GstSample *sample, uint8_t *buffer,
                           uint64_t capacity, uint32_t *width, uint32_t *height,
                           uint64_t *pts_ns) {
  GstVideoInfo video;
  if (!gst_video_info_from_caps(&video, gst_sample_get_caps(sample))) {
    return fail(reader->last_error, LAST_ERROR_CAPACITY, DSX_ERR_PIPELINE,
                "the decoded frame has no video caps");
  }
  *width = (uint32_t)GST_VIDEO_INFO_WIDTH(&video);
  *height = (uint32_t)GST_VIDEO_INFO_HEIGHT(&video);
  uint64_t row_bytes = (uint64_t)*width * 4u;

  GstBuffer *frame_buffer = gst_sample_get_buffer(sample);
  GstSegment *segment = gst_sample_get_segment(sample);
  GstClockTime pts = GST_BUFFER_PTS(frame_buffer);
  GstClockTime stream_time = segment != NULL && GST_CLOCK_TIME_IS_VALID(pts)
                                 ? gst_segment_to_stream_time(segment, GST_FORMAT_TIME, pts)
                                 : GST_CLOCK_TIME_NONE;
  *pts_ns = GST_CLOCK_TIME_IS_VALID(stream_time) ? stream_time : 0;

  if (capacity < row_bytes * *height) {
    return fail(reader->last_error, LAST_ERROR_CAPACITY, DSX_ERR_BUFFER_TOO_SMALL,
                "the buffer holds %" G_GUINT64_FORMAT " bytes, the %ux%u frame needs %"
                G_GUINT64_FORMAT, capacity, *width, *height, row_bytes * *height);
  }

  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &video, frame_buffer, GST_MAP_READ)) {
    return fail(reader->last_error, LAST_ERROR_CAPACITY, DSX_ERR_PIPELINE,
                "mapping the decoded frame failed");
  }
  /* Rows may be padded (stride > width * 4): copy them one by one. */
  const uint8_t *source = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
  for (uint32_t y = 0; y < *height; y++) {
    memcpy(buffer + (uint64_t)y * row_bytes, source + (gsize)y * (gsize)stride, row_bytes);
  }
  gst_video_frame_unmap(&frame);
  return DSX_OK;
}

int32_t dsx_frame_reader_next(dsx_frame_reader *reader, uint8_t *buffer, uint64_t capacity,
                              uint32_t *width, uint32_t *height, uint64_t *pts_ns) {
  if (reader == NULL || width == NULL || height == NULL || pts_ns == NULL ||
      (buffer == NULL && capacity > 0)) {
    return DSX_ERR_INVALID_ARGUMENT;
  }
  *width = 0;
  *height = 0;
  *pts_ns = 0;
  if (reader->ended) return DSX_ERR_ENDED;

  int32_t status = DSX_OK;
  GstBus *bus = gst_element_get_bus(reader->pipeline);
  gint64 deadline = g_get_monotonic_time() + (gint64)READ_TIMEOUT_MS * 1000;

  while (reader->pending == NULL) {
    status = pop_error(bus, reader->last_error, LAST_ERROR_CAPACITY);
    if (status != DSX_OK) goto out;

    reader->pending = gst_app_sink_try_pull_sample(GST_APP_SINK(reader->appsink),
                                                   100 * GST_MSECOND);
    if (reader->pending != NULL) break;

    if (gst_app_sink_is_eos(GST_APP_SINK(reader->appsink))) {
      reader->ended = true;
      status = DSX_ERR_ENDED;
      goto out;
    }
    if (g_get_monotonic_time() >= deadline) {
      status = fail(reader->last_error, LAST_ERROR_CAPACITY, DSX_ERR_PIPELINE,
                    "timed out waiting for a decoded frame");
      goto out;
    }
  }

  /* A frame that does not fit stays pending, so the next call with a larger buffer
   * returns it. */
  status = copy_sample(reader, reader->pending, buffer, capacity, width, height, pts_ns);
  if (status != DSX_ERR_BUFFER_TOO_SMALL) g_clear_pointer(&reader->pending, gst_sample_unref);

out:
  gst_object_unref(bus);
  return status;
}

int32_t dsx_frame_reader_last_error(const dsx_frame_reader *reader, char *error,
                                    uint32_t error_capacity) {
  if (reader == NULL || error == NULL || error_capacity == 0) return DSX_ERR_INVALID_ARGUMENT;
  copy_text(error, error_capacity, reader->last_error);
  return DSX_OK;
}

void dsx_frame_reader_free(dsx_frame_reader *reader) {
  if (reader == NULL) return;

  g_clear_pointer(&reader->pending, gst_sample_unref);
  if (gst_element_set_state(reader->pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
    GST_WARNING_OBJECT(reader->pipeline, "setting the pipeline to NULL failed");
  }
  gst_object_unref(reader->pipeline);
  free(reader);
}
