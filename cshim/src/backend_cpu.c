/*
 * backend_cpu.c — the CPU backend: decodes each source with GStreamer, scales it to the
 * processing size, and runs the motion detector on the luma plane of every frame.
 *
 * Each source gets its own GstPipeline, so that one failing or ending camera does not
 * stop the others and each source keeps its own clock:
 *
 *   uridecodebin ──video──► queue ► videoscale ► videoconvert ► capsfilter ► appsink
 *        │                                       (8-bit luma first plane)
 *        └─────other──► fakesink
 *
 * The `queue` puts detection on its own streaming thread, in parallel with decoding.
 *
 * Live sources and loops (ABI 1.1):
 *   - a live stream (rtsp://, rtsps://) that fails or ends after its first frame is not
 *     ended: the bus thread sets its pipeline to NULL, posts STREAM_RECONNECTING and arms
 *     a timer on the bus thread's context that sets it to PLAYING again. The wait doubles
 *     per failed attempt up to the maximum and is reset once frames flow again. A live
 *     stream that fails before its first frame ends with an error, as a file does;
 *   - a looped file seeks back to its start on end of stream and posts STREAM_LOOPED;
 *   - the stream's cpu_stream (frame counter, detector, pts base) lives on across both,
 *     so frame numbers and pts keep increasing (see rebase_pts).
 *
 * Threads:
 *   - pad-added runs on a decodebin streaming thread and only links pads;
 *   - on_new_sample runs on the queue's streaming thread: it owns the stream's motion
 *     detector, scratch record and pts state, and pushes frame records (it may block on a
 *     full ring);
 *   - on_bus_message and the reconnect timer run on the pipeline's bus thread: they turn
 *     errors, warnings and end-of-stream into event records, set a finished stream to
 *     NULL state, loop files and restart live streams;
 *   - start, stop, free and the option setters run on the control thread.
 *
 * Locks: `cpu_stream.lock` orders the bus thread's restarts (seek, PLAYING) against
 * cpu_stop, so a stopped stream is never started again. It is held during those state
 * changes, so nothing that runs inside them may take it. `discard_lock` guards the list
 * of discard sinks, which pad-added may extend during such a state change.
 */
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

#include "internal.h"
#include "motion.h"

GST_DEBUG_CATEGORY_STATIC(dsx_cpu_debug);
#define GST_CAT_DEFAULT dsx_cpu_debug

#define LUMA_FORMATS "{ I420, YV12, NV12, NV21, Y42B, Y444, GRAY8 }"
#define FALLBACK_FPS 30.0
#define DEFAULT_RECONNECT_INITIAL_MS 1000u
#define DEFAULT_RECONNECT_MAX_MS 30000u
#define MAX_RECONNECT_DELAY_MS 3600000u

/* Options of dsx_pipeline_set_loop and dsx_pipeline_set_reconnect. The cpu backend is
 * their only user, so they live in dsx_pipeline.backend_data (NULL: the defaults),
 * allocated by the first setter call and freed by cpu_free. */
typedef struct {
  bool loop;
  uint32_t reconnect_initial_ms;
  uint32_t reconnect_max_ms;
} cpu_options;

static const cpu_options DEFAULT_OPTIONS = {
    .loop = false,
    .reconnect_initial_ms = DEFAULT_RECONNECT_INITIAL_MS,
    .reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS,
};

/* Values of cpu_stream.rebase: why the next frame's pts needs a new base. */
enum { REBASE_NONE = 0, REBASE_LOOP = 1, REBASE_RECONNECT = 2 };

typedef struct {
  dsx_pipeline *owner;
  dsx_stream *stream;
  GstElement *pipeline;
  GstElement *video_entry; /* the queue that decoded video links to */
  GSource *bus_watch;
  bool live; /* rtsp://, rtsps://: reconnected instead of ended */
  bool loop; /* seek back to the start at end of stream (never for live streams) */
  uint32_t reconnect_initial_ms, reconnect_max_ms;

  /* Streaming thread only. */
  dsx_motion *motion;
  dsx_box *boxes;
  uint8_t *record;
  size_t record_capacity;
  uint32_t width, height;
  double fps;
  GstClockTime frame_duration;
  GstClockTime first_pts;     /* pts of the first frame since start, loop or reconnect */
  GstClockTime pts_base;      /* relative pts of that frame */
  GstClockTime last_relative_pts;
  gint64 last_frame_us;       /* monotonic time of the last frame */
  uint64_t frames;

  /* Bus thread only. */
  uint32_t reconnect_attempt; /* attempts in the current outage, from 1 */
  uint32_t reconnect_delay_ms;
  uint64_t passes;            /* completed passes of a looped file */

  /* Guarded by `lock` (bus thread and control thread). */
  GMutex lock;
  bool stopped;               /* cpu_stop ran: never restart */
  GSource *reconnect_timer;   /* (owned) pending restart, or NULL */

  /* Guarded by `discard_lock` (streaming threads and bus thread). */
  GMutex discard_lock;
  GSList *discard_sinks;      /* fakesinks of audio and other non-video pads */

  /* Atomic. Streaming threads write video_linked and frames_seen, and the bus thread
   * reads them. `flowing` is set per frame and cleared by the bus thread at a failure.
   * `rebase` is set by the bus thread and taken by the streaming thread. */
  gint video_linked;
  gint frames_seen;
  gint flowing;
  gint rebase;
} cpu_stream;

