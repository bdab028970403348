/*
 * payload_json.c — writes the analytics message with the bytes that JSON.stringify
 * gives in src/payload/message.ts. See payload_json.h for the rules reproduced here.
 *
 * The golden files in tests/fixtures/payloads (made by the TypeScript builder) are the
 * reference: cshim/tests/payload_json_test.c compares this writer with them byte for
 * byte, so a change on either side that alters the text fails a test.
 *
 * Every string is repaired to valid UTF-8 before it is compared or written, because the
 * TypeScript side decodes the shim's label records with TextDecoder, which replaces
 * invalid sequences with U+FFFD.
 */
#include "payload_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Constants of the message layout; they must stay equal to those of message.ts. */
#define MESSAGE_VERSION "1.0"
#define MODULE_DESCRIPTION "nvdsanalytics line crossing, ROI, overcrowding and direction counts"
#define MODULE_SOURCE "dskafka"

/* Largest integer that a JavaScript Number represents exactly. */
#define MAX_EXACT_INTEGER (UINT64_C(1) << 53)
/* Largest array index of a JavaScript object key: 2^32 - 2. */
#define MAX_ARRAY_INDEX UINT64_C(4294967294)
/* Date's range: ±100,000,000 days from the epoch, in milliseconds. */
#define MAX_DATE_MS INT64_C(8640000000000000)
#define MS_PER_DAY INT64_C(86400000)

/* ---------------------------------------------------------------------------------
 * UTF-8 repair
 * --------------------------------------------------------------------------------- */

static void append_replacement(GString *out) { g_string_append_len(out, "\xEF\xBF\xBD", 3); }

/* Appends `text` to `out` as TextDecoder would decode it and TextEncoder encode it
 * again: the WHATWG UTF-8 decoder, where each maximal invalid subsequence becomes one
 * U+FFFD and the byte that broke a sequence is read again as a possible start. */
static void append_repaired(GString *out, const char *text, size_t length) {
  /* GLib's validator rejects NUL bytes, which are valid UTF-8; those inputs take the
   * slow path, which keeps them. */
  if (g_utf8_validate_len(text, length, NULL)) {
    g_string_append_len(out, text, (gssize)length);
    return;
  }

  const uint8_t *bytes = (const uint8_t *)text;
  uint32_t code_point = 0;
  unsigned needed = 0, seen = 0;
  uint8_t lower = 0x80, upper = 0xBF;
  size_t i = 0;

  while (i < length) {
    uint8_t byte = bytes[i];

    if (needed == 0) {
      i++;
      if (byte < 0x80) {
        g_string_append_c(out, (char)byte);
      } else if (byte >= 0xC2 && byte <= 0xDF) {
        needed = 1;
        code_point = byte & 0x1Fu;
      } else if (byte >= 0xE0 && byte <= 0xEF) {
        if (byte == 0xE0) lower = 0xA0; /* no overlong forms */
        if (byte == 0xED) upper = 0x9F; /* no surrogates */
        needed = 2;
        code_point = byte & 0x0Fu;
      } else if (byte >= 0xF0 && byte <= 0xF4) {
        if (byte == 0xF0) lower = 0x90; /* no overlong forms */
        if (byte == 0xF4) upper = 0x8F; /* nothing above U+10FFFF */
        needed = 3;
        code_point = byte & 0x07u;
      } else {
        append_replacement(out);
      }
      continue;
    }

    if (byte < lower || byte > upper) {
      /* The sequence is broken: one U+FFFD for the bytes read so far; `byte` is not
       * consumed and starts over. */
      code_point = 0;
      needed = seen = 0;
      lower = 0x80;
      upper = 0xBF;
      append_replacement(out);
      continue;
    }

    i++;
    lower = 0x80;
    upper = 0xBF;
    code_point = code_point << 6 | (byte & 0x3Fu);
    if (++seen == needed) {
      g_string_append_unichar(out, code_point);
      code_point = 0;
      needed = seen = 0;
    }
  }
  if (needed != 0) append_replacement(out);
}

