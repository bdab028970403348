/*
 * payload_json_test.c — the C message writer (payload_json.c) and aggregator
 * (device_counts.c) against the golden files that the TypeScript builder wrote
 * (tests/fixtures/payloads, see generate.ts there), byte for byte, plus unit checks of
 * the JavaScript behaviours they reproduce. Built with ASan and UBSan.
 *
 * Usage: payload_json_test [FIXTURE_DIR]
 *   FIXTURE_DIR  the tests/fixtures/payloads folder (default: the path compiled in as
 *                DSX_PAYLOAD_FIXTURES)
 * Prints "N passed, M failed"; exits 1 when a check failed.
 *
 * The fixtures are JSON; a small parser below reads them into a tree. It accepts what
 * JSON.stringify writes and reports anything else as a failed check.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_counts.h"
#include "payload_json.h"

#ifndef DSX_PAYLOAD_FIXTURES
#define DSX_PAYLOAD_FIXTURES "../tests/fixtures/payloads"
#endif

static int passed, failed;

#define CHECK(condition)                                                            \
  do {                                                                              \
    if (condition) {                                                                \
      passed++;                                                                     \
    } else {                                                                        \
      failed++;                                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
    }                                                                               \
  } while (0)

/* Records a failed check with a message. */
static void fail(const char *format, ...) G_GNUC_PRINTF(1, 2);
static void fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fputc('\n', stderr);
  failed++;
}

/* ---------------------------------------------------------------------------------
 * A JSON reader for the fixtures
 * --------------------------------------------------------------------------------- */

typedef enum { JSON_NULL, JSON_BOOLEAN, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_kind;

typedef struct json_value {
  json_kind kind;
  bool boolean;
  GString *text;      /* string contents, or the number as written */
  GPtrArray *items;   /* array elements or object values (json_value *) */
  GPtrArray *keys;    /* object keys (GString *), parallel to items */
} json_value;

typedef struct {
  const char *at;
  const char *end;
  const char *error;
} json_reader;

static void json_free(json_value *value) {
  if (value == NULL) return;
  if (value->text != NULL) g_string_free(value->text, TRUE);
  if (value->items != NULL) g_ptr_array_free(value->items, TRUE);
  if (value->keys != NULL) g_ptr_array_free(value->keys, TRUE);
  g_free(value);
}

static void free_key(gpointer key) { g_string_free(key, TRUE); }
static void free_item(gpointer item) { json_free(item); }

static void skip_space(json_reader *reader) {
  while (reader->at < reader->end &&
         (*reader->at == ' ' || *reader->at == '\n' || *reader->at == '\r' || *reader->at == '\t')) {
    reader->at++;
  }
}

static bool read_hex4(json_reader *reader, gunichar *out) {
  if (reader->end - reader->at < 4) return false;
  gunichar value = 0;
  for (int i = 0; i < 4; i++) {
    int digit = g_ascii_xdigit_value(reader->at[i]);
    if (digit < 0) return false;
    value = value << 4 | (gunichar)digit;
  }
  reader->at += 4;
  *out = value;
  return true;
}

/* Reads a string after its opening quote into `out`. */
static bool read_string(json_reader *reader, GString *out) {
  while (reader->at < reader->end) {
    char c = *reader->at++;
    if (c == '"') return true;
    if (c != '\\') {
      g_string_append_c(out, c);
      continue;
    }
    if (reader->at == reader->end) break;

    char escape = *reader->at++;
    gunichar code_point = 0;
    switch (escape) {
      case '"':
      case '\\':
      case '/':
        g_string_append_c(out, escape);
        break;
      case 'b':
        g_string_append_c(out, '\b');
        break;
      case 'f':
        g_string_append_c(out, '\f');
        break;
      case 'n':
        g_string_append_c(out, '\n');
        break;
      case 'r':
        g_string_append_c(out, '\r');
        break;
      case 't':
        g_string_append_c(out, '\t');
        break;
      case 'u':
        if (!read_hex4(reader, &code_point)) goto invalid;
        if (code_point >= 0xD800 && code_point <= 0xDBFF) {
          gunichar low = 0;
          if (reader->end - reader->at < 2 || reader->at[0] != '\\' || reader->at[1] != 'u') goto invalid;
          reader->at += 2;
          if (!read_hex4(reader, &low) || low < 0xDC00 || low > 0xDFFF) goto invalid;
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
        } else if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
          goto invalid;
        }
        g_string_append_unichar(out, code_point);
        break;
      default:
        goto invalid;
    }
  }
invalid:
  reader->error = "invalid string";
  return false;
}

