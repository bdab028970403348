/*
 * decoded_video.c — links the first video pad of a uridecodebin to the element that
 * converts it. Called from pad-added handlers, on decodebin streaming threads; it owns
 * no state besides the caller's atomic `video_linked` flag.
 */
#include "decoded_video.h"

GST_DEBUG_CATEGORY_STATIC(dsx_decoded_video_debug);
#define GST_CAT_DEFAULT dsx_decoded_video_debug

static void init_debug_category(void) {
  static gsize initialized = 0;
  if (g_once_init_enter(&initialized)) {
    GST_DEBUG_CATEGORY_INIT(dsx_decoded_video_debug, "dsx-decoded-video", 0,
                            "dskafka decoded video pads");
    g_once_init_leave(&initialized, 1);
  }
}

bool dsx_link_decoded_video(GstElement *pipeline, GstPad *pad, GstElement *target,
                            gint *video_linked) {
  init_debug_category();

  GstCaps *caps = gst_pad_get_current_caps(pad);
  if (caps == NULL) caps = gst_pad_query_caps(pad, NULL);
  const GstStructure *structure = gst_caps_is_empty(caps) ? NULL : gst_caps_get_structure(caps, 0);
  const char *media = structure != NULL ? gst_structure_get_name(structure) : "(no caps)";
  bool linked_ok = true;

  if (!g_str_has_prefix(media, "video/") || g_atomic_int_get(video_linked)) {
    GST_DEBUG_OBJECT(pipeline, "leaving a %s pad unlinked", media);
    goto out;
  }

  GstPad *sink = gst_element_get_static_pad(target, "sink");
  GstPadLinkReturn linked = gst_pad_link(pad, sink);
  gst_object_unref(sink);
  if (linked == GST_PAD_LINK_OK) {
    g_atomic_int_set(video_linked, 1);
    GST_INFO_OBJECT(pipeline, "linked video pad with caps %" GST_PTR_FORMAT, caps);
  } else {
    GST_WARNING_OBJECT(pipeline, "linking the video pad failed: %s", gst_pad_link_get_name(linked));
    linked_ok = false;
  }

out:
  gst_caps_unref(caps);
  return linked_ok;
}
