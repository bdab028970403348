/*
 * snapshot.c — dsx_snapshot_rgba: decodes one frame of an input at a given time and
 * copies it out as tightly packed RGBA, for `dskafka preview`.
 *
 * Each call builds its own short-lived pipeline, element by element, and takes it down
 * before returning:
 *
 *   uridecodebin ──video──► videoconvert ► capsfilter (RGBA) ► appsink
 *        │
 *        └─────other──► (left unlinked: the demuxer carries on while one stream is linked)
 *
 * A file only ever goes to PAUSED. The appsink keeps the preroll frame; a flushing,
 * accurate seek makes it preroll again on the frame on display at the requested time,
 * which the decoder clips so that its timestamp is the seek position. A live source (RTSP) cannot preroll: it is played, and the first frame at least
 * the requested time after its first frame is copied. No main loop runs: the calling
 * thread reads the bus itself, so the call blocks until it has the frame, an error, or
 * the timeout.
 *
 * Threads:
 *   - the caller's thread builds the pipeline, changes its state, seeks, reads the bus and
 *     copies the frame; no state is shared between calls, so calls may run concurrently;
 *   - on_pad_added and on_no_more_pads run on a decodebin streaming thread: they link the
 *     video pad, or post an error when no video pad appeared. `video_linked` is the only
 *     field they share with the caller's thread, read and written atomically.
 */
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <stdarg.h>
#include <string.h>

#include "decoded_video.h"
#include "internal.h"

GST_DEBUG_CATEGORY_STATIC(dsx_snapshot_debug);
#define GST_CAT_DEFAULT dsx_snapshot_debug

#define DEFAULT_TIMEOUT_MS 30000u

typedef struct {
  GstElement *pipeline;
  GstElement *convert; /* the element the decoded video pad links to */
  gint video_linked;   /* atomic: set once the video pad is linked */
} snapshot;

typedef struct {
  dsx_snapshot_info *info;
  char *error;
  uint32_t error_capacity;
} snapshot_report;

/* GStreamer init is idempotent and guarded by its own lock; the once here only sets up
 * this file's debug category after it. */
static gpointer init_once(gpointer unused) {
  (void)unused;
  GError *error = NULL;
  if (!gst_init_check(NULL, NULL, &error)) {
    g_clear_error(&error);
    return GINT_TO_POINTER(0);
  }
  GST_DEBUG_CATEGORY_INIT(dsx_snapshot_debug, "dsx-snapshot", 0, "dskafka frame snapshot");
  return GINT_TO_POINTER(1);
}

static bool ensure_initialized(void) {
  static GOnce once = G_ONCE_INIT;
  return GPOINTER_TO_INT(g_once(&once, init_once, NULL)) != 0;
}

/* Stores the failure in the caller's error buffer and info, and returns `status`. */
static int32_t fail(snapshot_report *report, int32_t status, uint32_t code, const char *format,
                    ...) G_GNUC_PRINTF(4, 5);

static int32_t fail(snapshot_report *report, int32_t status, uint32_t code, const char *format,
                    ...) {
  if (report->info != NULL) report->info->error_code = code;
  if (report->error != NULL && report->error_capacity > 0) {
    va_list args;
    va_start(args, format);
    g_vsnprintf(report->error, report->error_capacity, format, args);
    va_end(args);
  }
  return status;
}

/* ---------------------------------------------------------------------------------
 * Streaming threads
 * --------------------------------------------------------------------------------- */

static void post_error(snapshot *shot, gint code, const char *text) {
  GError *error = g_error_new_literal(GST_STREAM_ERROR, code, text);
  GstMessage *message = gst_message_new_error(GST_OBJECT(shot->pipeline), error, NULL);
  gst_element_post_message(shot->pipeline, message);
  g_error_free(error);
}