static json_value *read_value(json_reader *reader, int depth);

static json_value *read_container(json_reader *reader, int depth, bool is_object) {
  json_value *value = g_new0(json_value, 1);
  value->kind = is_object ? JSON_OBJECT : JSON_ARRAY;
  value->items = g_ptr_array_new_with_free_func(free_item);
  if (is_object) value->keys = g_ptr_array_new_with_free_func(free_key);
  char close = is_object ? '}' : ']';

  skip_space(reader);
  if (reader->at < reader->end && *reader->at == close) {
    reader->at++;
    return value;
  }

  for (;;) {
    if (is_object) {
      skip_space(reader);
      if (reader->at == reader->end || *reader->at != '"') goto invalid;
      reader->at++;
      GString *key = g_string_new("");
      g_ptr_array_add(value->keys, key);
      if (!read_string(reader, key)) goto invalid;
      skip_space(reader);
      if (reader->at == reader->end || *reader->at != ':') goto invalid;
      reader->at++;
    }

    json_value *item = read_value(reader, depth + 1);
    if (item == NULL) goto invalid;
    g_ptr_array_add(value->items, item);

    skip_space(reader);
    if (reader->at == reader->end) goto invalid;
    char c = *reader->at++;
    if (c == close) return value;
    if (c != ',') goto invalid;
  }

invalid:
  if (reader->error == NULL) reader->error = is_object ? "invalid object" : "invalid array";
  json_free(value);
  return NULL;
}

static json_value *read_value(json_reader *reader, int depth) {
  skip_space(reader);
  if (reader->at == reader->end || depth > 32) {
    reader->error = "unexpected end or nesting too deep";
    return NULL;
  }

  char c = *reader->at;
  if (c == '{' || c == '[') {
    reader->at++;
    return read_container(reader, depth, c == '{');
  }

  json_value *value = g_new0(json_value, 1);
  if (c == '"') {
    reader->at++;
    value->kind = JSON_STRING;
    value->text = g_string_new("");
    if (!read_string(reader, value->text)) goto invalid;
    return value;
  }

  static const struct {
    const char *word;
    json_kind kind;
    bool boolean;
  } words[] = {{"true", JSON_BOOLEAN, true}, {"false", JSON_BOOLEAN, false}, {"null", JSON_NULL, false}};
  for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
    size_t length = strlen(words[i].word);
    if ((size_t)(reader->end - reader->at) >= length && memcmp(reader->at, words[i].word, length) == 0) {
      reader->at += length;
      value->kind = words[i].kind;
      value->boolean = words[i].boolean;
      return value;
    }
  }

  value->kind = JSON_NUMBER;
  value->text = g_string_new("");
  while (reader->at < reader->end && strchr("+-0123456789.eE", *reader->at) != NULL) {
    g_string_append_c(value->text, *reader->at++);
  }
  if (value->text->len > 0) return value;

invalid:
  if (reader->error == NULL) reader->error = "invalid value";
  json_free(value);
  return NULL;
}

/* Parses a whole file's text; returns NULL with a message on stderr when invalid. */
static json_value *parse_json(const char *path, const char *text, size_t length) {
  json_reader reader = {text, text + length, NULL};
  json_value *value = read_value(&reader, 0);
  skip_space(&reader);
  if (value == NULL || reader.at != reader.end) {
    fail("%s: not the JSON this test reads: %s at byte %zu", path,
         reader.error != NULL ? reader.error : "trailing text", (size_t)(reader.at - text));
    json_free(value);
    return NULL;
  }
  return value;
}

static const json_value *member(const json_value *object, const char *key) {
  if (object == NULL || object->kind != JSON_OBJECT) return NULL;
  for (guint i = 0; i < object->keys->len; i++) {
    const GString *name = g_ptr_array_index(object->keys, i);
    if (strcmp(name->str, key) == 0) return g_ptr_array_index(object->items, i);
  }
  return NULL;
}

static const json_value *item(const json_value *array, guint index) {
  return g_ptr_array_index(array->items, index);
}

