/*
 * decoded_video.h — linking the video pad of a uridecodebin, shared by the snapshot and
 * the frame reader, which both decode one input to RGBA and ignore its other streams.
 */
#ifndef DSX_DECODED_VIDEO_H
#define DSX_DECODED_VIDEO_H

#include <gst/gst.h>
#include <stdbool.h>

/* Links `pad`, a new pad of a uridecodebin in `pipeline`, to the sink pad of `target`
 * when it is the first video pad; leaves other pads (audio, subtitles, a second video
 * stream) unlinked. `video_linked` is an atomic flag set once a video pad is linked.
 * Returns false only when linking a video pad failed, and the caller then posts its
 * error. Decodebin streaming thread. */
bool dsx_link_decoded_video(GstElement *pipeline, GstPad *pad, GstElement *target,
                            gint *video_linked);

#endif /* DSX_DECODED_VIDEO_H */