static void on_pad_added(GstElement *decodebin, GstPad *pad, gpointer data) {
  snapshot *shot = data;
  (void)decodebin;

  if (!dsx_link_decoded_video(shot->pipeline, pad, shot->convert, &shot->video_linked)) {
    post_error(shot, GST_STREAM_ERROR_FAILED, "the decoded video could not be linked");
  }
}

static void on_no_more_pads(GstElement *decodebin, gpointer data) {
  snapshot *shot = data;
  (void)decodebin;

  if (!g_atomic_int_get(&shot->video_linked)) {
    post_error(shot, GST_STREAM_ERROR_WRONG_TYPE, "the input has no video stream");
  }
}

/* ---------------------------------------------------------------------------------
 * Caller's thread
 * --------------------------------------------------------------------------------- */

/* Returns (transfer full) the URI for a URI or file path, or NULL with `report` filled. */
static gchar *input_uri(const char *input, snapshot_report *report) {
  if (gst_uri_is_valid(input)) return g_strdup(input);

  GError *error = NULL;
  gchar *uri = gst_filename_to_uri(input, &error);
  if (uri == NULL) {
    fail(report, DSX_ERR_INVALID_ARGUMENT, DSX_EVENT_CODE_NOT_FOUND,
         "\"%s\" is neither a URI nor a file path: %s", input, error->message);
    g_clear_error(&error);
  }
  return uri;
}

/* Builds the pipeline of the diagram above. Returns DSX_OK, or a negative status with
 * `report` filled and nothing left to release. */
static int32_t build(snapshot *shot, const gchar *uri, snapshot_report *report,
                     GstElement **appsink) {
  shot->pipeline = gst_pipeline_new("dsx-snapshot");
  GstElement *decode = gst_element_factory_make("uridecodebin", "source");
  GstElement *convert = gst_element_factory_make("videoconvert", "convert");
  GstElement *filter = gst_element_factory_make("capsfilter", "rgba-caps");
  GstElement *sink = gst_element_factory_make("appsink", "frame");
  if (shot->pipeline == NULL || !decode || !convert || !filter || !sink) {
    const char *missing = !decode ? "uridecodebin" : !convert ? "videoconvert"
                        : !filter ? "capsfilter" : "appsink";
    if (decode) gst_object_unref(gst_object_ref_sink(decode));
    if (convert) gst_object_unref(gst_object_ref_sink(convert));
    if (filter) gst_object_unref(gst_object_ref_sink(filter));
    if (sink) gst_object_unref(gst_object_ref_sink(sink));
    if (shot->pipeline) gst_object_unref(shot->pipeline);
    shot->pipeline = NULL;
    return fail(report, DSX_ERR_UNAVAILABLE, DSX_EVENT_CODE_OTHER,
                "GStreamer element \"%s\" is not installed: install the GStreamer base plugins",
                missing);
  }

  GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "RGBA", NULL);
  g_object_set(filter, "caps", caps, NULL);
  gst_caps_unref(caps);

  /* The URI is only ever a property value, never parsed as pipeline syntax. */
  g_object_set(decode, "uri", uri, NULL);
  g_object_set(sink, "sync", FALSE, "max-buffers", 1, "drop", FALSE, "emit-signals", FALSE,
               NULL);

  gst_bin_add_many(GST_BIN(shot->pipeline), decode, convert, filter, sink, NULL);

  if (!gst_element_link_many(convert, filter, sink, NULL)) {
    gst_object_unref(shot->pipeline);
    shot->pipeline = NULL;
    return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_OTHER,
                "linking videoconvert ! capsfilter ! appsink failed");
  }
  shot->convert = convert;
  g_signal_connect(decode, "pad-added", G_CALLBACK(on_pad_added), shot);
  g_signal_connect(decode, "no-more-pads", G_CALLBACK(on_no_more_pads), shot);

  *appsink = sink;
  return DSX_OK;
}

/* Waits on the bus until the pipeline has prerolled (ASYNC_DONE), an error, or the
 * deadline (monotonic microseconds). Returns DSX_OK or a negative status with `report`
 * filled. */