/* Points `*repaired` at valid UTF-8 equal to the repair of `text`: `text` itself when it
 * is already valid, else the contents of `scratch`, which the caller frees. */
static void repair_view(const char *text, size_t length, GString **scratch,
                        const char **repaired, size_t *repaired_length) {
  *scratch = NULL;
  if (g_utf8_validate_len(text, length, NULL)) {
    *repaired = text;
    *repaired_length = length;
    return;
  }

  *scratch = g_string_sized_new(length + 8);
  append_repaired(*scratch, text, length);
  *repaired = (*scratch)->str;
  *repaired_length = (*scratch)->len;
}

size_t dsx_label_bom_length(const char *text, size_t length) {
  return length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* ---------------------------------------------------------------------------------
 * Maps
 * --------------------------------------------------------------------------------- */

void dsx_jsmap_reset(dsx_jsmap *map) {
  for (size_t i = 0; i < map->count; i++) g_free(map->entries[i].key);
  map->count = 0;
}

void dsx_jsmap_clear(dsx_jsmap *map) {
  dsx_jsmap_reset(map);
  g_free(map->entries);
  map->entries = NULL;
  map->capacity = 0;
}

/* Returns the entry whose key is `key` (already repaired), or NULL. */
static dsx_jsmap_entry *find_entry(const dsx_jsmap *map, const char *key, size_t length) {
  for (size_t i = 0; i < map->count; i++) {
    dsx_jsmap_entry *entry = &map->entries[i];
    if (entry->key_length == length && memcmp(entry->key, key, length) == 0) return entry;
  }
  return NULL;
}

/* Appends a new entry for `key` (already repaired) and returns it. */
static dsx_jsmap_entry *append_entry(dsx_jsmap *map, const char *key, size_t length) {
  if (map->count == map->capacity) {
    map->capacity = map->capacity == 0 ? 8 : map->capacity * 2;
    map->entries = g_renew(dsx_jsmap_entry, map->entries, map->capacity);
  }

  dsx_jsmap_entry *entry = &map->entries[map->count++];
  entry->key = g_malloc(length + 1);
  memcpy(entry->key, key, length);
  entry->key[length] = '\0';
  entry->key_length = length;
  entry->value = 0;
  return entry;
}

/* Returns the entry of `key` (any bytes), appending it when absent. */
static dsx_jsmap_entry *upsert(dsx_jsmap *map, const char *key, size_t length) {
  GString *scratch = NULL;
  const char *repaired = NULL;
  size_t repaired_length = 0;
  repair_view(key, length, &scratch, &repaired, &repaired_length);

  dsx_jsmap_entry *entry = find_entry(map, repaired, repaired_length);
  if (entry == NULL) entry = append_entry(map, repaired, repaired_length);

  if (scratch != NULL) g_string_free(scratch, TRUE);
  return entry;
}

void dsx_jsmap_set(dsx_jsmap *map, const char *key, size_t length, uint64_t value) {
  upsert(map, key, length)->value = value;
}

void dsx_jsmap_add(dsx_jsmap *map, const char *key, size_t length, uint64_t delta) {
  upsert(map, key, length)->value += delta;
}

bool dsx_jsmap_get(const dsx_jsmap *map, const char *key, size_t length, uint64_t *value) {
  GString *scratch = NULL;
  const char *repaired = NULL;
  size_t repaired_length = 0;
  repair_view(key, length, &scratch, &repaired, &repaired_length);

  const dsx_jsmap_entry *entry = find_entry(map, repaired, repaired_length);
  if (entry != NULL && value != NULL) *value = entry->value;

  if (scratch != NULL) g_string_free(scratch, TRUE);
  return entry != NULL;
}

void dsx_jsmap_assign(dsx_jsmap *target, const dsx_jsmap *source) {
  if (target == source) return;

  dsx_jsmap_reset(target);
  for (size_t i = 0; i < source->count; i++) {
    const dsx_jsmap_entry *from = &source->entries[i];
    append_entry(target, from->key, from->key_length)->value = from->value;
  }
}

/* Returns true when `key` is a canonical array index, storing it in `*index`. */
static bool array_index_of(const char *key, size_t length, uint32_t *index) {
  if (length == 0 || length > 10) return false;
  if (key[0] == '0' && length > 1) return false;

  uint64_t value = 0;
  for (size_t i = 0; i < length; i++) {
    if (key[i] < '0' || key[i] > '9') return false;
    value = value * 10 + (uint64_t)(key[i] - '0');
  }
  if (value > MAX_ARRAY_INDEX) return false;

  *index = (uint32_t)value;
  return true;
}

typedef struct {
  uint32_t index;
  const dsx_jsmap_entry *entry;
} indexed_entry;

static int compare_indices(const void *a, const void *b) {
  uint32_t left = ((const indexed_entry *)a)->index;
  uint32_t right = ((const indexed_entry *)b)->index;
  return left < right ? -1 : left > right;
}

/* Returns (transfer full) the map's entries in the order in which JavaScript lists the
 * keys of an object: array indices ascending, then the rest in insertion order. */
static const dsx_jsmap_entry **js_key_order(const dsx_jsmap *map) {
  const dsx_jsmap_entry **order = g_new(const dsx_jsmap_entry *, map->count + 1);
  indexed_entry *indices = g_new(indexed_entry, map->count + 1);
  size_t index_count = 0;

  for (size_t i = 0; i < map->count; i++) {
    uint32_t index = 0;
    if (array_index_of(map->entries[i].key, map->entries[i].key_length, &index)) {
      indices[index_count].index = index;
      indices[index_count].entry = &map->entries[i];
      index_count++;
    }
  }
  /* Keys are unique, so indices are too, and the sort needs no stability. */
  qsort(indices, index_count, sizeof *indices, compare_indices);

  size_t filled = 0;
  for (size_t i = 0; i < index_count; i++) order[filled++] = indices[i].entry;
  for (size_t i = 0; i < map->count; i++) {
    uint32_t index = 0;
    if (!array_index_of(map->entries[i].key, map->entries[i].key_length, &index)) {
      order[filled++] = &map->entries[i];
    }
  }

  g_free(indices);
  return order;
}

/* ---------------------------------------------------------------------------------
 * JSON primitives
 * --------------------------------------------------------------------------------- */

/* Appends valid UTF-8 `text` with JSON.stringify's escapes, without quotes. */
static void append_escaped(GString *out, const char *text, size_t length) {
  for (size_t i = 0; i < length; i++) {
    unsigned char byte = (unsigned char)text[i];
    switch (byte) {
      case '"':
        g_string_append_len(out, "\\\"", 2);
        break;
      case '\\':
        g_string_append_len(out, "\\\\", 2);
        break;
      case '\b':
        g_string_append_len(out, "\\b", 2);
        break;
      case '\f':
        g_string_append_len(out, "\\f", 2);
        break;
      case '\n':
        g_string_append_len(out, "\\n", 2);
        break;
      case '\r':
        g_string_append_len(out, "\\r", 2);
        break;
      case '\t':
        g_string_append_len(out, "\\t", 2);
        break;
      default:
        if (byte < 0x20) {
          g_string_append_printf(out, "\\u%04x", byte);
        } else {
          g_string_append_c(out, (char)byte);
        }
    }
  }
}

/* Appends `prefix` (ASCII without characters to escape) and `text` (any bytes) as one
 * JSON string. */
static void append_string_with_prefix(GString *out, const char *prefix, const char *text,
                                      size_t length) {
  GString *scratch = NULL;
  const char *repaired = NULL;
  size_t repaired_length = 0;
  repair_view(text, length, &scratch, &repaired, &repaired_length);

  g_string_append_c(out, '"');
  g_string_append(out, prefix);
  append_escaped(out, repaired, repaired_length);
  g_string_append_c(out, '"');

  if (scratch != NULL) g_string_free(scratch, TRUE);
}

static void append_string(GString *out, const char *text, size_t length) {
  append_string_with_prefix(out, "", text, length);
}

/* Appends `value` as Number(value) prints: exact up to 2^53; above, the nearest double
 * in its shortest round-trip digits followed by zeros. Every uint64_t is below 1e21, so
 * the exponent form of Number.prototype.toString never applies. */
static void append_js_integer(GString *out, uint64_t value) {
  if (value <= MAX_EXACT_INTEGER) {
    g_string_append_printf(out, "%" G_GUINT64_FORMAT, value);
    return;
  }

  /* The conversion rounds to nearest, ties to even, as Number(bigint) does. */
  double number = (double)value;

  /* Finds the fewest significant digits that read back as the same double. printf
   * rounds correctly, so the result is also the closest such digit string, which is
   * the one ECMAScript requires. */
  char scientific[40];
  for (int precision = 0; precision <= 16; precision++) {
    snprintf(scientific, sizeof scientific, "%.*e", precision, number);
    if (strtod(scientific, NULL) == number) break;
  }

  char digits[24];
  size_t digit_count = 0;
  const char *cursor = scientific;
  for (; *cursor != 'e'; cursor++) {
    if (*cursor != '.') digits[digit_count++] = *cursor;
  }
  long exponent = strtol(cursor + 1, NULL, 10);

  /* The integer has exponent + 1 digits: the significant ones, then zeros. */
  g_string_append_len(out, digits, (gssize)digit_count);
  for (long zeros = exponent + 1 - (long)digit_count; zeros > 0; zeros--) {
    g_string_append_c(out, '0');
  }
}

/* Appends a map as a JSON object whose values `write_value` formats. */
static void append_object(GString *out, const dsx_jsmap *map,
                          void (*write_value)(GString *out, uint64_t value)) {
  const dsx_jsmap_entry **order = js_key_order(map);

  g_string_append_c(out, '{');
  for (size_t i = 0; i < map->count; i++) {
    if (i > 0) g_string_append_c(out, ',');
    append_string(out, order[i]->key, order[i]->key_length);
    g_string_append_c(out, ':');
    write_value(out, order[i]->value);
  }
  g_string_append_c(out, '}');

  g_free(order);
}

static void write_boolean(GString *out, uint64_t value) {
  g_string_append(out, value != 0 ? "true" : "false");
}

void dsx_json_write_counts(GString *out, const dsx_jsmap *map) {
  append_object(out, map, append_js_integer);
}

void dsx_json_write_flags(GString *out, const dsx_jsmap *map) {
  append_object(out, map, write_boolean);
}

/* ---------------------------------------------------------------------------------
 * Timestamps and message ids
 * --------------------------------------------------------------------------------- */

/* Converts days since 1970-01-01 to a proleptic Gregorian date. The calendar repeats
 * every 400 years (146,097 days). Counting years from 1 March puts the leap day at the
 * end of each year, so month lengths follow a fixed pattern of 153 days per 5 months. */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day) {
  int64_t shifted = days + 719468; /* days from 0000-03-01 */
  int64_t era = (shifted >= 0 ? shifted : shifted - 146096) / 146097;
  int64_t day_of_era = shifted - era * 146097;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;

  *day = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  *month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

/* Writes `value` as exactly `width` decimal digits, zero-padded, and returns the end. */
static char *put_digits(char *at, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; i--) {
    at[i] = (char)('0' + value % 10);
    value /= 10;
  }
  return at + width;
}

