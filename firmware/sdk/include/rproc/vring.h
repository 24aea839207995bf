/*
 * vring.h: the device (remote) side of a legacy split virtqueue (Linux:
 * include/uapi/linux/virtio_ring.h), as remoteproc firmware plays it: take chains the host
 * made available, return them used, honour VIRTIO_RING_F_EVENT_IDX and the suppression
 * flags, and check everything the host wrote before using it.
 *
 * Ownership: the host (driver) writes the descriptor table, avail.flags, avail.idx,
 * avail.ring and used_event; the firmware (device) writes used.flags, used.idx, used.ring and
 * avail_event. Slots are written before the index that publishes them (rproc_wmb between);
 * rproc_mb orders a store before a later load (the kick decisions).
 *
 * The hot path is inline and store-lean (guest stores are the dominant cost on the emulated
 * machines, docs/benchmarks.md): a take stores only `last_avail`; a put stores the used
 * element and used.idx, which is also the firmware's own copy of it (the host never writes
 * it; whatever it holds, slots stay inside the ring); a notification decision stores
 * nothing (the caller passes used.idx from before its puts); asking for kicks stores only
 * when the request changes (with EVENT_IDX, disabling them stores nothing). Errors go to
 * out-of-line code.
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

/* rproc_vring_take's second half: takes entry `last` of the `published` ones. */
RPROC_INLINE int rproc_vring_take_published(struct rproc_vring *ring,
                                            struct rproc_vring_buffer *buffer, uint16_t last,
                                            uint16_t published) {
  if ((uint16_t)(published - last) > ring->num) return rproc_vring_bad_avail(ring, published);
  rproc_rmb(); /* read the slot only after the index that published it */
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

/* Takes the next available buffer: 1 taken, 0 none, RPROC_VRING_EBADDESC (skip it and call
   again), RPROC_VRING_EBROKEN. Stores nothing the host reads; a receive loop that idles
   when the ring is empty takes with rproc_vring_take_or_arm instead. */
RPROC_INLINE int rproc_vring_take(struct rproc_vring *ring, struct rproc_vring_buffer *buffer) {
  if (ring->broken) return RPROC_VRING_EBROKEN;
  uint16_t last = ring->last_avail;
  uint16_t published = ring->avail[1];
  if (published == last) return 0;
  return rproc_vring_take_published(ring, buffer, last, published);
}

/* Returns a buffer to the host, `written` bytes used. Returns used.idx before the put: every
   put must be followed by a notification decision that covers it (rproc_vring_notify with
   this index, or with rproc_vring_used_index from before a batch of puts). */
RPROC_INLINE uint16_t rproc_vring_put(struct rproc_vring *ring, uint16_t head,
                                       uint32_t written) {
  uint16_t idx = ring->used[1];
  uint32_t slot = idx & (ring->num - 1u);
  ring->used_ring[2 * slot] = head;
  ring->used_ring[2 * slot + 1] = written;
  rproc_wmb(); /* the element before the index */
  ring->used[1] = (uint16_t)(idx + 1u);
  return idx;
}

/* True when the host wants a notification for what was put since used.idx was `since`
   (EVENT_IDX: vring_need_event(used_event, now, since), 16-bit wrap; otherwise avail.flags
   NO_INTERRUPT clear). `since` plays vhost's `signalled_used` (the index at the previous
   decision) without storing it: the caller holds it. */
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

/* Kick suppression (Linux: virtqueue_enable_cb / disable_cb, device side). Kicks are on after
   init. disable: the host need not kick for new buffers (the firmware is taking them anyway).
   enable: kick for buffers after those taken so far; returns 1 when some are already there
   (take them before sleeping, or a kick may never come).
   Each stores only when the request changes: EVENT_IDX avail_event = last_avail (disable
   leaves it where it is, behind what the host publishes next, and stores nothing), else
   used.flags NO_NOTIFY. A request left in place was fenced when it was stored (here or in
   rproc_vring_init), so the re-check needs no fence of its own. */
RPROC_INLINE int rproc_vring_enable_kicks(struct rproc_vring *ring) {
  if (ring->broken) return 0;
  uint16_t last = ring->last_avail;
  if (ring->event_idx) {
    if (*ring->avail_event != last) {
      *ring->avail_event = last; /* kick me for the next one */
      rproc_mb(); /* the request before the re-check (the host: publish, mb, read it) */
    }
  } else if (ring->used[0] != 0) {
    ring->used[0] = 0;
    rproc_mb();
  }
  return ring->avail[1] != last;
}

RPROC_INLINE void rproc_vring_disable_kicks(struct rproc_vring *ring) {
  if (!ring->event_idx && !ring->broken && ring->used[0] != RPROC_VRING_USED_F_NO_NOTIFY)
    ring->used[0] = RPROC_VRING_USED_F_NO_NOTIFY;
}

#if !defined(RPROC_NATIVE)
/* platform.h's rproc_platform_arm on the emulated machines: ask for kicks at once. */
RPROC_INLINE int rproc_platform_arm(struct rproc_vring *ring) {
  return rproc_vring_enable_kicks(ring);
}
#endif

/* rproc_vring_take for a receive loop that idles once the ring is drained (between
   rproc_vring_disable_kicks before the loop and the notification after it): when the ring
   is found empty, asks for kicks (rproc_platform_arm) and, if buffers came meanwhile, turns
   kicks off again and takes one. 0: drained, kicks asked for (native adaptive mode: left
   to rproc_wait_for_kick). Virtio's "enable notifications, then check again". */
RPROC_INLINE int rproc_vring_take_or_arm(struct rproc_vring *ring,
                                         struct rproc_vring_buffer *buffer) {
  if (ring->broken) return RPROC_VRING_EBROKEN;
  uint16_t last = ring->last_avail;
  uint16_t published = ring->avail[1];
  if (published == last) {
    if (!rproc_platform_arm(ring)) return 0;
    rproc_vring_disable_kicks(ring); /* more came: take them first */
    published = ring->avail[1];
  }
  return rproc_vring_take_published(ring, buffer, last, published);
}

#endif