static int32_t wait_for_preroll(snapshot *shot, GstBus *bus, gint64 deadline,
                                snapshot_report *report) {
  for (;;) {
    gint64 remaining = deadline - g_get_monotonic_time();
    if (remaining <= 0) {
      return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_OTHER,
                  "timed out waiting for a decoded frame");
    }

    GstMessage *message = gst_bus_timed_pop_filtered(
        bus, (GstClockTime)remaining * GST_USECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_EOS);
    if (message == NULL) continue; /* the deadline check above ends the loop */

    switch (GST_MESSAGE_TYPE(message)) {
      case GST_MESSAGE_ASYNC_DONE:
        if (GST_MESSAGE_SRC(message) == GST_OBJECT(shot->pipeline)) {
          gst_message_unref(message);
          return DSX_OK;
        }
        break;

      case GST_MESSAGE_EOS:
        gst_message_unref(message);
        return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_NOT_VIDEO,
                    "the input ended before a video frame was decoded");

      case GST_MESSAGE_ERROR: {
        GError *error = NULL;
        gchar *debug = NULL;
        gst_message_parse_error(message, &error, &debug);
        GST_WARNING_OBJECT(shot->pipeline, "error from %s: %s (%s)",
                           GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message,
                           debug != NULL ? debug : "no details");
        int32_t status = fail(report, DSX_ERR_PIPELINE, dsx_classify_error(error), "%s",
                              error->message);
        g_clear_error(&error);
        g_free(debug);
        gst_message_unref(message);
        return status;
      }

      default:
        break;
    }
    gst_message_unref(message);
  }
}

/* Seeks the prerolled pipeline to `seconds` and waits until it has prerolled there. */
static int32_t seek_to(snapshot *shot, GstBus *bus, double seconds, gint64 deadline,
                       snapshot_report *report) {
  GstClockTime target = (GstClockTime)(seconds * (double)GST_SECOND);

  gint64 duration = -1;
  if (gst_element_query_duration(shot->pipeline, GST_FORMAT_TIME, &duration) && duration >= 0 &&
      target >= (GstClockTime)duration) {
    return fail(report, DSX_ERR_INVALID_ARGUMENT, DSX_EVENT_CODE_NONE,
                "%.3f s is past the end of the input, which lasts %.3f s: use --at below %.3f",
                seconds, (double)duration / GST_SECOND, (double)duration / GST_SECOND);
  }

  GstSeekFlags flags = GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE;
  if (!gst_element_seek_simple(shot->pipeline, GST_FORMAT_TIME, flags, (gint64)target)) {
    return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_NONE,
                "the input cannot seek to %.3f s (a live stream or a still image?)", seconds);
  }
  GST_DEBUG_OBJECT(shot->pipeline, "seeking to %" GST_TIME_FORMAT, GST_TIME_ARGS(target));
  return wait_for_preroll(shot, bus, deadline, report);
}

/* Returns the stream time of a sample's buffer in nanoseconds, or GST_CLOCK_TIME_NONE. */
static GstClockTime sample_stream_time(GstSample *sample) {
  GstClockTime pts = GST_BUFFER_PTS(gst_sample_get_buffer(sample));
  GstSegment *segment = gst_sample_get_segment(sample);
  if (segment == NULL || !GST_CLOCK_TIME_IS_VALID(pts)) return GST_CLOCK_TIME_NONE;
  return gst_segment_to_stream_time(segment, GST_FORMAT_TIME, pts);
}

/* Copies a sample's frame into the caller's buffer as packed RGBA. Does not take
 * ownership of `sample`. */