bool dsx_iso_timestamp(int64_t ms, char out[DSX_ISO_TIMESTAMP_BYTES]) {
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return false;

  int64_t days = ms / MS_PER_DAY;
  int64_t ms_of_day = ms % MS_PER_DAY;
  if (ms_of_day < 0) {
    ms_of_day += MS_PER_DAY;
    days -= 1;
  }

  int64_t year = 0;
  int month = 0, day = 0;
  civil_from_days(days, &year, &month, &day);

  /* Years 0000–9999 have four digits; the others a sign and six (the range limit keeps
   * them within ±275760). */
  char *at = out;
  if (year >= 0 && year <= 9999) {
    at = put_digits(at, (uint64_t)year, 4);
  } else {
    *at++ = year < 0 ? '-' : '+';
    at = put_digits(at, (uint64_t)(year < 0 ? -year : year), 6);
  }
  *at++ = '-';
  at = put_digits(at, (uint64_t)month, 2);
  *at++ = '-';
  at = put_digits(at, (uint64_t)day, 2);
  *at++ = 'T';
  at = put_digits(at, (uint64_t)(ms_of_day / 3600000), 2);
  *at++ = ':';
  at = put_digits(at, (uint64_t)(ms_of_day / 60000 % 60), 2);
  *at++ = ':';
  at = put_digits(at, (uint64_t)(ms_of_day / 1000 % 60), 2);
  *at++ = '.';
  at = put_digits(at, (uint64_t)(ms_of_day % 1000), 3);
  *at++ = 'Z';
  *at = '\0';
  return true;
}