/* Returns the value of `*flag` and sets it to 0, in one atomic step. */
static gint take_flag(gint *flag) {
  gint value;
  do {
    value = g_atomic_int_get(flag);
  } while (value != 0 && !g_atomic_int_compare_and_exchange(flag, value, 0));
  return value;
}

static cpu_stream *stream_data(dsx_stream *stream) { return stream->backend_data; }

/* Posts an error message on the stream's bus, so that every failure of a stream goes
 * through on_bus_message. Any thread. */
static void post_stream_error(cpu_stream *cpu, GQuark domain, gint code, const char *text) {
  GError *error = g_error_new_literal(domain, code, text);
  GstMessage *message = gst_message_new_error(GST_OBJECT(cpu->pipeline), error, NULL);
  gst_element_post_message(cpu->pipeline, message);
  g_error_free(error);
}

/* ---------------------------------------------------------------------------------
 * Streaming threads
 * --------------------------------------------------------------------------------- */

static bool is_still_image(GstCaps *caps) {
  const GstStructure *structure = gst_caps_get_structure(caps, 0);
  gint numerator = 0, denominator = 1;
  if (!gst_structure_get_fraction(structure, "framerate", &numerator, &denominator)) return false;
  return numerator == 0;
}

static void on_pad_added(GstElement *decodebin, GstPad *pad, gpointer data) {
  cpu_stream *cpu = data;
  (void)decodebin;

  GstCaps *caps = gst_pad_get_current_caps(pad);
  if (caps == NULL) caps = gst_pad_query_caps(pad, NULL);
  const char *media = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  bool is_video = g_str_has_prefix(media, "video/");

  if (is_video && is_still_image(caps)) {
    GST_WARNING_OBJECT(cpu->pipeline, "stream %u: %s is a still image", cpu->stream->id,
                       cpu->stream->uri);
    post_stream_error(cpu, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
                      "the input is a still image, not a video");
    is_video = false;
  }

  if (is_video && !g_atomic_int_get(&cpu->video_linked)) {
    GstPad *sink = gst_element_get_static_pad(cpu->video_entry, "sink");
    GstPadLinkReturn linked = gst_pad_link(pad, sink);
    gst_object_unref(sink);
    if (linked == GST_PAD_LINK_OK) {
      g_atomic_int_set(&cpu->video_linked, 1);
      GST_INFO_OBJECT(cpu->pipeline, "stream %u: linked video pad with caps %" GST_PTR_FORMAT,
                      cpu->stream->id, caps);
    } else {
      GST_WARNING_OBJECT(cpu->pipeline, "stream %u: linking the video pad failed: %s",
                         cpu->stream->id, gst_pad_link_get_name(linked));
    }
    gst_caps_unref(caps);
    return;
  }

  /* Audio, subtitles, a second video stream: consume and discard, so that the demuxer
   * never sees "not linked" on them. */
  GstElement *discard = gst_element_factory_make("fakesink", NULL);
  if (discard == NULL) {
    gst_caps_unref(caps);
    return;
  }
  g_object_set(discard, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add(GST_BIN(cpu->pipeline), discard);
  g_mutex_lock(&cpu->discard_lock);
  cpu->discard_sinks = g_slist_prepend(cpu->discard_sinks, discard);
  g_mutex_unlock(&cpu->discard_lock);
  GstPad *sink = gst_element_get_static_pad(discard, "sink");
  if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK) {
    GST_WARNING_OBJECT(cpu->pipeline, "stream %u: could not discard a %s pad", cpu->stream->id,
                       media);
  }
  gst_object_unref(sink);
  gst_element_sync_state_with_parent(discard);
  gst_caps_unref(caps);
}

/* Fails a stream whose input exposed all its pads without a video pad (an audio-only
 * file, say): its appsink would never see end-of-stream, so the stream would never end.
 * Decodebin streaming thread. */
static void on_no_more_pads(GstElement *decodebin, gpointer data) {
  cpu_stream *cpu = data;
  (void)decodebin;

  if (g_atomic_int_get(&cpu->video_linked)) return;

  GST_WARNING_OBJECT(cpu->pipeline, "stream %u: %s has no video pad", cpu->stream->id,
                     cpu->stream->uri);
  post_stream_error(cpu, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
                    "the input has no video stream");
}