/* Reads an integer written as a JSON number or, for large values, a decimal string. */
static bool integer_of(const json_value *value, int64_t *signed_out, uint64_t *unsigned_out) {
  if (value == NULL || (value->kind != JSON_NUMBER && value->kind != JSON_STRING)) return false;

  const char *text = value->text->str;
  char *end = NULL;
  if (text[0] == '-') {
    long long parsed = strtoll(text, &end, 10);
    if (*end != '\0' || signed_out == NULL) return false;
    *signed_out = parsed;
    return true;
  }

  unsigned long long parsed = strtoull(text, &end, 10);
  if (*end != '\0') return false;
  if (unsigned_out != NULL) *unsigned_out = parsed;
  if (signed_out != NULL) *signed_out = (int64_t)parsed;
  return true;
}

static uint64_t unsigned_member(const json_value *object, const char *key, bool *ok) {
  uint64_t value = 0;
  if (!integer_of(member(object, key), NULL, &value)) *ok = false;
  return value;
}

static int64_t signed_member(const json_value *object, const char *key, bool *ok) {
  int64_t value = 0;
  if (!integer_of(member(object, key), &value, NULL)) *ok = false;
  return value;
}

/* Fills `bytes` with a fixture text: a string as is, or {"utf8Hex": …} decoded to raw
 * bytes minus a leading byte order mark, as the deepstream backend passes label bytes. */
static bool text_of(const json_value *value, GString *bytes) {
  g_string_truncate(bytes, 0);
  if (value == NULL) return false;
  if (value->kind == JSON_STRING) {
    g_string_append_len(bytes, value->text->str, (gssize)value->text->len);
    return true;
  }

  const json_value *hex = member(value, "utf8Hex");
  if (hex == NULL || hex->kind != JSON_STRING || hex->text->len % 2 != 0) return false;
  for (size_t i = 0; i < hex->text->len; i += 2) {
    int high = g_ascii_xdigit_value(hex->text->str[i]);
    int low = g_ascii_xdigit_value(hex->text->str[i + 1]);
    if (high < 0 || low < 0) return false;
    g_string_append_c(bytes, (char)(high << 4 | low));
  }

  size_t bom = dsx_label_bom_length(bytes->str, bytes->len);
  g_string_erase(bytes, 0, (gssize)bom);
  return true;
}

/* Fills `map` from a list of [key, value] pairs; booleans become 0 or 1. */
static bool map_of(const json_value *pairs, dsx_jsmap *map) {
  dsx_jsmap_reset(map);
  if (pairs == NULL || pairs->kind != JSON_ARRAY) return false;

  GString *key = g_string_new("");
  bool ok = true;
  for (guint i = 0; i < pairs->items->len && ok; i++) {
    const json_value *pair = item(pairs, i);
    ok = pair->kind == JSON_ARRAY && pair->items->len == 2 && text_of(item(pair, 0), key);
    if (!ok) break;

    const json_value *value = item(pair, 1);
    uint64_t number = 0;
    if (value->kind == JSON_BOOLEAN) {
      number = value->boolean ? 1 : 0;
    } else {
      ok = integer_of(value, NULL, &number);
    }
    if (ok) dsx_jsmap_set(map, key->str, key->len, number);
  }
  g_string_free(key, TRUE);
  return ok;
}

/* Fills a frame's counts from the fixture fields of FixtureCounts in generate.ts. */
static bool frame_counts_of(const json_value *input, dsx_frame_counts *frame) {
  dsx_frame_counts_reset(frame);
  bool ok = map_of(member(input, "lineCrossingsCurrent"), &frame->lc_current) &&
            map_of(member(input, "lineCrossingsCumulative"), &frame->lc_cumulative) &&
            map_of(member(input, "roiCounts"), &frame->roi_counts) &&
            map_of(member(input, "overcrowding"), &frame->overcrowding) &&
            map_of(member(input, "objectCounts"), &frame->object_counts);
  if (!ok) return false;

  const json_value *directions = member(input, "directions");
  if (directions == NULL || directions->kind != JSON_ARRAY) return false;
  GString *status = g_string_new("");
  for (guint i = 0; i < directions->items->len && ok; i++) {
    ok = text_of(item(directions, i), status);
    if (ok) dsx_count_directions(&frame->directions, status->str, status->len);
  }
  g_string_free(status, TRUE);
  return ok;
}

/* ---------------------------------------------------------------------------------
 * Golden files
 * --------------------------------------------------------------------------------- */

/* Compares `actual` with the contents of `expected_path`, reporting the first
 * difference. */