static int32_t copy_frame(snapshot *shot, GstSample *sample, uint8_t *buffer,
                          uint64_t capacity, snapshot_report *report) {
  int32_t status = DSX_OK;
  GstVideoInfo video;
  GstVideoFrame frame;
  if (!gst_video_info_from_caps(&video, gst_sample_get_caps(sample))) {
    return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_OTHER, "the frame has no video caps");
  }

  uint32_t width = (uint32_t)GST_VIDEO_INFO_WIDTH(&video);
  uint32_t height = (uint32_t)GST_VIDEO_INFO_HEIGHT(&video);
  uint64_t row_bytes = (uint64_t)width * 4u;
  report->info->width = width;
  report->info->height = height;

  GstClockTime stream_time = sample_stream_time(sample);
  report->info->pts_ns = GST_CLOCK_TIME_IS_VALID(stream_time) ? stream_time : 0;

  if (capacity < row_bytes * height) {
    return fail(report, DSX_ERR_BUFFER_TOO_SMALL, DSX_EVENT_CODE_NONE,
                "the buffer holds %" G_GUINT64_FORMAT " bytes, the %ux%u frame needs %"
                G_GUINT64_FORMAT, capacity, width, height, row_bytes * height);
  }

  if (!gst_video_frame_map(&frame, &video, gst_sample_get_buffer(sample), GST_MAP_READ)) {
    return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_OTHER, "could not map the frame");
  }

  /* Rows may be padded (stride > width * 4): copy them one by one. */
  const uint8_t *source = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
  for (uint32_t y = 0; y < height; y++) {
    memcpy(buffer + (uint64_t)y * row_bytes, source + (gsize)y * (gsize)stride, row_bytes);
  }
  gst_video_frame_unmap(&frame);
  GST_INFO_OBJECT(shot->pipeline, "copied a %ux%u frame at %" GST_TIME_FORMAT, width, height,
                  GST_TIME_ARGS(report->info->pts_ns));
  return status;
}

/* Copies the appsink's preroll frame: the one at the seek position of a paused file. */
static int32_t copy_preroll(snapshot *shot, GstElement *appsink, uint8_t *buffer,
                            uint64_t capacity, snapshot_report *report) {
  GstSample *sample = gst_app_sink_try_pull_preroll(GST_APP_SINK(appsink), 0);
  if (sample == NULL) {
    return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_NONE,
                "no frame at the requested time: the input ended before it");
  }
  int32_t status = copy_frame(shot, sample, buffer, capacity, report);
  gst_sample_unref(sample);
  return status;
}

/* Returns DSX_OK when the bus has no error or end-of-stream message, else fills `report`. */
static int32_t check_bus(GstBus *bus, snapshot_report *report) {
  GstMessage *message = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  if (message == NULL) return DSX_OK;

  int32_t status;
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
    status = fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_NONE,
                  "the stream ended before the requested time");
  } else {
    GError *error = NULL;
    gst_message_parse_error(message, &error, NULL);
    status = fail(report, DSX_ERR_PIPELINE, dsx_classify_error(error), "%s", error->message);
    g_clear_error(&error);
  }
  gst_message_unref(message);
  return status;
}

/* A live source (RTSP) cannot preroll or seek: plays it and copies the first frame whose
 * stream time is at least `seconds` after the first frame's.
 * NOTE: no test runs this path, because the tests have no RTSP server to read from. */
static int32_t grab_live(snapshot *shot, GstElement *appsink, GstBus *bus, double seconds,
                         gint64 deadline, uint8_t *buffer, uint64_t capacity,
                         snapshot_report *report) {
  if (gst_element_set_state(shot->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    int32_t status = check_bus(bus, report);
    if (status != DSX_OK) return status;
    return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_OTHER, "the live stream did not start");
  }

  GstClockTime wait = (GstClockTime)(seconds * (double)GST_SECOND);
  GstClockTime first = GST_CLOCK_TIME_NONE;
  for (;;) {
    int32_t status = check_bus(bus, report);
    if (status != DSX_OK) return status;
    if (g_get_monotonic_time() >= deadline) {
      return fail(report, DSX_ERR_PIPELINE, DSX_EVENT_CODE_OTHER,
                  "timed out waiting for a frame of the live stream");
    }

    GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(appsink), 100 * GST_MSECOND);
    if (sample == NULL) continue;

    GstClockTime time = sample_stream_time(sample);
    if (!GST_CLOCK_TIME_IS_VALID(first)) first = time;
    bool reached = !GST_CLOCK_TIME_IS_VALID(time) || time - first >= wait;
    if (reached) status = copy_frame(shot, sample, buffer, capacity, report);
    gst_sample_unref(sample);
    if (reached) return status;
  }
}

