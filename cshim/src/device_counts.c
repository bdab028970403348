/*
 * device_counts.c — per-device aggregation and emission policy of the nvmsgbroker
 * branch, step for step as DeviceCounts in src/emit/device_counts.ts:
 *
 *   add(frame):  pending[label] += crossings of this frame; latest = frame;
 *                due = policy(frame)
 *   emit():      message with lc_curr = pending (0 for lines without crossings),
 *                lc_cum and the other counts of the latest frame; pending = {}
 *   finish():    emit() unless the latest frame was already emitted
 *
 * lc_curr therefore counts every crossing since the device's previous message, and the
 * sum of lc_curr over all messages equals the last lc_cum. The golden sequences in
 * tests/fixtures/payloads/sequences hold what the TypeScript class emits for the same
 * frames; cshim/tests/payload_json_test.c replays them here.
 */
#include "device_counts.h"

#include <string.h>

struct dsx_device_counts {
  char *device_id;
  size_t device_id_length;
  char *session_key;
  size_t session_key_length;
  uint32_t stream_id;
  uint32_t kind;   /* DSX_EMIT_* */
  uint64_t value; /* frames of DSX_EMIT_FRAMES, milliseconds of DSX_EMIT_INTERVAL */

  dsx_jsmap pending; /* crossings per line label since the previous message */
  dsx_frame_counts latest;
  bool has_latest;
  uint64_t latest_frame;
  uint64_t latest_pts_ns;

  bool has_emitted;
  uint64_t last_emit_frame; /* 0 before the first message; frame numbers start at 1 */
  uint64_t last_emit_pts_ns;
  uint64_t sequence;

  GString *last_signature; /* DSX_EMIT_CHANGE: the previous frame's counts as JSON */
  GString *signature;      /* scratch for the current frame's */
};

void dsx_frame_counts_reset(dsx_frame_counts *frame) {
  dsx_jsmap_reset(&frame->lc_current);
  dsx_jsmap_reset(&frame->lc_cumulative);
  dsx_jsmap_reset(&frame->roi_counts);
  dsx_jsmap_reset(&frame->overcrowding);
  dsx_jsmap_reset(&frame->object_counts);
  dsx_jsmap_reset(&frame->directions);
}

void dsx_frame_counts_clear(dsx_frame_counts *frame) {
  dsx_jsmap_clear(&frame->lc_current);
  dsx_jsmap_clear(&frame->lc_cumulative);
  dsx_jsmap_clear(&frame->roi_counts);
  dsx_jsmap_clear(&frame->overcrowding);
  dsx_jsmap_clear(&frame->object_counts);
  dsx_jsmap_clear(&frame->directions);
}

dsx_device_counts *dsx_device_counts_new(const char *device_id, const char *session_key,
                                         uint32_t stream_id, uint32_t emit_kind,
                                         uint64_t emit_value) {
  bool valid_kind = emit_kind == DSX_EMIT_FRAMES || emit_kind == DSX_EMIT_INTERVAL ||
                    emit_kind == DSX_EMIT_CHANGE;
  if (!valid_kind || device_id == NULL || session_key == NULL) return NULL;
  if (emit_kind != DSX_EMIT_CHANGE && emit_value == 0) return NULL;

  dsx_device_counts *counts = g_new0(dsx_device_counts, 1);
  counts->device_id = g_strdup(device_id);
  counts->device_id_length = strlen(device_id);
  counts->session_key = g_strdup(session_key);
  counts->session_key_length = strlen(session_key);
  counts->stream_id = stream_id;
  counts->kind = emit_kind;
  counts->value = emit_value;
  counts->last_signature = g_string_new("");
  counts->signature = g_string_new("");
  return counts;
}

void dsx_device_counts_free(dsx_device_counts *counts) {
  if (counts == NULL) return;

  g_free(counts->device_id);
  g_free(counts->session_key);
  dsx_jsmap_clear(&counts->pending);
  dsx_frame_counts_clear(&counts->latest);
  g_string_free(counts->last_signature, TRUE);
  g_string_free(counts->signature, TRUE);
  g_free(counts);
}

/* Writes JSON.stringify([cumulative, roiCounts, overcrowding, objectCounts]) of a
 * frame: the change policy compares these texts, so key order matters as it does in
 * TypeScript. */