static void check_same_bytes(const char *expected_path, const GString *actual) {
  gchar *expected = NULL;
  gsize expected_length = 0;
  if (!g_file_get_contents(expected_path, &expected, &expected_length, NULL)) {
    fail("%s: cannot read the expected text", expected_path);
    return;
  }

  size_t at = 0;
  while (at < expected_length && at < actual->len && expected[at] == actual->str[at]) at++;
  if (at == expected_length && at == actual->len) {
    passed++;
  } else {
    size_t from = at > 40 ? at - 40 : 0;
    fail("%s: differs at byte %zu of %zu (C wrote %zu bytes)\n  expected: …%.80s\n  C wrote:  …%.80s",
         expected_path, at, (size_t)expected_length, actual->len, expected + from,
         actual->str + from);
  }
  g_free(expected);
}

/* Returns (transfer full) the sorted case names of `directory`'s *.json inputs. */
static GPtrArray *case_names(const char *directory) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  GDir *dir = g_dir_open(directory, 0, NULL);
  if (dir == NULL) return names;

  const gchar *name = NULL;
  while ((name = g_dir_read_name(dir)) != NULL) {
    if (g_str_has_suffix(name, ".json") && !g_str_has_suffix(name, ".expected.json")) {
      g_ptr_array_add(names, g_strndup(name, strlen(name) - strlen(".json")));
    }
  }
  g_dir_close(dir);
  g_ptr_array_sort(names, (GCompareFunc)(void (*)(void))g_strcmp0);
  return names;
}

static json_value *read_fixture(const char *path) {
  gchar *text = NULL;
  gsize length = 0;
  if (!g_file_get_contents(path, &text, &length, NULL)) {
    fail("%s: cannot read the fixture", path);
    return NULL;
  }
  json_value *value = parse_json(path, text, length);
  g_free(text);
  return value;
}

static void run_message_case(const char *directory, const char *name) {
  gchar *input_path = g_strdup_printf("%s/%s.json", directory, name);
  gchar *expected_path = g_strdup_printf("%s/%s.expected.json", directory, name);
  json_value *input = read_fixture(input_path);
  dsx_frame_counts frame = {0};
  GString *device = g_string_new("");
  GString *session = g_string_new("");
  GString *out = g_string_new("");
  if (input == NULL) goto out;

  bool ok = frame_counts_of(input, &frame) && text_of(member(input, "deviceId"), device) &&
            text_of(member(input, "sessionKey"), session);
  uint64_t frame_number = unsigned_member(input, "frameNumber", &ok);
  uint64_t pts_ns = unsigned_member(input, "ptsNs", &ok);
  uint64_t stream_id = unsigned_member(input, "streamId", &ok);
  int64_t timestamp_ms = signed_member(input, "timestampMs", &ok);
  if (!ok) {
    fail("%s: a field is missing or has the wrong type", input_path);
    goto out;
  }

  char message_id[DSX_MESSAGE_ID_BYTES];
  dsx_message_id(device->str, device->len, session->str, session->len, frame_number, message_id);

  const dsx_message message = {
      .message_id = message_id,
      .timestamp_ms = timestamp_ms,
      .device_id = device->str,
      .device_id_length = device->len,
      .stream_id = (uint32_t)stream_id,
      .frame_number = frame_number,
      .pts_ns = pts_ns,
      .lc_current = &frame.lc_current,
      .lc_cumulative = &frame.lc_cumulative,
      .roi_counts = &frame.roi_counts,
      .overcrowding = &frame.overcrowding,
      .object_counts = &frame.object_counts,
      .directions = &frame.directions,
  };
  if (!dsx_message_write(&message, out)) {
    fail("%s: dsx_message_write rejected the input", input_path);
    goto out;
  }
  check_same_bytes(expected_path, out);

out:
  json_free(input);
  dsx_frame_counts_clear(&frame);
  g_string_free(device, TRUE);
  g_string_free(session, TRUE);
  g_string_free(out, TRUE);
  g_free(input_path);
  g_free(expected_path);
}

/* Maps "frames:N", "interval:T" or "change" to dsx_emit_kind and its value. */
static bool policy_of(const json_value *text, uint32_t *kind, uint64_t *value) {
  if (text == NULL || text->kind != JSON_STRING) return false;
  const char *policy = text->text->str;
  if (strcmp(policy, "change") == 0) {
    *kind = DSX_EMIT_CHANGE;
    *value = 0;
    return true;
  }
  if (g_str_has_prefix(policy, "frames:")) {
    *kind = DSX_EMIT_FRAMES;
    *value = g_ascii_strtoull(policy + 7, NULL, 10);
    return true;
  }
  if (g_str_has_prefix(policy, "interval:")) {
    *kind = DSX_EMIT_INTERVAL;
    *value = g_ascii_strtoull(policy + 9, NULL, 10);
    return true;
  }
  return false;
}