/* (Re)creates the detector and scratch buffers for a frame size. Streaming thread. */
static bool prepare_detector(cpu_stream *cpu, const GstVideoInfo *info) {
  dsx_pipeline *owner = cpu->owner;
  double fps = info->fps_d > 0 && info->fps_n > 0 ? (double)info->fps_n / info->fps_d
                                                  : FALLBACK_FPS;

  dsx_motion_free(cpu->motion);
  cpu->motion = dsx_motion_new((uint32_t)info->width, (uint32_t)info->height, fps,
                               &owner->detector);
  if (cpu->motion == NULL) return false;

  cpu->width = (uint32_t)info->width;
  cpu->height = (uint32_t)info->height;
  cpu->fps = fps;
  cpu->frame_duration = (GstClockTime)((double)GST_SECOND / fps);
  if (cpu->boxes == NULL) cpu->boxes = g_new(dsx_box, owner->max_objects);
  if (cpu->record == NULL) {
    cpu->record_capacity = dsx_max_frame_record_bytes(owner);
    cpu->record = g_malloc0(cpu->record_capacity);
  }

  char description[64];
  g_snprintf(description, sizeof description, "%ux%u@%.3f", cpu->width, cpu->height, fps);
  dsx_post_event(owner, (int32_t)cpu->stream->id, DSX_EVENT_STREAM_STARTED, DSX_EVENT_CODE_NONE,
                 description);
  return true;
}

/* Writes a frame record with `count` untracked boxes into the scratch record. Returns
 * its size. */
static size_t build_frame_record(cpu_stream *cpu, GstClockTime pts, uint32_t count) {
  uint8_t *r = cpu->record;
  size_t size = DSX_FRAME_HEADER_BYTES + (size_t)DSX_OBJECT_BYTES * count;

  dsx_write_record_header(r, DSX_RECORD_FRAME, (uint32_t)size);
  dsx_put_u32(r + 8, cpu->stream->id);
  dsx_put_u32(r + 12, count);
  dsx_put_u64(r + 16, cpu->frames);
  dsx_put_u64(r + 24, pts);
  dsx_put_u32(r + 32, cpu->width);
  dsx_put_u32(r + 36, cpu->height);
  dsx_put_u32(r + 40, 0);
  dsx_put_u32(r + 44, 0);

  for (uint32_t i = 0; i < count; i++) {
    uint8_t *object = r + DSX_FRAME_HEADER_BYTES + (size_t)DSX_OBJECT_BYTES * i;
    dsx_put_u64(object, DSX_UNTRACKED);
    dsx_put_u32(object + 8, 0);
    dsx_put_f32(object + 12, 1.0f);
    dsx_put_f32(object + 16, cpu->boxes[i].left);
    dsx_put_f32(object + 20, cpu->boxes[i].top);
    dsx_put_f32(object + 24, cpu->boxes[i].width);
    dsx_put_f32(object + 28, cpu->boxes[i].height);
  }
  return size;
}

/* Returns the pts of a frame relative to the stream's first frame. After a loop or a
 * reconnect the source's pts starts again, so that frame gets a new base: one frame
 * duration after the previous frame for a loop, and the wall-clock time of the gap for
 * a reconnect. Posts STREAM_RECONNECTED for the first frame after a reconnect.
 * Streaming thread. */
static GstClockTime rebase_pts(cpu_stream *cpu, GstClockTime pts) {
  gint64 now_us = g_get_monotonic_time();
  GstClockTime source_pts = GST_CLOCK_TIME_IS_VALID(pts) ? pts : 0;
  gint rebase = take_flag(&cpu->rebase);

  if (cpu->frames == 0) {
    cpu->first_pts = source_pts;
    cpu->pts_base = 0;
  } else if (rebase != REBASE_NONE) {
    GstClockTime gap = cpu->frame_duration;
    GstClockTime waited = (GstClockTime)(now_us - cpu->last_frame_us) * GST_USECOND;
    if (rebase == REBASE_RECONNECT && waited > gap) gap = waited;

    cpu->first_pts = source_pts;
    cpu->pts_base = cpu->last_relative_pts + gap;
  }

  if (rebase == REBASE_RECONNECT) {
    char description[64];
    g_snprintf(description, sizeof description, "%ux%u@%.3f", cpu->width, cpu->height,
               cpu->fps);
    GST_INFO_OBJECT(cpu->pipeline, "stream %u: frames flow again after a reconnect",
                    cpu->stream->id);
    dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_STREAM_RECONNECTED,
                   DSX_EVENT_CODE_NONE, description);
  }

  GstClockTime since_first = source_pts >= cpu->first_pts ? source_pts - cpu->first_pts : 0;
  cpu->last_relative_pts = cpu->pts_base + since_first;
  cpu->last_frame_us = now_us;
  return cpu->last_relative_pts;
}

