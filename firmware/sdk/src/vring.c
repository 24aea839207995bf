/* vring.c: the device side of a legacy split virtqueue. See rproc/vring.h. */
#include "rproc/vring.h"

#include <stddef.h>

#include "rproc/machine.h"
#include "rproc/platform.h"
#include "rproc/trace.h"

_Static_assert(sizeof(struct rproc_vring_desc_aligned) == sizeof(struct rproc_vring_desc),
               "descriptor size");
_Static_assert(offsetof(struct rproc_vring_desc_aligned, next) ==
                   offsetof(struct rproc_vring_desc, next), "descriptor layout");
_Static_assert(sizeof(struct rproc_vring_used_elem) == 8, "used element");

static int power_of_two(uint32_t x) { return x && !(x & (x - 1)); }

int rproc_vring_init(struct rproc_vring *ring, volatile struct rproc_fw_rsc_vdev_vring *rsc,
                     int event_idx) {
  uint32_t da = rsc->da, align = rsc->align, num = rsc->num;
  ring->broken = 1;
  if (!power_of_two(num) || num > 32768u || !power_of_two(align) || align < 4u) {
    rproc_trace_printf("vring: bad num %u or align %u\n", num, align);
    return RPROC_VRING_EINVAL;
  }
  if (da == RPROC_FW_RSC_ADDR_ANY || !rproc_da_ok(da, RPROC_VRING_SIZE(num, align)) ||
      (da & 15u)) {
    rproc_trace_printf("vring: unusable address 0x%08x for %u entries\n", da, num);
    return RPROC_VRING_EINVAL;
  }
  uint8_t *base = rproc_da_ptr(da);
  ring->desc = (volatile struct rproc_vring_desc_aligned *)base;
  ring->avail = (volatile uint16_t *)(base + 16u * num);
  ring->used = (volatile uint16_t *)(base + RPROC_VRING_USED_OFFSET(num, align));
  ring->used_ring = (volatile uint32_t *)(ring->used + 2);
  ring->avail_event = (volatile uint16_t *)(ring->used_ring + 2u * num);
  ring->notifyid = rsc->notifyid;
  ring->num = (uint16_t)num;
  ring->event_idx = event_idx ? 1 : 0;
  /* Start where the host's indices are (zero after a fresh handshake). */
  ring->last_avail = 0;
  ring->used_idx = ring->used[1];
  ring->signalled_used = ring->used_idx;
  ring->used[0] = 0; /* kicks on (rproc_vring_disable_kicks turns them off) */
  if (ring->event_idx) *ring->avail_event = ring->last_avail;
  ring->broken = 0;
  return 0;
}

int rproc_vring_has_available(struct rproc_vring *ring) {
  return !ring->broken && (uint16_t)(ring->avail[1] - ring->last_avail) != 0;
}

int rproc_vring_take(struct rproc_vring *ring, struct rproc_vring_buffer *buffer) {
  if (ring->broken) return RPROC_VRING_EBROKEN;
  uint16_t published = ring->avail[1];
  uint16_t waiting = (uint16_t)(published - ring->last_avail);
  if (waiting == 0) return 0;
  if (waiting > ring->num) {
    rproc_trace_printf("vring %u: avail idx %u is %u ahead of %u entries\n", ring->notifyid,
                       published, waiting, ring->num);
    ring->broken = 1;
    return RPROC_VRING_EBROKEN;
  }
  rproc_rmb(); /* read the slot only after the index that published it */
  uint16_t head = ring->avail[2 + (ring->last_avail & (ring->num - 1u))];
  ring->last_avail++;
  if (head >= ring->num) {
    rproc_trace_printf("vring %u: head %u out of %u\n", ring->notifyid, head, ring->num);
    ring->broken = 1;
    return RPROC_VRING_EBROKEN;
  }
  volatile struct rproc_vring_desc_aligned *d = &ring->desc[head];
  uint64_t addr = d->addr;
  uint32_t len = d->len;
  uint16_t flags = d->flags;
  if ((addr >> 32) != 0 || (flags & (RPROC_VRING_DESC_F_NEXT | RPROC_VRING_DESC_F_INDIRECT)) ||
      !rproc_da_ok((uint32_t)addr, len)) {
    rproc_trace_printf("vring %u: descriptor %u (0x%08x, %u bytes, flags %u) refused\n",
                       ring->notifyid, head, (uint32_t)addr, len, flags);
    rproc_vring_put(ring, head, 0);
    return RPROC_VRING_EBADDESC;
  }
  buffer->data = rproc_da_ptr((uint32_t)addr);
  buffer->len = len;
  buffer->head = head;
  buffer->writable = (flags & RPROC_VRING_DESC_F_WRITE) ? 1 : 0;
  return 1;
}

void rproc_vring_put(struct rproc_vring *ring, uint16_t head, uint32_t written) {
  uint32_t slot = ring->used_idx & (ring->num - 1u);
  ring->used_ring[2 * slot] = head;
  ring->used_ring[2 * slot + 1] = written;
  rproc_wmb(); /* the element before the index */
  ring->used_idx++;
  ring->used[1] = ring->used_idx;
}

int rproc_vring_need_notify(struct rproc_vring *ring) {
  rproc_mb();
  uint16_t old = ring->signalled_used, now = ring->used_idx;
  ring->signalled_used = now;
  if (old == now) return 0;
  if (ring->event_idx) {
    uint16_t event = ring->avail[2 + ring->num]; /* used_event */
    return (uint16_t)(now - event - 1) < (uint16_t)(now - old); /* vring_need_event */
  }
  return !(ring->avail[0] & RPROC_VRING_AVAIL_F_NO_INTERRUPT);
}

int rproc_vring_enable_kicks(struct rproc_vring *ring) {
  if (ring->broken) return 0;
  if (ring->event_idx) *ring->avail_event = ring->last_avail; /* kick me for the next one */
  else ring->used[0] = 0;
  rproc_mb(); /* the request before the re-check (the host: publish, mb, read it) */
  return rproc_vring_has_available(ring);
}

void rproc_vring_disable_kicks(struct rproc_vring *ring) {
  /* EVENT_IDX: avail_event stays where it is, behind what the host publishes next. */
  if (!ring->event_idx && !ring->broken) ring->used[0] = RPROC_VRING_USED_F_NO_NOTIFY;
}

void rproc_vring_notify(struct rproc_vring *ring) {
  if (rproc_vring_need_notify(ring)) rproc_notify_host(ring->notifyid);
}
