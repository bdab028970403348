/*
 * ring.h — a bounded FIFO of variable-size records in one contiguous byte buffer.
 *
 * The ring itself takes no lock: every function expects the caller to hold the lock
 * that guards the ring (the pipeline's mutex). See ring.c for the layout and invariants.
 */
#ifndef DSX_RING_H
#define DSX_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *data;   /* `capacity` bytes, 8-byte aligned */
  size_t capacity; /* multiple of 8 */
  size_t head;     /* offset where the next record is written (producer side) */
  size_t tail;     /* offset of the oldest record (consumer side) */
  size_t used;     /* bytes between tail and head, wrap padding included */
  size_t high_water;
} dsx_ring;

/* Allocates the buffer; `capacity` is rounded up to a multiple of 8. Returns false when
 * memory is exhausted. */
bool dsx_ring_init(dsx_ring *ring, size_t capacity);

/* Frees the buffer. The ring may be initialized again afterwards. */
void dsx_ring_clear(dsx_ring *ring);

/* Returns true when a record of `size` bytes (a multiple of 8) fits now. */
bool dsx_ring_fits(const dsx_ring *ring, size_t size);

/* Appends one record of `size` bytes (a multiple of 8, at most capacity / 2). The caller
 * has checked dsx_ring_fits. */
void dsx_ring_push(dsx_ring *ring, const void *record, size_t size);

/* Returns the oldest record and its size through `record` and `size`, or false when the
 * ring is empty. The pointer stays valid until the next pop or push. */
bool dsx_ring_peek(const dsx_ring *ring, const uint8_t **record, size_t *size);

/* Removes the oldest record. The ring must not be empty. */
void dsx_ring_pop(dsx_ring *ring);

/* Returns true when no record is queued. */
static inline bool dsx_ring_is_empty(const dsx_ring *ring) { return ring->used == 0; }

#endif /* DSX_RING_H */