void dsx_message_id(const char *device_id, size_t device_id_length, const char *session_key,
                    size_t session_key_length, uint64_t frame_number,
                    char out[DSX_MESSAGE_ID_BYTES]) {
  GString *text = g_string_sized_new(device_id_length + session_key_length + 24);
  append_repaired(text, device_id, device_id_length);
  g_string_append_c(text, '\n');
  append_repaired(text, session_key, session_key_length);
  g_string_append_c(text, '\n');
  append_js_integer(text, frame_number);

  guint8 digest[20];
  gsize digest_length = sizeof digest;
  GChecksum *checksum = g_checksum_new(G_CHECKSUM_SHA1);
  g_checksum_update(checksum, (const guchar *)text->str, (gssize)text->len);
  g_checksum_get_digest(checksum, digest, &digest_length);
  g_checksum_free(checksum);
  g_string_free(text, TRUE);

  digest[6] = (guint8)((digest[6] & 0x0F) | 0x50); /* version 5: name-based, SHA-1 */
  digest[8] = (guint8)((digest[8] & 0x3F) | 0x80); /* RFC 4122 variant */

  static const char hex[] = "0123456789abcdef";
  size_t position = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[position++] = '-';
    out[position++] = hex[digest[i] >> 4];
    out[position++] = hex[digest[i] & 0x0F];
  }
  out[position] = '\0';
}

