/*
 * motion.h — the CPU backend's moving-object detector (internal to the shim).
 *
 * Input: 8-bit luma frames of one fixed-camera stream, in order. Output: boxes of moving
 * objects in pixels of the input frame. The detector owns its background model and is
 * used by one thread at a time (the stream's streaming thread); it keeps no global state.
 */
#ifndef DSX_MOTION_H
#define DSX_MOTION_H

#include <stdint.h>

#include "dskafka.h"

typedef struct {
  float left, top, width, height; /* pixels of the input frame */
} dsx_box;

typedef struct dsx_motion dsx_motion;

/* Creates a detector for frames of `width` x `height` arriving at `fps` frames per
 * second (used to turn the seconds in `params` into frame counts; a value <= 0 means
 * 30). `params` may be NULL for the defaults and is copied.
 * Returns: (transfer full) a detector, or NULL when memory is exhausted or a size is 0. */
dsx_motion *dsx_motion_new(uint32_t width, uint32_t height, double fps,
                           const dsx_detector_params *params);

/* Processes one frame. `luma` points at `height` rows of `width` bytes, `stride` bytes
 * apart (transfer none, read during the call only). Writes at most `max_boxes` boxes,
 * largest area first, and returns the number of objects found, which may exceed
 * `max_boxes`. The first frame only initializes the model and returns 0. */
uint32_t dsx_motion_process(dsx_motion *motion, const uint8_t *luma, uint32_t stride,
                            dsx_box *boxes, uint32_t max_boxes);

/* Releases the detector. NULL is a no-op. */
void dsx_motion_free(dsx_motion *motion);

#endif /* DSX_MOTION_H */
