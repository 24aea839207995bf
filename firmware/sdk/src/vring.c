/* vring.c: the device side of a legacy split virtqueue: set-up and the error paths. The hot
   path is inline in rproc/vring.h. */
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
  /* Start where the host's indices are (zero after a fresh handshake); used.idx stays as
     the host left it and is the firmware's copy from now on. */
  ring->last_avail = 0;
  ring->used[0] = 0; /* kicks on (rproc_vring_disable_kicks turns them off) */
  if (ring->event_idx) *ring->avail_event = ring->last_avail;
  rproc_mb(); /* the kick requests before any re-check (rproc_vring_enable_kicks relies on it) */
  ring->broken = 0;
  return 0;
}

int rproc_vring_has_available(struct rproc_vring *ring) {
  return !ring->broken && (uint16_t)(ring->avail[1] - ring->last_avail) != 0;
}

int rproc_vring_bad_avail(struct rproc_vring *ring, uint16_t published) {
  rproc_trace_printf("vring %u: avail idx %u is %u ahead of %u entries\n", ring->notifyid,
                     published, (uint16_t)(published - ring->last_avail), ring->num);
  ring->broken = 1;
  return RPROC_VRING_EBROKEN;
}

int rproc_vring_bad_head(struct rproc_vring *ring, uint16_t head) {
  rproc_trace_printf("vring %u: head %u out of %u\n", ring->notifyid, head, ring->num);
  ring->broken = 1;
  return RPROC_VRING_EBROKEN;
}

int rproc_vring_bad_desc(struct rproc_vring *ring, uint16_t head) {
  volatile struct rproc_vring_desc_aligned *d = &ring->desc[head];
  uint64_t addr = d->addr;
  rproc_trace_printf("vring %u: descriptor %u (0x%08x, %u bytes, flags %u) refused\n",
                     ring->notifyid, head, (uint32_t)addr, d->len, d->flags);
  /* Decided here, so no caller's later decision has to cover this put (rproc_vring_put). */
  rproc_vring_notify(ring, rproc_vring_put(ring, head, 0));
  return RPROC_VRING_EBADDESC;
}