/* ---------------------------------------------------------------------------------
 * Directions
 * --------------------------------------------------------------------------------- */

/* Returns true for the characters of JavaScript's \s: WhiteSpace and LineTerminator of
 * ECMAScript, whose Zs members are those of the current Unicode (U+180E is not one). */
static bool is_js_whitespace(gunichar c) {
  switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

void dsx_count_directions(dsx_jsmap *counts, const char *status, size_t length) {
  GString *scratch = NULL;
  const char *text = NULL;
  size_t text_length = 0;
  repair_view(status, length, &scratch, &text, &text_length);

  static const char marker[] = "DIR:";
  const size_t marker_length = sizeof marker - 1;
  size_t from = 0;

  while (from + marker_length <= text_length) {
    const char *found = memmem(text + from, text_length - from, marker, marker_length);
    if (found == NULL) break;

    size_t start = (size_t)(found - text) + marker_length;
    size_t end = start;
    while (end < text_length) {
      const char *next = g_utf8_next_char(text + end);
      if (is_js_whitespace(g_utf8_get_char(text + end))) break;
      end = (size_t)(next - text);
    }

    if (end > start) {
      dsx_jsmap_add(counts, text + start, end - start, 1);
      from = end;
    } else {
      /* "DIR:" followed by whitespace does not match; the search goes on one
       * character later, as the regular expression's scan does. */
      from = (size_t)(found - text) + 1;
    }
  }

  if (scratch != NULL) g_string_free(scratch, TRUE);
}

/* ---------------------------------------------------------------------------------
 * The message
 * --------------------------------------------------------------------------------- */

static void append_line_counts(GString *out, const dsx_message *message) {
  const dsx_jsmap_entry **order = js_key_order(message->lc_cumulative);

  for (size_t i = 0; i < message->lc_cumulative->count; i++) {
    const dsx_jsmap_entry *cumulative = order[i];
    uint64_t current = 0;
    dsx_jsmap_get(message->lc_current, cumulative->key, cumulative->key_length, &current);

    append_string_with_prefix(out, "lc_curr_", cumulative->key, cumulative->key_length);
    g_string_append_c(out, ':');
    append_js_integer(out, current);
    g_string_append_c(out, ',');
    append_string_with_prefix(out, "lc_cum_", cumulative->key, cumulative->key_length);
    g_string_append_c(out, ':');
    append_js_integer(out, cumulative->value);
    g_string_append_c(out, ',');
  }

  g_free(order);
}

static void append_overcrowding(GString *out, const dsx_message *message) {
  const dsx_jsmap *overcrowding = message->overcrowding;
  const dsx_jsmap_entry **order = js_key_order(overcrowding);

  g_string_append_c(out, '{');
  for (size_t i = 0; i < overcrowding->count; i++) {
    uint64_t count = 0;
    dsx_jsmap_get(message->roi_counts, order[i]->key, order[i]->key_length, &count);

    if (i > 0) g_string_append_c(out, ',');
    append_string(out, order[i]->key, order[i]->key_length);
    g_string_append(out, ":{\"count\":");
    append_js_integer(out, count);
    g_string_append(out, ",\"triggered\":");
    write_boolean(out, order[i]->value);
    g_string_append_c(out, '}');
  }
  g_string_append_c(out, '}');

  g_free(order);
}

bool dsx_message_write(const dsx_message *message, GString *out) {
  char timestamp[DSX_ISO_TIMESTAMP_BYTES];
  if (!dsx_iso_timestamp(message->timestamp_ms, timestamp)) return false;

  g_string_append(out, "{\"messageid\":");
  append_string(out, message->message_id, strlen(message->message_id));
  g_string_append(out, ",\"mdsversion\":\"" MESSAGE_VERSION "\",\"@timestamp\":\"");
  g_string_append(out, timestamp);
  g_string_append(out, "\",\"deviceId\":");
  append_string(out, message->device_id, message->device_id_length);

  g_string_append(out, ",\"frame\":{\"streamId\":");
  append_js_integer(out, message->stream_id);
  g_string_append(out, ",\"number\":");
  append_js_integer(out, message->frame_number);
  g_string_append(out, ",\"ptsMs\":");
  append_js_integer(out, message->pts_ns / 1000000u);

  g_string_append(out, "},\"analyticsModule\":{\"id\":\"");
  append_js_integer(out, message->stream_id);
  g_string_append(out, "\",\"description\":\"" MODULE_DESCRIPTION "\",\"source\":\"" MODULE_SOURCE
                       "\",\"version\":\"" MESSAGE_VERSION "\",");
  append_line_counts(out, message);

  g_string_append(out, "\"roi\":");
  dsx_json_write_counts(out, message->roi_counts);
  g_string_append(out, ",\"overcrowding\":");
  append_overcrowding(out, message);
  g_string_append(out, ",\"objectCounts\":");
  dsx_json_write_counts(out, message->object_counts);
  g_string_append(out, ",\"direction\":");
  dsx_json_write_counts(out, message->directions);
  g_string_append(out, "}}");
  return true;
}