static void run_sequence_case(const char *directory, const char *name) {
  gchar *input_path = g_strdup_printf("%s/%s.json", directory, name);
  gchar *expected_path = g_strdup_printf("%s/%s.expected.jsonl", directory, name);
  json_value *input = read_fixture(input_path);
  dsx_device_counts *counts = NULL;
  dsx_frame_counts frame = {0};
  GString *device = g_string_new("");
  GString *session = g_string_new("");
  GString *out = g_string_new("");
  if (input == NULL) goto out;

  uint32_t kind = 0;
  uint64_t value = 0;
  bool ok = text_of(member(input, "deviceId"), device) &&
            text_of(member(input, "sessionKey"), session) &&
            policy_of(member(input, "policy"), &kind, &value);
  uint64_t stream_id = unsigned_member(input, "streamId", &ok);
  int64_t start_ms = signed_member(member(input, "clock"), "startMs", &ok);
  int64_t ms_per_frame = signed_member(member(input, "clock"), "msPerFrame", &ok);
  const json_value *frames = member(input, "frames");
  if (!ok || frames == NULL || frames->kind != JSON_ARRAY) {
    fail("%s: a field is missing or has the wrong type", input_path);
    goto out;
  }

  counts = dsx_device_counts_new(device->str, session->str, (uint32_t)stream_id, kind, value);
  if (counts == NULL) {
    fail("%s: dsx_device_counts_new rejected the policy", input_path);
    goto out;
  }

  uint64_t frame_number = 0;
  for (guint i = 0; i < frames->items->len; i++) {
    const json_value *fixture = item(frames, i);
    uint64_t pts_ns = unsigned_member(fixture, "ptsNs", &ok);
    frame_number = unsigned_member(fixture, "frameNumber", &ok);
    if (!ok || !frame_counts_of(fixture, &frame)) {
      fail("%s: frame %u is malformed", input_path, i);
      goto out;
    }

    if (dsx_device_counts_add(counts, frame_number, pts_ns, &frame)) {
      int64_t now = start_ms + ms_per_frame * (int64_t)frame_number;
      CHECK(dsx_device_counts_emit(counts, now, out));
      g_string_append_c(out, '\n');
    }
  }
  if (dsx_device_counts_finish(counts, start_ms + ms_per_frame * (int64_t)frame_number, out)) {
    g_string_append_c(out, '\n');
  }
  check_same_bytes(expected_path, out);

out:
  json_free(input);
  dsx_device_counts_free(counts);
  dsx_frame_counts_clear(&frame);
  g_string_free(device, TRUE);
  g_string_free(session, TRUE);
  g_string_free(out, TRUE);
  g_free(input_path);
  g_free(expected_path);
}

/* ---------------------------------------------------------------------------------
 * Unit checks
 * --------------------------------------------------------------------------------- */

static bool timestamp_is(int64_t ms, const char *expected) {
  char text[DSX_ISO_TIMESTAMP_BYTES];
  return dsx_iso_timestamp(ms, text) && strcmp(text, expected) == 0;
}

static void check_timestamps(void) {
  CHECK(timestamp_is(0, "1970-01-01T00:00:00.000Z"));
  CHECK(timestamp_is(-1, "1969-12-31T23:59:59.999Z"));
  CHECK(timestamp_is(951782400000, "2000-02-29T00:00:00.000Z"));
  CHECK(timestamp_is(-2208988800001, "1899-12-31T23:59:59.999Z"));
  CHECK(timestamp_is(-62167219200000, "0000-01-01T00:00:00.000Z"));
  CHECK(timestamp_is(-62167219200001, "-000001-12-31T23:59:59.999Z"));
  CHECK(timestamp_is(253402300799999, "9999-12-31T23:59:59.999Z"));
  CHECK(timestamp_is(253402300800000, "+010000-01-01T00:00:00.000Z"));
  CHECK(timestamp_is(INT64_C(8640000000000000), "+275760-09-13T00:00:00.000Z"));
  CHECK(timestamp_is(INT64_C(-8640000000000000), "-271821-04-20T00:00:00.000Z"));

  char text[DSX_ISO_TIMESTAMP_BYTES];
  CHECK(!dsx_iso_timestamp(INT64_C(8640000000000001), text));
  CHECK(!dsx_iso_timestamp(INT64_C(-8640000000000001), text));
  CHECK(!dsx_iso_timestamp(INT64_MIN, text));
}