static GstFlowReturn on_new_sample(GstAppSink *sink, gpointer data) {
  cpu_stream *cpu = data;
  dsx_pipeline *owner = cpu->owner;
  GstFlowReturn flow = GST_FLOW_OK;

  GstSample *sample = gst_app_sink_pull_sample(sink);
  if (sample == NULL) return GST_FLOW_EOS;

  GstVideoInfo info;
  GstVideoFrame frame;
  if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample))) {
    GST_ERROR_OBJECT(cpu->pipeline, "stream %u: sample without video caps", cpu->stream->id);
    flow = GST_FLOW_NOT_NEGOTIATED;
    goto out_sample;
  }
  if ((uint32_t)info.width != cpu->width || (uint32_t)info.height != cpu->height) {
    if (!prepare_detector(cpu, &info)) {
      flow = GST_FLOW_ERROR;
      goto out_sample;
    }
  }
  if (!gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
    GST_ERROR_OBJECT(cpu->pipeline, "stream %u: could not map a frame", cpu->stream->id);
    flow = GST_FLOW_ERROR;
    goto out_sample;
  }

  GstClockTime relative_pts = rebase_pts(cpu, GST_BUFFER_PTS(gst_sample_get_buffer(sample)));
  cpu->frames++;
  g_atomic_int_set(&cpu->flowing, 1);

  uint32_t found = dsx_motion_process(cpu->motion, GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                                      (uint32_t)GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0),
                                      cpu->boxes, owner->max_objects);
  uint32_t count = found < owner->max_objects ? found : owner->max_objects;
  gst_video_frame_unmap(&frame);

  size_t size = build_frame_record(cpu, relative_pts, count);

  g_mutex_lock(&owner->lock);
  owner->stats.frames_decoded++;
  owner->stats.objects_truncated += found - count;
  g_mutex_unlock(&owner->lock);

  g_atomic_int_set(&cpu->frames_seen, 1);
  if (!dsx_stream_push_record(owner, cpu->stream, cpu->record, size, true)) {
    flow = GST_FLOW_FLUSHING;
  }

out_sample:
  gst_sample_unref(sample);
  return flow;
}

/* ---------------------------------------------------------------------------------
 * Bus thread
 * --------------------------------------------------------------------------------- */

static void finish_stream(cpu_stream *cpu) {
  /* Producers waiting for room give up once the stream is marked ended (done by
   * dsx_post_event before this), so the state change can join the streaming threads. */
  gst_element_set_state(cpu->pipeline, GST_STATE_NULL);
}

/* Removes the discard sinks of the pads of the previous connection. The pipeline is in
 * NULL state, so no streaming thread uses them. Bus thread. */
static void remove_discard_sinks(cpu_stream *cpu) {
  g_mutex_lock(&cpu->discard_lock);
  GSList *sinks = cpu->discard_sinks;
  cpu->discard_sinks = NULL;
  g_mutex_unlock(&cpu->discard_lock);

  for (GSList *link = sinks; link != NULL; link = link->next) {
    if (!gst_bin_remove(GST_BIN(cpu->pipeline), GST_ELEMENT(link->data))) {
      GST_WARNING_OBJECT(cpu->pipeline, "stream %u: could not remove a discard sink",
                         cpu->stream->id);
    }
  }
  g_slist_free(sinks);
}

/* Sets a live stream to PLAYING again, unless cpu_stop ran meanwhile. Bus thread. */
static gboolean on_reconnect_timer(gpointer data) {
  cpu_stream *cpu = data;

  g_mutex_lock(&cpu->lock);
  if (cpu->reconnect_timer != NULL) {
    g_source_unref(cpu->reconnect_timer);
    cpu->reconnect_timer = NULL;
  }
  if (!cpu->stopped) {
    GST_INFO_OBJECT(cpu->pipeline, "stream %u: reconnect attempt %u to %s", cpu->stream->id,
                    cpu->reconnect_attempt, cpu->stream->uri);
    g_atomic_int_set(&cpu->rebase, REBASE_RECONNECT);
    /* A failure posts its error on the bus, which schedules the next attempt. */
    if (gst_element_set_state(cpu->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      GST_DEBUG_OBJECT(cpu->pipeline, "stream %u: reconnect attempt %u failed to start",
                       cpu->stream->id, cpu->reconnect_attempt);
    }
  }
  g_mutex_unlock(&cpu->lock);
  return G_SOURCE_REMOVE;
}

/* Stops a live stream that failed or ended, posts STREAM_RECONNECTING and arms the
 * timer of the next attempt. Bus thread. */
static void schedule_reconnect(cpu_stream *cpu, uint32_t code, const char *reason) {
  /* Joins the streaming threads. The pipeline's bus drops the messages still queued
   * from this connection on the way to NULL, so one failure schedules one attempt. */
  gst_element_set_state(cpu->pipeline, GST_STATE_NULL);
  remove_discard_sinks(cpu);
  g_atomic_int_set(&cpu->video_linked, 0);

  /* Frames since the last failure mean that a new outage begins. */
  if (take_flag(&cpu->flowing) != 0) cpu->reconnect_attempt = 0;
  cpu->reconnect_attempt++;
  if (cpu->reconnect_attempt == 1) {
    cpu->reconnect_delay_ms = cpu->reconnect_initial_ms;
  } else {
    uint64_t doubled = 2ull * cpu->reconnect_delay_ms;
    cpu->reconnect_delay_ms =
        doubled < cpu->reconnect_max_ms ? (uint32_t)doubled : cpu->reconnect_max_ms;
  }

  char text[DSX_EVENT_TEXT_MAX];
  g_snprintf(text, sizeof text, "%u %u %s", cpu->reconnect_attempt, cpu->reconnect_delay_ms,
             reason);
  GST_WARNING_OBJECT(cpu->pipeline, "stream %u: %s; reconnect attempt %u in %u ms",
                     cpu->stream->id, reason, cpu->reconnect_attempt, cpu->reconnect_delay_ms);
  dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_STREAM_RECONNECTING, code,
                 text);

  g_mutex_lock(&cpu->lock);
  if (!cpu->stopped) {
    GSource *timer = g_timeout_source_new(cpu->reconnect_delay_ms);
    g_source_set_callback(timer, on_reconnect_timer, cpu, NULL);
    g_source_attach(timer, cpu->owner->context);
    cpu->reconnect_timer = timer;
  }
  g_mutex_unlock(&cpu->lock);
}

