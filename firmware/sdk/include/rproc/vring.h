/*
 * vring.h: the device (remote) side of a legacy split virtqueue (Linux:
 * include/uapi/linux/virtio_ring.h), as remoteproc firmware plays it: take chains the host
 * made available, return them used, honour VIRTIO_RING_F_EVENT_IDX and the suppression
 * flags, and check everything the host wrote before using it.
 *
 * Ownership: the host (driver) writes the descriptor table, avail.flags, avail.idx,
 * avail.ring and used_event; the firmware (device) writes used.flags, used.idx, used.ring and
 * avail_event. Slots are written before the index that publishes them (rproc_mb between).
 *
 * The hot path is inline and store-lean (guest stores are the dominant cost on the emulated
 * machines, docs/benchmarks.md): a take stores only `last_avail`, plus `avail_event` when the
 * ring is found empty (virtio's "enable notifications, then check again"); a put stores the
 * used element and used.idx, which is also the firmware's own copy of it (the host never
 * writes it; whatever it holds, slots stay inside the ring). Errors go to out-of-line code.
 */
#ifndef RPROC_VRING_H
#define RPROC_VRING_H

#include <stdint.h>

#include "compiler.h"
#include "machine.h"
#include "platform.h"
#include "remoteproc_wire.h"

/* Naturally aligned mirror of struct rproc_vring_desc (same layout, checked in vring.c). */
struct rproc_vring_desc_aligned {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct rproc_vring {
  volatile struct rproc_vring_desc_aligned *desc;
  volatile uint16_t *avail;  /* [0] flags, [1] idx, [2 + i] ring[i], [2 + num] used_event */
  volatile uint16_t *used;   /* [0] flags, [1] idx; elements at used + 2 (u32 pairs) */
  volatile uint32_t *used_ring;
  volatile uint16_t *avail_event;
  uint32_t notifyid;
  uint16_t num;
  uint16_t last_avail;      /* next avail.ring entry to take */
  uint8_t event_idx;
  uint8_t broken;           /* the host wrote something impossible: the ring is dead */
};

/* A buffer taken from a ring (single descriptor). */
struct rproc_vring_buffer {
  void *data;
  uint32_t len;
  uint16_t head;
  uint8_t writable;  /* VRING_DESC_F_WRITE: the device writes it */
};

/* Error codes (negative). */
#define RPROC_VRING_EINVAL (-22)  /* the table entry is unusable */
#define RPROC_VRING_EBROKEN (-5)  /* the host corrupted the ring */
#define RPROC_VRING_EBADDESC (-14) /* one descriptor was unusable; it was returned with len 0 */

/* Sets a ring up from its loaded table entry (after DRIVER_OK). Returns 0 or an error. */
int rproc_vring_init(struct rproc_vring *ring, volatile struct rproc_fw_rsc_vdev_vring *rsc,
                     int event_idx);
/* True when the host has made buffers available that were not taken yet. */
int rproc_vring_has_available(struct rproc_vring *ring);

/* Out of line: trace the host's error, mark the ring broken or return the descriptor. */
int rproc_vring_bad_avail(struct rproc_vring *ring, uint16_t published);
int rproc_vring_bad_head(struct rproc_vring *ring, uint16_t head);
int rproc_vring_bad_desc(struct rproc_vring *ring, uint16_t head);

/* used.idx as last published: pass it to rproc_vring_notify after a batch of puts. */
RPROC_INLINE uint16_t rproc_vring_used_index(const struct rproc_vring *ring) {
  return ring->used[1];
}

/* Takes the next available buffer: 1 taken, 0 none, RPROC_VRING_EBADDESC (skip it and call
   again), RPROC_VRING_EBROKEN. When the ring is empty, asks the host (EVENT_IDX:
   avail_event) to kick for the next buffer before reporting 0. */
RPROC_INLINE int rproc_vring_take(struct rproc_vring *ring, struct rproc_vring_buffer *buffer) {
  if (ring->broken) return RPROC_VRING_EBROKEN;
  uint16_t last = ring->last_avail;
  uint16_t published = ring->avail[1];
  if (published == last) {
    /* Empty: kick me for anything after `last` (stored only when it changes), then look
       again, or a buffer published meanwhile would wait for the next kick. */
    if (!ring->event_idx || *ring->avail_event == last) return 0;
    *ring->avail_event = last;
    rproc_mb();
    published = ring->avail[1];
    if (published == last) return 0;
  }
  if ((uint16_t)(published - last) > ring->num) return rproc_vring_bad_avail(ring, published);
  rproc_mb(); /* read the slot only after the index that published it */
  uint16_t head = ring->avail[2 + (last & (ring->num - 1u))];
  ring->last_avail = (uint16_t)(last + 1u);
  if (head >= ring->num) return rproc_vring_bad_head(ring, head);
  volatile struct rproc_vring_desc_aligned *d = &ring->desc[head];
  uint64_t addr = d->addr;
  uint32_t len = d->len;
  uint16_t flags = d->flags;
  if ((addr >> 32) != 0 || (flags & (RPROC_VRING_DESC_F_NEXT | RPROC_VRING_DESC_F_INDIRECT)) ||
      !rproc_da_ok((uint32_t)addr, len))
    return rproc_vring_bad_desc(ring, head);
  buffer->data = rproc_da_ptr((uint32_t)addr);
  buffer->len = len;
  buffer->head = head;
  buffer->writable = (flags & RPROC_VRING_DESC_F_WRITE) ? 1 : 0;
  return 1;
}

/* Returns a buffer to the host, `written` bytes used. Returns used.idx before the put. */
RPROC_INLINE uint16_t rproc_vring_put(struct rproc_vring *ring, uint16_t head,
                                       uint32_t written) {
  uint16_t idx = ring->used[1];
  uint32_t slot = idx & (ring->num - 1u);
  ring->used_ring[2 * slot] = head;
  ring->used_ring[2 * slot + 1] = written;
  rproc_mb(); /* the element before the index */
  ring->used[1] = (uint16_t)(idx + 1u);
  return idx;
}

/* True when the host wants a notification for what was put since used.idx was `since`
   (EVENT_IDX: vring_need_event on used_event; otherwise avail.flags NO_INTERRUPT clear). */
RPROC_INLINE int rproc_vring_need_notify(const struct rproc_vring *ring, uint16_t since) {
  rproc_mb(); /* used.idx before reading the host's suppression state */
  uint16_t now = ring->used[1];
  if (now == since) return 0;
  if (ring->event_idx) {
    uint16_t event = ring->avail[2 + ring->num]; /* used_event */
    return (uint16_t)(now - event - 1u) < (uint16_t)(now - since); /* vring_need_event */
  }
  return !(ring->avail[0] & RPROC_VRING_AVAIL_F_NO_INTERRUPT);
}

/* Rings the doorbell for this ring if the host wants it for the puts since `since`. */
RPROC_INLINE void rproc_vring_notify(const struct rproc_vring *ring, uint16_t since) {
  if (rproc_vring_need_notify(ring, since)) rproc_notify_host(ring->notifyid);
}

#endif
