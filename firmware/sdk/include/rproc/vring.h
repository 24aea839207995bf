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
 */
#ifndef RPROC_VRING_H
#define RPROC_VRING_H

#include <stdint.h>

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
  uint16_t used_idx;        /* our copy of used.idx */
  uint16_t signalled_used;  /* used.idx at the last notification decision */
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
/* Takes the next available buffer: 1 taken, 0 none, RPROC_VRING_EBADDESC (skip it and call
   again), RPROC_VRING_EBROKEN. */
int rproc_vring_take(struct rproc_vring *ring, struct rproc_vring_buffer *buffer);
/* Returns a buffer to the host, `written` bytes used. */
void rproc_vring_put(struct rproc_vring *ring, uint16_t head, uint32_t written);
/* True when the host wants a notification for what was put since the last call
   (EVENT_IDX: vring_need_event on used_event; otherwise avail.flags NO_INTERRUPT clear). */
int rproc_vring_need_notify(struct rproc_vring *ring);
/* Kick suppression (Linux: virtqueue_enable_cb / disable_cb, device side). Kicks are on after
   init. disable: the host need not kick for new buffers (the firmware is taking them anyway).
   enable: kick for buffers after those taken so far; returns 1 when some are already there
   (take them before sleeping, or a kick may never come). */
int rproc_vring_enable_kicks(struct rproc_vring *ring);
void rproc_vring_disable_kicks(struct rproc_vring *ring);
/* Rings the doorbell for this ring if the host wants it. */
void rproc_vring_notify(struct rproc_vring *ring);
/* True when the host has made buffers available that were not taken yet. */
int rproc_vring_has_available(struct rproc_vring *ring);

#endif