/* Seeks a looped stream back to its start. Returns false when the seek failed or the
 * stream was stopped. Bus thread. */
static bool restart_loop(cpu_stream *cpu) {
  bool sought = false;

  g_mutex_lock(&cpu->lock);
  if (!cpu->stopped) {
    /* Set before the seek, because the first frame of the next pass may arrive before
     * the seek call returns. */
    g_atomic_int_set(&cpu->rebase, REBASE_LOOP);
    sought = gst_element_seek_simple(cpu->pipeline, GST_FORMAT_TIME,
                                     GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0);
    if (!sought) g_atomic_int_set(&cpu->rebase, REBASE_NONE);
  }
  g_mutex_unlock(&cpu->lock);
  return sought;
}

/* Handles the end of a stream that delivered video: loops a looped file, reconnects a
 * live stream, and otherwise posts STREAM_EOS and stops the stream. Bus thread. */
static void end_stream(cpu_stream *cpu) {
  if (cpu->live && g_atomic_int_get(&cpu->frames_seen)) {
    schedule_reconnect(cpu, DSX_EVENT_CODE_NONE, "the server ended the stream");
    return;
  }

  if (cpu->loop) {
    if (restart_loop(cpu)) {
      cpu->passes++;
      char text[32];
      g_snprintf(text, sizeof text, "%" G_GUINT64_FORMAT, cpu->passes);
      GST_INFO_OBJECT(cpu->pipeline, "stream %u: pass %" G_GUINT64_FORMAT " ended after %"
                      G_GUINT64_FORMAT " frames in all; starting again", cpu->stream->id,
                      cpu->passes, cpu->frames);
      dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_STREAM_LOOPED,
                     DSX_EVENT_CODE_NONE, text);
      return;
    }
    GST_WARNING_OBJECT(cpu->pipeline, "stream %u: seeking back to the start failed; the "
                       "stream ends", cpu->stream->id);
    dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_WARNING,
                   DSX_EVENT_CODE_OTHER,
                   "--loop: the input cannot seek back to its start, so it ends here");
  }

  GST_INFO_OBJECT(cpu->pipeline, "stream %u: end of stream after %" G_GUINT64_FORMAT " frames",
                  cpu->stream->id, cpu->frames);
  dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_STREAM_EOS,
                 DSX_EVENT_CODE_NONE, NULL);
  finish_stream(cpu);
}

/* Returns whether an error means that the input could not be read at all: a generic
 * flow error of the source element itself before any video pad appeared. souphttpsrc
 * (GStreamer 1.22) fails this way on a refused connection, without a resource error. */
static bool failed_before_reading(cpu_stream *cpu, GstMessage *message, const GError *error) {
  GstObject *source = GST_MESSAGE_SRC(message);
  bool from_source = source != NULL && GST_IS_ELEMENT(source) &&
                     GST_OBJECT_FLAG_IS_SET(source, GST_ELEMENT_FLAG_SOURCE);
  bool flow_error = error->domain == GST_STREAM_ERROR && error->code == GST_STREAM_ERROR_FAILED;
  return from_source && flow_error && !g_atomic_int_get(&cpu->video_linked) &&
         !g_atomic_int_get(&cpu->frames_seen);
}