static void check_maps(void) {
  dsx_jsmap map = {0};
  uint64_t value = 0;

  dsx_jsmap_set(&map, "a", 1, 1);
  dsx_jsmap_set(&map, "b", 1, 2);
  dsx_jsmap_set(&map, "a", 1, 3);
  CHECK(map.count == 2);
  CHECK(strcmp(map.entries[0].key, "a") == 0);
  CHECK(map.entries[0].value == 3);

  dsx_jsmap_add(&map, "c", 1, 5);
  dsx_jsmap_add(&map, "c", 1, 5);
  CHECK(dsx_jsmap_get(&map, "c", 1, &value));
  CHECK(value == 10);
  CHECK(!dsx_jsmap_get(&map, "d", 1, &value));

  /* Two invalid byte strings that decode to the same text are the same key. */
  dsx_jsmap_set(&map, "x\xff", 2, 7);
  dsx_jsmap_set(&map, "x\xfe", 2, 8);
  CHECK(map.count == 4);
  CHECK(dsx_jsmap_get(&map, "x\xEF\xBF\xBD", 4, &value));
  CHECK(value == 8);

  /* A key with a NUL character is not cut short. */
  dsx_jsmap_set(&map, "n\0a", 3, 9);
  CHECK(!dsx_jsmap_get(&map, "n", 1, &value));
  CHECK(dsx_jsmap_get(&map, "n\0a", 3, &value));
  CHECK(value == 9);

  dsx_jsmap copy = {0};
  dsx_jsmap_assign(&copy, &map);
  CHECK(copy.count == map.count);
  dsx_jsmap_reset(&map);
  CHECK(map.count == 0);
  CHECK(copy.count == 5);

  dsx_jsmap_clear(&map);
  dsx_jsmap_clear(&copy);
}

static void check_rejections(void) {
  CHECK(dsx_device_counts_new("d", "k", 0, 3, 1) == NULL);
  CHECK(dsx_device_counts_new("d", "k", 0, DSX_EMIT_FRAMES, 0) == NULL);
  CHECK(dsx_device_counts_new("d", "k", 0, DSX_EMIT_INTERVAL, 0) == NULL);

  dsx_device_counts *counts = dsx_device_counts_new("d", "k", 0, DSX_EMIT_CHANGE, 0);
  GString *out = g_string_new("");
  CHECK(counts != NULL);
  CHECK(!dsx_device_counts_emit(counts, 0, out));
  CHECK(!dsx_device_counts_finish(counts, 0, out));

  dsx_frame_counts frame = {0};
  CHECK(dsx_device_counts_add(counts, 1, 0, &frame));
  CHECK(!dsx_device_counts_add(counts, 2, 0, &frame));
  CHECK(!dsx_device_counts_emit(counts, INT64_MAX, out));
  CHECK(out->len == 0);
  CHECK(dsx_device_counts_emitted(counts) == 0);
  CHECK(dsx_device_counts_emit(counts, 0, out));
  CHECK(dsx_device_counts_emitted(counts) == 1);
  CHECK(!dsx_device_counts_finish(counts, 0, out));

  g_string_free(out, TRUE);
  dsx_device_counts_free(counts);
}

int main(int argc, char **argv) {
  const char *directory = argc > 1 ? argv[1] : DSX_PAYLOAD_FIXTURES;

  check_timestamps();
  check_maps();
  check_rejections();

  GPtrArray *messages = case_names(directory);
  for (guint i = 0; i < messages->len; i++) run_message_case(directory, g_ptr_array_index(messages, i));

  gchar *sequence_directory = g_strdup_printf("%s/sequences", directory);
  GPtrArray *sequences = case_names(sequence_directory);
  for (guint i = 0; i < sequences->len; i++) {
    run_sequence_case(sequence_directory, g_ptr_array_index(sequences, i));
  }

  /* generate.ts writes ten message cases and three sequences; fewer means a wrong
   * folder, which must not pass silently. */
  if (messages->len < 10 || sequences->len < 3) {
    fail("%s: found %u message cases and %u sequences, expected at least 10 and 3", directory,
         messages->len, sequences->len);
  }

  g_ptr_array_free(messages, TRUE);
  g_ptr_array_free(sequences, TRUE);
  g_free(sequence_directory);

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