int32_t dsx_snapshot_rgba(const char *uri, double seconds, uint32_t timeout_ms, uint8_t *buffer,
                          uint64_t capacity, dsx_snapshot_info *info, char *error,
                          uint32_t error_capacity) {
  snapshot_report report = {.info = info, .error = error, .error_capacity = error_capacity};
  if (error != NULL && error_capacity > 0) error[0] = '\0';
  if (info == NULL) {
    return fail(&report, DSX_ERR_INVALID_ARGUMENT, DSX_EVENT_CODE_NONE, "info is NULL");
  }
  memset(info, 0, sizeof *info);
  if (uri == NULL || (buffer == NULL && capacity > 0)) {
    return fail(&report, DSX_ERR_INVALID_ARGUMENT, DSX_EVENT_CODE_NONE,
                "uri is NULL, or buffer is NULL with a capacity");
  }
  if (!(seconds >= 0.0) || seconds > 1e9) {
    return fail(&report, DSX_ERR_INVALID_ARGUMENT, DSX_EVENT_CODE_NONE,
                "the time %g s is invalid: use a number of seconds >= 0", seconds);
  }
  if (!ensure_initialized()) {
    return fail(&report, DSX_ERR_UNAVAILABLE, DSX_EVENT_CODE_OTHER,
                "GStreamer failed to initialize");
  }

  gchar *full_uri = input_uri(uri, &report);
  if (full_uri == NULL) return DSX_ERR_INVALID_ARGUMENT;

  gchar *scheme = gst_uri_get_protocol(full_uri);
  bool supported = scheme != NULL && gst_uri_protocol_is_supported(GST_URI_SRC, scheme);
  if (!supported) {
    int32_t status = fail(&report, DSX_ERR_UNAVAILABLE, DSX_EVENT_CODE_UNSUPPORTED,
                          "no GStreamer source element handles the \"%s\" scheme",
                          scheme != NULL ? scheme : "");
    g_free(scheme);
    g_free(full_uri);
    return status;
  }
  g_free(scheme);

  snapshot shot = {0};
  GstElement *appsink = NULL;
  int32_t status = build(&shot, full_uri, &report, &appsink);
  g_free(full_uri);
  if (status != DSX_OK) return status;

  gint64 deadline =
      g_get_monotonic_time() + (gint64)(timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS) * 1000;
  GstBus *bus = gst_element_get_bus(shot.pipeline);

  /* A failed state change posts its reason on the bus, which wait_for_preroll reads. */
  GstStateChangeReturn changed = gst_element_set_state(shot.pipeline, GST_STATE_PAUSED);
  GST_DEBUG_OBJECT(shot.pipeline, "PAUSED state change returned %s",
                   gst_element_state_change_return_get_name(changed));
  if (changed == GST_STATE_CHANGE_NO_PREROLL) {
    status = grab_live(&shot, appsink, bus, seconds, deadline, buffer, capacity, &report);
    goto out;
  }

  status = wait_for_preroll(&shot, bus, deadline, &report);
  if (status != DSX_OK) goto out;

  if (seconds > 0.0) {
    status = seek_to(&shot, bus, seconds, deadline, &report);
    if (status != DSX_OK) goto out;
  }

  status = copy_preroll(&shot, appsink, buffer, capacity, &report);

out:
  if (gst_element_set_state(shot.pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
    GST_WARNING_OBJECT(shot.pipeline, "setting the pipeline to NULL failed");
  }
  gst_object_unref(bus);
  gst_object_unref(shot.pipeline);
  return status;
}