static void report_error(cpu_stream *cpu, GstMessage *message) {
  GError *error = NULL;
  gchar *debug = NULL;
  gst_message_parse_error(message, &error, &debug);

  if (cpu->stream->error_reported) {
    GST_DEBUG_OBJECT(cpu->pipeline, "stream %u: later error ignored: %s", cpu->stream->id,
                     error->message);
  } else if (cpu->live && g_atomic_int_get(&cpu->frames_seen)) {
    GST_DEBUG_OBJECT(cpu->pipeline, "stream %u: error from %s: %s (%s)", cpu->stream->id,
                     GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message,
                     debug != NULL ? debug : "no details");
    schedule_reconnect(cpu, dsx_classify_error(error), error->message);
  } else {
    cpu->stream->error_reported = true;
    GST_WARNING_OBJECT(cpu->pipeline, "stream %u: error from %s: %s (%s)", cpu->stream->id,
                       GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message,
                       debug != NULL ? debug : "no details");

    uint32_t code = dsx_classify_error(error);
    const char *text = error->message;
    char unread[DSX_EVENT_TEXT_MAX];
    if (failed_before_reading(cpu, message, error)) {
      g_snprintf(unread, sizeof unread, "nothing could be read from the source: %s",
                 error->message);
      code = DSX_EVENT_CODE_NOT_FOUND;
      text = unread;
    }
    dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_ERROR, code, text);
    finish_stream(cpu);
  }

  g_clear_error(&error);
  g_free(debug);
}

static gboolean on_bus_message(GstBus *bus, GstMessage *message, gpointer data) {
  cpu_stream *cpu = data;
  (void)bus;

  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR:
      report_error(cpu, message);
      break;

    case GST_MESSAGE_WARNING: {
      GError *warning = NULL;
      gst_message_parse_warning(message, &warning, NULL);
      dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_WARNING,
                     dsx_classify_error(warning), warning->message);
      g_clear_error(&warning);
      break;
    }

    case GST_MESSAGE_EOS:
      if (cpu->stream->error_reported) break;
      if (!g_atomic_int_get(&cpu->video_linked) && !g_atomic_int_get(&cpu->frames_seen)) {
        cpu->stream->error_reported = true;
        dsx_post_event(cpu->owner, (int32_t)cpu->stream->id, DSX_EVENT_ERROR,
                       DSX_EVENT_CODE_NOT_VIDEO, "the input has no video stream");
        finish_stream(cpu);
      } else {
        end_stream(cpu);
      }
      break;

    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------------------
 * Control thread
 * --------------------------------------------------------------------------------- */

/* Returns (transfer full) the URI for a source given as a URI or a file path, or NULL
 * with the pipeline error set. */
static gchar *source_uri(dsx_pipeline *owner, const dsx_stream *stream) {
  if (gst_uri_is_valid(stream->uri)) return g_strdup(stream->uri);

  GError *error = NULL;
  gchar *uri = gst_filename_to_uri(stream->uri, &error);
  if (uri == NULL) {
    dsx_set_error(owner, "stream %u: \"%s\" is neither a URI nor a file path: %s", stream->id,
                  stream->uri, error->message);
    g_clear_error(&error);
  }
  return uri;
}

static GstElement *make_element(dsx_pipeline *owner, const char *factory, const char *name) {
  GstElement *element = gst_element_factory_make(factory, name);
  if (element == NULL) {
    dsx_set_error(owner, "GStreamer element \"%s\" is not installed: install the GStreamer "
                  "base and good plugins", factory);
  }
  return element;
}

/* Builds the GstPipeline of one source (see the diagram at the top of this file). */
static int32_t build_stream(dsx_pipeline *owner, cpu_stream *cpu, const gchar *uri) {
  char name[32];
  g_snprintf(name, sizeof name, "dsx-cpu-stream-%u", cpu->stream->id);

  cpu->pipeline = gst_pipeline_new(name);
  GstElement *decode = make_element(owner, "uridecodebin", "source");
  GstElement *queue = make_element(owner, "queue", "detect-queue");
  GstElement *scale = make_element(owner, "videoscale", "scale");
  GstElement *convert = make_element(owner, "videoconvert", "convert");
  GstElement *filter = make_element(owner, "capsfilter", "luma-caps");
  GstElement *sink = make_element(owner, "appsink", "frames");
  if (!decode || !queue || !scale || !convert || !filter || !sink) goto fail_elements;

  GstCaps *caps = gst_caps_from_string("video/x-raw, format=(string)" LUMA_FORMATS);
  if (owner->processing_width > 0) {
    gst_caps_set_simple(caps, "width", G_TYPE_INT, (gint)owner->processing_width, "height",
                        G_TYPE_INT, (gint)owner->processing_height, NULL);
  }
  g_object_set(filter, "caps", caps, NULL);
  gst_caps_unref(caps);

  /* The URI is only ever a property value, never parsed as pipeline syntax. */
  g_object_set(decode, "uri", uri, NULL);
  g_object_set(queue, "max-size-buffers", 8, "max-size-bytes", 0, "max-size-time",
               (guint64)0, NULL);
  g_object_set(sink, "sync", owner->realtime ? TRUE : FALSE, "max-buffers", 4, "drop", FALSE,
               "emit-signals", FALSE, NULL);

  GstAppSinkCallbacks callbacks = {0};
  callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, cpu, NULL);

  gst_bin_add_many(GST_BIN(cpu->pipeline), decode, queue, scale, convert, filter, sink, NULL);

  if (!gst_element_link_many(queue, scale, convert, filter, sink, NULL)) {
    dsx_set_error(owner, "stream %u: linking queue ! videoscale ! videoconvert ! appsink failed",
                  cpu->stream->id);
    return DSX_ERR_PIPELINE;
  }
  cpu->video_entry = queue;
  g_signal_connect(decode, "pad-added", G_CALLBACK(on_pad_added), cpu);
  g_signal_connect(decode, "no-more-pads", G_CALLBACK(on_no_more_pads), cpu);

  GstBus *bus = gst_element_get_bus(cpu->pipeline);
  cpu->bus_watch = gst_bus_create_watch(bus);
  g_source_set_callback(cpu->bus_watch, (GSourceFunc)(void (*)(void))on_bus_message, cpu, NULL);
  g_source_attach(cpu->bus_watch, owner->context);
  gst_object_unref(bus);
  return DSX_OK;

