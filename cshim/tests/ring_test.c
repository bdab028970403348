/*
 * ring_test.c — checks the record ring's FIFO order, wrap-around padding, capacity
 * accounting and emptiness against a model queue, over many random pushes and pops.
 * Built with ASan and UBSan; prints "N passed, M failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

static int passed, failed;

#define CHECK(condition)                                                   \
  do {                                                                     \
    if (condition) {                                                       \
      passed++;                                                            \
    } else {                                                               \
      failed++;                                                            \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
    }                                                                      \
  } while (0)

/* Writes a record of `size` bytes: type 1, then a sequence number in every payload byte. */
static void make_record(uint8_t *record, size_t size, uint32_t sequence) {
  memset(record, (int)(sequence & 0xff), size);
  record[0] = 1;
  record[1] = 0;
  record[2] = 1;
  record[3] = 0;
  record[4] = (uint8_t)size;
  record[5] = (uint8_t)(size >> 8);
  record[6] = 0;
  record[7] = 0;
}

static void test_empty_ring(void) {
  dsx_ring ring;
  CHECK(dsx_ring_init(&ring, 1024));
  const uint8_t *record = NULL;
  size_t size = 0;
  CHECK(dsx_ring_is_empty(&ring));
  CHECK(!dsx_ring_peek(&ring, &record, &size));
  CHECK(dsx_ring_fits(&ring, 512));
  dsx_ring_clear(&ring);
}

static void test_wrap_keeps_records_whole(void) {
  dsx_ring ring;
  uint8_t record[256];
  const uint8_t *out = NULL;
  size_t size = 0;
  CHECK(dsx_ring_init(&ring, 512));

  make_record(record, 200, 1);
  dsx_ring_push(&ring, record, 200);
  make_record(record, 200, 2);
  dsx_ring_push(&ring, record, 200);
  CHECK(!dsx_ring_fits(&ring, 200)); /* 112 bytes left at the end, 0 at the start */

  dsx_ring_pop(&ring);
  CHECK(dsx_ring_fits(&ring, 200)); /* wraps: 112 bytes padding + 200 at offset 0 */
  make_record(record, 200, 3);
  dsx_ring_push(&ring, record, 200);
  CHECK(ring.head == 200);
  CHECK(ring.used == 200 + 112 + 200);

  CHECK(dsx_ring_peek(&ring, &out, &size) && size == 200 && out[100] == 2);
  dsx_ring_pop(&ring);
  CHECK(dsx_ring_peek(&ring, &out, &size) && size == 200 && out[100] == 3);
  CHECK(out == ring.data); /* the padding was skipped */
  dsx_ring_pop(&ring);
  CHECK(dsx_ring_is_empty(&ring));
  dsx_ring_clear(&ring);
}

static void test_random_against_model(void) {
  enum { CAPACITY = 4096, MAX_RECORD = 2048, STEPS = 200000, MODEL = 1024 };
  dsx_ring ring;
  uint8_t record[MAX_RECORD];
  size_t model_size[MODEL];
  uint32_t model_sequence[MODEL];
  size_t model_head = 0, model_count = 0;
  uint32_t next_sequence = 0;
  int mismatches = 0;

  CHECK(dsx_ring_init(&ring, CAPACITY));
  srand(12345);

  for (int step = 0; step < STEPS; step++) {
    if (rand() % 2 == 0 && model_count < MODEL) {
      size_t size = (size_t)(2 + rand() % (MAX_RECORD / 8 - 1)) * 8; /* payload after the header */
      if (!dsx_ring_fits(&ring, size)) continue;
      make_record(record, size, next_sequence);
      dsx_ring_push(&ring, record, size);
      size_t slot = (model_head + model_count) % MODEL;
      model_size[slot] = size;
      model_sequence[slot] = next_sequence++;
      model_count++;
    } else if (model_count > 0) {
      const uint8_t *out = NULL;
      size_t size = 0;
      if (!dsx_ring_peek(&ring, &out, &size)) {
        mismatches++;
        break;
      }
      uint8_t expected = (uint8_t)(model_sequence[model_head] & 0xff);
      if (size != model_size[model_head] || out[size - 1] != expected) mismatches++;
      dsx_ring_pop(&ring);
      model_head = (model_head + 1) % MODEL;
      model_count--;
    }
    if ((model_count == 0) != dsx_ring_is_empty(&ring)) mismatches++;
    if (ring.used > ring.capacity) mismatches++;
  }

  CHECK(mismatches == 0);
  CHECK(next_sequence > 1000);
  dsx_ring_clear(&ring);
}

int main(void) {
  test_empty_ring();
  test_wrap_keeps_records_whole();
  test_random_against_model();
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
