/*
 * ring.c — a bounded FIFO of variable-size records in one contiguous byte buffer.
 *
 * Roles: one producer (a stream's streaming thread, which appends frame records, and
 * the pipeline's bus thread, which appends the stream's end-of-stream record after the
 * last frame) and one consumer (the thread in dsx_pipeline_poll). Both hold the
 * pipeline's mutex for every call here, so the ring needs no atomics. A mutex rather
 * than a lock-free design is deliberate: the drop-oldest overflow policy makes the
 * producer advance the consumer's tail, which a lock makes race-free, and each critical
 * section is one memcpy of a few kilobytes.
 *
 * Layout: records are stored whole, never split. Each starts with the 8-byte record
 * header of dskafka.h (u16 type, u16 version, u32 size). When a record does not fit
 * between `head` and the end of the buffer, the rest of the buffer is filled with one
 * padding record (type 0) and the record goes to offset 0.
 *
 * Invariants:
 *   - `used` counts the bytes from `tail` to `head`, padding included;
 *     used == 0 means empty, and then head == tail.
 *   - head, tail and every record size are multiples of 8, so a header always fits in
 *     the space left before the end of the buffer.
 *   - A padding record is never the oldest record after a pop: pop skips it.
 */
#include "ring.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_HEADER_BYTES 8u
#define RECORD_TYPE_PADDING 0u

static uint32_t read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t read_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void write_padding(uint8_t *p, size_t size) {
  memset(p, 0, RECORD_HEADER_BYTES);
  p[4] = (uint8_t)(size & 0xff);
  p[5] = (uint8_t)((size >> 8) & 0xff);
  p[6] = (uint8_t)((size >> 16) & 0xff);
  p[7] = (uint8_t)((size >> 24) & 0xff);
}

bool dsx_ring_init(dsx_ring *ring, size_t capacity) {
  capacity = (capacity + 7u) & ~(size_t)7u;

  memset(ring, 0, sizeof *ring);
  ring->data = aligned_alloc(8, capacity);
  if (ring->data == NULL) return false;

  ring->capacity = capacity;
  return true;
}

void dsx_ring_clear(dsx_ring *ring) {
  free(ring->data);
  memset(ring, 0, sizeof *ring);
}

/* Bytes a push of `size` consumes: the record, plus the padding that fills the end of
 * the buffer when the record does not fit there. */
static size_t push_cost(const dsx_ring *ring, size_t size) {
  size_t room_to_end = ring->capacity - ring->head;
  return size <= room_to_end ? size : size + room_to_end;
}

bool dsx_ring_fits(const dsx_ring *ring, size_t size) {
  return ring->used + push_cost(ring, size) <= ring->capacity;
}

void dsx_ring_push(dsx_ring *ring, const void *record, size_t size) {
  assert(size % 8 == 0);
  assert(size >= RECORD_HEADER_BYTES);
  assert(size <= ring->capacity / 2);
  assert(dsx_ring_fits(ring, size));

  size_t room_to_end = ring->capacity - ring->head;
  if (size > room_to_end) {
    write_padding(ring->data + ring->head, room_to_end);
    ring->used += room_to_end;
    ring->head = 0;
  }

  memcpy(ring->data + ring->head, record, size);
  ring->head = (ring->head + size) % ring->capacity;
  ring->used += size;

  if (ring->used > ring->high_water) ring->high_water = ring->used;
}

/* Drops a padding record at the tail, so the tail always points at a real record. */
static void skip_padding(dsx_ring *ring) {
  if (ring->used == 0) return;

  const uint8_t *header = ring->data + ring->tail;
  if (read_u16(header) != RECORD_TYPE_PADDING) return;

  size_t size = read_u32(header + 4);
  assert(size == ring->capacity - ring->tail);
  ring->tail = 0;
  ring->used -= size;
}

bool dsx_ring_peek(const dsx_ring *ring, const uint8_t **record, size_t *size) {
  if (ring->used == 0) return false;

  size_t tail = ring->tail;
  if (read_u16(ring->data + tail) == RECORD_TYPE_PADDING) tail = 0;

  *record = ring->data + tail;
  *size = read_u32(ring->data + tail + 4);
  return true;
}

void dsx_ring_pop(dsx_ring *ring) {
  assert(ring->used > 0);

  skip_padding(ring);
  size_t size = read_u32(ring->data + ring->tail + 4);
  assert(size >= RECORD_HEADER_BYTES);
  assert(size <= ring->used);

  ring->tail = (ring->tail + size) % ring->capacity;
  ring->used -= size;
  if (ring->used == 0) ring->head = ring->tail = 0;

  skip_padding(ring);
}