fail_elements:
  /* Elements not yet in a bin are floating: sink the ones that were made and drop them. */
  if (decode) gst_object_unref(gst_object_ref_sink(decode));
  if (queue) gst_object_unref(gst_object_ref_sink(queue));
  if (scale) gst_object_unref(gst_object_ref_sink(scale));
  if (convert) gst_object_unref(gst_object_ref_sink(convert));
  if (filter) gst_object_unref(gst_object_ref_sink(filter));
  if (sink) gst_object_unref(gst_object_ref_sink(sink));
  return DSX_ERR_UNAVAILABLE;
}

/* Queues an error for a source that cannot even be set up (unsupported scheme, bad path). */
static void fail_at_start(dsx_pipeline *owner, dsx_stream *stream, uint32_t code,
                          const char *text) {
  stream->error_reported = true;
  dsx_post_event(owner, (int32_t)stream->id, DSX_EVENT_ERROR, code, text);
}

static int32_t cpu_start(dsx_pipeline *owner) {
  static gsize debug_initialized = 0;
  if (g_once_init_enter(&debug_initialized)) {
    GST_DEBUG_CATEGORY_INIT(dsx_cpu_debug, "dsx-cpu", 0, "dskafka CPU backend");
    g_once_init_leave(&debug_initialized, 1);
  }

  const cpu_options *options =
      owner->backend_data != NULL ? owner->backend_data : &DEFAULT_OPTIONS;
  for (uint32_t i = 0; i < owner->stream_count; i++) {
    dsx_stream *stream = owner->streams[i];
    cpu_stream *cpu = g_new0(cpu_stream, 1);
    cpu->owner = owner;
    cpu->stream = stream;
    cpu->reconnect_initial_ms = options->reconnect_initial_ms;
    cpu->reconnect_max_ms = options->reconnect_max_ms;
    g_mutex_init(&cpu->lock);
    g_mutex_init(&cpu->discard_lock);
    stream->backend_data = cpu;
  }

  for (uint32_t i = 0; i < owner->stream_count; i++) {
    dsx_stream *stream = owner->streams[i];
    cpu_stream *cpu = stream_data(stream);

    gchar *uri = source_uri(owner, stream);
    if (uri == NULL) {
      fail_at_start(owner, stream, DSX_EVENT_CODE_NOT_FOUND, owner->last_error);
      continue;
    }

    gchar *scheme = gst_uri_get_protocol(uri);
    bool supported = scheme != NULL && gst_uri_protocol_is_supported(GST_URI_SRC, scheme);
    if (!supported) {
      char text[256];
      g_snprintf(text, sizeof text, "no GStreamer source element handles the \"%s\" scheme",
                 scheme != NULL ? scheme : "");
      fail_at_start(owner, stream, DSX_EVENT_CODE_UNSUPPORTED, text);
      g_free(scheme);
      g_free(uri);
      continue;
    }
    cpu->live = g_ascii_strncasecmp(scheme, "rtsp", 4) == 0;
    cpu->loop = options->loop && !cpu->live;
    g_free(scheme);

    int32_t status = build_stream(owner, cpu, uri);
    g_free(uri);
    if (status != DSX_OK) return status;

    /* A state change that fails (a missing file, say) posts its error on the bus first;
     * the bus thread turns it into the stream's ERROR event. */
    GstStateChangeReturn changed = gst_element_set_state(cpu->pipeline, GST_STATE_PLAYING);
    if (changed == GST_STATE_CHANGE_FAILURE) {
      GST_WARNING("stream %u: could not start %s", stream->id, stream->uri);
    }
  }
  return DSX_OK;
}

