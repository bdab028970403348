/*
 * payload_json.h — the analytics message as JSON text, byte for byte as the TypeScript
 * builder (src/payload/message.ts) produces it with JSON.stringify, for the nvmsgbroker
 * branch of the deepstream backend. Plain C with GLib; no GStreamer or DeepStream types.
 *
 * Fidelity rules, each a behaviour of JavaScript that the writer reproduces:
 *   - key order of an object (dsx_jsmap): keys that are array indices ("0" …
 *     "4294967294", no leading zero) come first in ascending numeric order, then the
 *     other keys in insertion order. Setting an existing key keeps its position;
 *   - strings: invalid UTF-8 becomes U+FFFD as TextDecoder decodes it (WHATWG
 *     "maximal subpart" rule); escaping as JSON.stringify does it, with \b \t \n \f \r
 *     \" \\ and lowercase \u00xx for the other control characters; everything else,
 *     non-ASCII included, is copied as UTF-8;
 *   - numbers: integers up to 2^53 exactly, larger ones as a JavaScript Number prints
 *     them (the nearest double, shortest round-trip digits, then zeros);
 *   - @timestamp: Date.prototype.toISOString, including the six-digit signed years
 *     outside 0000–9999 and the ±8.64e15 ms range limit.
 *
 * Thread-safety: no global state; each object is used by one thread at a time.
 */
#ifndef DSX_PAYLOAD_JSON_H
#define DSX_PAYLOAD_JSON_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx" and its terminator. */
#define DSX_MESSAGE_ID_BYTES 37u
/* "+275760-09-13T00:00:00.000Z" and its terminator. */
#define DSX_ISO_TIMESTAMP_BYTES 28u

/* One key of a dsx_jsmap. `key` is valid UTF-8 (see dsx_jsmap_set), NUL-terminated, and
 * may also contain NUL characters, so `key_length` is authoritative. */
typedef struct {
  char *key;
  size_t key_length;
  uint64_t value;
} dsx_jsmap_entry;

/* A map from text keys to unsigned integers with the semantics of a JavaScript object
 * used as a dictionary: one entry per key, insertion order remembered, JavaScript key
 * order applied when written. Lookups are linear, which suits the few dozen lines, ROIs
 * and classes of an nvdsanalytics config. Zero-initialised is a valid empty map. */
typedef struct {
  dsx_jsmap_entry *entries;
  size_t count;
  size_t capacity;
} dsx_jsmap;

/* Empties the map and frees its memory. The map stays usable. */
void dsx_jsmap_clear(dsx_jsmap *map);

/* Removes every entry but keeps the entry array for reuse. */
void dsx_jsmap_reset(dsx_jsmap *map);

/* Sets `key` (`length` bytes, any bytes: invalid UTF-8 is replaced as TextDecoder does,
 * before the key is compared) to `value`. A new key goes last; an existing key keeps its
 * place. The key is copied. */
void dsx_jsmap_set(dsx_jsmap *map, const char *key, size_t length, uint64_t value);

/* Adds `delta` to the value of `key`, or sets it to `delta` when absent: JavaScript's
 * `map[key] = (map[key] ?? 0) + delta`, exact in 64 bits. */
void dsx_jsmap_add(dsx_jsmap *map, const char *key, size_t length, uint64_t delta);

/* Looks `key` up; stores its value in `*value` and returns true when present. */
bool dsx_jsmap_get(const dsx_jsmap *map, const char *key, size_t length, uint64_t *value);

/* Makes `target` an entry-by-entry copy of `source` (JavaScript's `{ ...source }`). */
void dsx_jsmap_assign(dsx_jsmap *target, const dsx_jsmap *source);

/* The inputs of one message, as buildMessage takes them. Maps are borrowed for the call. */
typedef struct {
  const char *message_id; /* NUL-terminated, written as a JSON string */
  int64_t timestamp_ms;   /* @timestamp, milliseconds since the Unix epoch */
  const char *device_id;
  size_t device_id_length;
  uint32_t stream_id;
  uint64_t frame_number;
  uint64_t pts_ns; /* written as ptsMs, truncated like BigInt division */
  /* lc_curr_<label> and lc_cum_<label> for each key of lc_cumulative, in JavaScript
   * order; a label missing from lc_current counts 0. */
  const dsx_jsmap *lc_current;
  const dsx_jsmap *lc_cumulative;
  const dsx_jsmap *roi_counts;   /* "roi", and the counts of "overcrowding" */
  const dsx_jsmap *overcrowding; /* value 0 = false, anything else = true */
  const dsx_jsmap *object_counts; /* keys are class ids as decimal text */
  const dsx_jsmap *directions;    /* see dsx_count_directions */
} dsx_message;

/* Appends the message's JSON text to `out`. Returns false, leaving `out` unchanged,
 * when timestamp_ms is outside the range of a JavaScript Date (toISOString throws). */
bool dsx_message_write(const dsx_message *message, GString *out);

/* Appends `map` as a JSON object of numbers to `out`, in JavaScript key order. */
void dsx_json_write_counts(GString *out, const dsx_jsmap *map);

/* Appends `map` as a JSON object of booleans to `out`, in JavaScript key order. */
void dsx_json_write_flags(GString *out, const dsx_jsmap *map);

/* Writes the message id of messageIdFor: the first 16 bytes of the SHA-1 of
 * "<device id>\n<session key>\n<frame number>" as a UUID with version 5 and the RFC 4122
 * variant, into `out`, NUL-terminated. Both texts go through the same UTF-8 repair as
 * dsx_jsmap keys. */
void dsx_message_id(const char *device_id, size_t device_id_length, const char *session_key,
                    size_t session_key_length, uint64_t frame_number,
                    char out[DSX_MESSAGE_ID_BYTES]);

/* Writes Date.prototype.toISOString of `ms` into `out`. Returns false when `ms` is
 * outside ±8.64e15, where a Date is invalid. */
bool dsx_iso_timestamp(int64_t ms, char out[DSX_ISO_TIMESTAMP_BYTES]);

/* Counts, in `counts`, every direction label that `status` names: each match of the
 * JavaScript regular expression /DIR:(\S+)/g adds 1 to its capture, with \S meaning
 * "not JavaScript whitespace". Call it once per object, in object order. */
void dsx_count_directions(dsx_jsmap *counts, const char *status, size_t length);

/* Returns the number of bytes of a leading UTF-8 byte order mark of `text` (3 or 0).
 * TextDecoder drops it from each label it decodes, so the JSON path drops it too. */
size_t dsx_label_bom_length(const char *text, size_t length);

#ifdef __cplusplus
}
#endif

#endif /* DSX_PAYLOAD_JSON_H */
