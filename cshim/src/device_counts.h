/*
 * device_counts.h — per-device aggregation between messages for the nvmsgbroker branch:
 * the C twin of src/emit/device_counts.ts (DeviceCounts) and of its emission policies.
 * Fed with the same frames, it emits the same messages with the same bytes.
 *
 * Thread-safety: a dsx_device_counts belongs to one thread (the deepstream backend's
 * probe thread); nothing here locks.
 */
#ifndef DSX_DEVICE_COUNTS_H
#define DSX_DEVICE_COUNTS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dskafka.h" /* DSX_EMIT_*: the policies of src/emit/policy.ts */
#include "payload_json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The part of one frame's FrameAnalytics that a message needs. Fill the maps in the
 * order of the frame's data, because insertion order decides the key order of
 * non-numeric keys. Zero-initialised is valid and empty. */
typedef struct {
  dsx_jsmap lc_current;    /* crossings in this frame per line label */
  dsx_jsmap lc_cumulative; /* running total per line label */
  dsx_jsmap roi_counts;    /* objects per ROI label and overcrowding label */
  dsx_jsmap overcrowding;  /* 1 when the overcrowding threshold is reached */
  dsx_jsmap object_counts; /* objects per class id, keyed by the id in decimal */
  dsx_jsmap directions;    /* dsx_count_directions over the frame's objects */
} dsx_frame_counts;

/* Empties every map but keeps their memory for the next frame. */
void dsx_frame_counts_reset(dsx_frame_counts *frame);

/* Frees the maps' memory. */
void dsx_frame_counts_clear(dsx_frame_counts *frame);

typedef struct dsx_device_counts dsx_device_counts;

/* Creates the aggregator of one device with an emission policy (a DSX_EMIT_* kind and
 * its value). The texts are copied (transfer none). Returns NULL when the policy is
 * invalid: an unknown kind, or 0 frames or milliseconds. */
dsx_device_counts *dsx_device_counts_new(const char *device_id, const char *session_key,
                                         uint32_t stream_id, uint32_t emit_kind,
                                         uint64_t emit_value);

/* Frees the aggregator. NULL is a no-op. */
void dsx_device_counts_free(dsx_device_counts *counts);

/* Adds one frame (copied) and returns true when the policy makes a message due now, so
 * the caller calls dsx_device_counts_emit. DeviceCounts.add, without the snapshot. */
bool dsx_device_counts_add(dsx_device_counts *counts, uint64_t frame_number, uint64_t pts_ns,
                           const dsx_frame_counts *frame);

/* Appends the message for the latest frame to `out` and starts a new lc_curr period.
 * Returns false, with nothing appended and nothing changed, when no frame was added yet
 * or `timestamp_ms` is outside the range of a JavaScript Date. */
bool dsx_device_counts_emit(dsx_device_counts *counts, int64_t timestamp_ms, GString *out);

/* DeviceCounts.finish: emits like dsx_device_counts_emit when the latest frame was not
 * emitted yet; returns false otherwise. */
bool dsx_device_counts_finish(dsx_device_counts *counts, int64_t timestamp_ms, GString *out);

/* Returns the number of messages emitted so far. */
uint64_t dsx_device_counts_emitted(const dsx_device_counts *counts);

#ifdef __cplusplus
}
#endif

#endif /* DSX_DEVICE_COUNTS_H */