/* Cancels a pending reconnect. Lock held, or the bus thread joined. */
static void cancel_reconnect_locked(cpu_stream *cpu) {
  if (cpu->reconnect_timer == NULL) return;

  g_source_destroy(cpu->reconnect_timer);
  g_source_unref(cpu->reconnect_timer);
  cpu->reconnect_timer = NULL;
}

static void cpu_stop(dsx_pipeline *owner) {
  for (uint32_t i = 0; i < owner->stream_count; i++) {
    cpu_stream *cpu = stream_data(owner->streams[i]);
    if (cpu == NULL) continue;

    /* After this, the bus thread neither seeks nor restarts the stream. */
    g_mutex_lock(&cpu->lock);
    cpu->stopped = true;
    cancel_reconnect_locked(cpu);
    g_mutex_unlock(&cpu->lock);

    if (cpu->pipeline != NULL) gst_element_set_state(cpu->pipeline, GST_STATE_NULL);
  }
}

static void cpu_free(dsx_pipeline *owner) {
  for (uint32_t i = 0; i < owner->stream_count; i++) {
    cpu_stream *cpu = stream_data(owner->streams[i]);
    if (cpu == NULL) continue;

    /* The bus thread has been joined: no timer or bus watch runs any more. */
    cancel_reconnect_locked(cpu);
    if (cpu->bus_watch != NULL) {
      g_source_destroy(cpu->bus_watch);
      g_source_unref(cpu->bus_watch);
    }
    /* The bin owns the discard sinks, and the list only borrows them. */
    g_slist_free(cpu->discard_sinks);
    if (cpu->pipeline != NULL) gst_object_unref(cpu->pipeline);
    dsx_motion_free(cpu->motion);
    g_free(cpu->boxes);
    g_free(cpu->record);
    g_mutex_clear(&cpu->lock);
    g_mutex_clear(&cpu->discard_lock);
    g_free(cpu);
    owner->streams[i]->backend_data = NULL;
  }

  g_free(owner->backend_data);
  owner->backend_data = NULL;
}

/* ---------------------------------------------------------------------------------
 * Live-source options (public ABI since 1.1, declared in dskafka.h)
 * --------------------------------------------------------------------------------- */

/* Returns the options to change, allocating them on first use, or NULL with `*status`
 * set and the error stored. Control thread, before start. */
static cpu_options *writable_options(dsx_pipeline *pipeline, const char *function,
                                     int32_t *status) {
  if (pipeline == NULL) {
    *status = DSX_ERR_INVALID_ARGUMENT;
    return NULL;
  }
  if (pipeline->state != DSX_STATE_CONFIGURING) {
    dsx_set_error(pipeline, "%s: the pipeline has already been started", function);
    *status = DSX_ERR_INVALID_STATE;
    return NULL;
  }
  if (pipeline->backend != DSX_BACKEND_CPU) {
    dsx_set_error(pipeline, "%s: looped and reconnected sources need the cpu backend",
                  function);
    *status = DSX_ERR_UNAVAILABLE;
    return NULL;
  }

  /* NOTE: dsx_pipeline_free releases these options through cpu_free only when
   * dsx_pipeline_start got as far as starting the backend. A pipeline freed after an
   * earlier start failure leaks them (a few bytes). */
  if (pipeline->backend_data == NULL) {
    cpu_options *options = g_new(cpu_options, 1);
    *options = DEFAULT_OPTIONS;
    pipeline->backend_data = options;
  }
  return pipeline->backend_data;
}

int32_t dsx_pipeline_set_loop(dsx_pipeline *pipeline, uint32_t loop) {
  int32_t status = DSX_OK;
  cpu_options *options = writable_options(pipeline, "dsx_pipeline_set_loop", &status);
  if (options == NULL) return status;

  options->loop = loop != 0;
  return DSX_OK;
}

int32_t dsx_pipeline_set_reconnect(dsx_pipeline *pipeline, uint32_t initial_delay_ms,
                                   uint32_t max_delay_ms) {
  int32_t status = DSX_OK;
  cpu_options *options = writable_options(pipeline, "dsx_pipeline_set_reconnect", &status);
  if (options == NULL) return status;

  if (initial_delay_ms < 1 || initial_delay_ms > max_delay_ms ||
      max_delay_ms > MAX_RECONNECT_DELAY_MS) {
    dsx_set_error(pipeline,
                  "reconnect delays %u ms (initial) and %u ms (maximum) are invalid: use 1 <= "
                  "initial <= maximum <= %u",
                  initial_delay_ms, max_delay_ms, MAX_RECONNECT_DELAY_MS);
    return DSX_ERR_INVALID_ARGUMENT;
  }

  options->reconnect_initial_ms = initial_delay_ms;
  options->reconnect_max_ms = max_delay_ms;
  return DSX_OK;
}

const dsx_backend_ops dsx_backend_cpu_ops = {
    .name = "cpu",
    .start = cpu_start,
    .stop = cpu_stop,
    .free = cpu_free,
};