static void write_signature(GString *out, const dsx_frame_counts *frame) {
  g_string_truncate(out, 0);
  g_string_append_c(out, '[');
  dsx_json_write_counts(out, &frame->lc_cumulative);
  g_string_append_c(out, ',');
  dsx_json_write_counts(out, &frame->roi_counts);
  g_string_append_c(out, ',');
  dsx_json_write_flags(out, &frame->overcrowding);
  g_string_append_c(out, ',');
  dsx_json_write_counts(out, &frame->object_counts);
  g_string_append_c(out, ']');
}

static bool is_due(dsx_device_counts *counts, uint64_t frame_number, uint64_t pts_ns,
                   const dsx_frame_counts *frame) {
  switch (counts->kind) {
    case DSX_EMIT_FRAMES:
      return frame_number % counts->value == 0;

    case DSX_EMIT_INTERVAL:
      /* TypeScript divides the BigInt difference, which truncates towards zero, so a
       * timestamp that went backwards never makes a message due. */
      if (!counts->has_emitted) return true;
      return pts_ns >= counts->last_emit_pts_ns &&
             (pts_ns - counts->last_emit_pts_ns) / 1000000u >= counts->value;

    case DSX_EMIT_CHANGE: {
      write_signature(counts->signature, frame);
      bool changed = !g_string_equal(counts->signature, counts->last_signature);
      GString *previous = counts->last_signature;
      counts->last_signature = counts->signature;
      counts->signature = previous;
      return changed;
    }
  }
  return false;
}

bool dsx_device_counts_add(dsx_device_counts *counts, uint64_t frame_number, uint64_t pts_ns,
                           const dsx_frame_counts *frame) {
  for (size_t i = 0; i < frame->lc_current.count; i++) {
    const dsx_jsmap_entry *entry = &frame->lc_current.entries[i];
    dsx_jsmap_add(&counts->pending, entry->key, entry->key_length, entry->value);
  }

  dsx_jsmap_assign(&counts->latest.lc_current, &frame->lc_current);
  dsx_jsmap_assign(&counts->latest.lc_cumulative, &frame->lc_cumulative);
  dsx_jsmap_assign(&counts->latest.roi_counts, &frame->roi_counts);
  dsx_jsmap_assign(&counts->latest.overcrowding, &frame->overcrowding);
  dsx_jsmap_assign(&counts->latest.object_counts, &frame->object_counts);
  dsx_jsmap_assign(&counts->latest.directions, &frame->directions);
  counts->has_latest = true;
  counts->latest_frame = frame_number;
  counts->latest_pts_ns = pts_ns;

  return is_due(counts, frame_number, pts_ns, frame);
}

bool dsx_device_counts_emit(dsx_device_counts *counts, int64_t timestamp_ms, GString *out) {
  char timestamp[DSX_ISO_TIMESTAMP_BYTES];
  if (!counts->has_latest || !dsx_iso_timestamp(timestamp_ms, timestamp)) return false;

  char message_id[DSX_MESSAGE_ID_BYTES];
  dsx_message_id(counts->device_id, counts->device_id_length, counts->session_key,
                 counts->session_key_length, counts->latest_frame, message_id);

  /* `pending` serves as lc_current: the writer reads it only for the labels of
   * lc_cumulative and writes 0 for the others, as the snapshot in TypeScript does. */
  const dsx_message message = {
      .message_id = message_id,
      .timestamp_ms = timestamp_ms,
      .device_id = counts->device_id,
      .device_id_length = counts->device_id_length,
      .stream_id = counts->stream_id,
      .frame_number = counts->latest_frame,
      .pts_ns = counts->latest_pts_ns,
      .lc_current = &counts->pending,
      .lc_cumulative = &counts->latest.lc_cumulative,
      .roi_counts = &counts->latest.roi_counts,
      .overcrowding = &counts->latest.overcrowding,
      .object_counts = &counts->latest.object_counts,
      .directions = &counts->latest.directions,
  };
  if (!dsx_message_write(&message, out)) return false;

  counts->sequence++;
  counts->has_emitted = true;
  counts->last_emit_frame = counts->latest_frame;
  counts->last_emit_pts_ns = counts->latest_pts_ns;
  dsx_jsmap_reset(&counts->pending);
  return true;
}

bool dsx_device_counts_finish(dsx_device_counts *counts, int64_t timestamp_ms, GString *out) {
  if (!counts->has_latest || counts->latest_frame == counts->last_emit_frame) return false;
  return dsx_device_counts_emit(counts, timestamp_ms, out);
}

uint64_t dsx_device_counts_emitted(const dsx_device_counts *counts) { return counts->sequence; }
