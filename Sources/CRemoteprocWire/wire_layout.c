/*
 * Compile-time proof that remoteproc_wire.h has the layout Linux uses, on every target that
 * builds this file (the host here, and each firmware target through firmware/sdk).
 * Numbers come from include/linux/remoteproc.h, include/uapi/linux/virtio_ring.h and
 * drivers/rpmsg/virtio_rpmsg_bus.c.
 */
#include <stddef.h>
#include "remoteproc_wire.h"

#define LAYOUT(type, size) _Static_assert(sizeof(type) == (size), #type " size")
#define FIELD(type, field, off) _Static_assert(offsetof(type, field) == (off), #type "." #field)

LAYOUT(struct rproc_resource_table, 16);
FIELD(struct rproc_resource_table, num, 4);
FIELD(struct rproc_resource_table, offset, 16);
LAYOUT(struct rproc_rsc_hdr, 4);
LAYOUT(struct rproc_fw_rsc_carveout, 52);
FIELD(struct rproc_fw_rsc_carveout, flags, 12);
FIELD(struct rproc_fw_rsc_carveout, name, 20);
LAYOUT(struct rproc_fw_rsc_devmem, 52);
LAYOUT(struct rproc_fw_rsc_trace, 44);
FIELD(struct rproc_fw_rsc_trace, name, 12);
LAYOUT(struct rproc_fw_rsc_vdev_vring, 20);
FIELD(struct rproc_fw_rsc_vdev_vring, pa, 16);
LAYOUT(struct rproc_fw_rsc_vdev, 24);
FIELD(struct rproc_fw_rsc_vdev, config_len, 16);
FIELD(struct rproc_fw_rsc_vdev, status, 20);
FIELD(struct rproc_fw_rsc_vdev, num_of_vrings, 21);
FIELD(struct rproc_fw_rsc_vdev, vring, 24);
LAYOUT(struct rproc_vring_desc, 16);
FIELD(struct rproc_vring_desc, len, 8);
FIELD(struct rproc_vring_desc, next, 14);
LAYOUT(struct rproc_vring_avail, 4);
LAYOUT(struct rproc_vring_used_elem, 8);
LAYOUT(struct rproc_vring_used, 4);
LAYOUT(struct rproc_virtio_console_config, 12);
LAYOUT(struct rproc_rpmsg_hdr, 16);
FIELD(struct rproc_rpmsg_hdr, len, 12);
FIELD(struct rproc_rpmsg_hdr, flags, 14);
LAYOUT(struct rproc_rpmsg_ns_msg, 40);
FIELD(struct rproc_rpmsg_ns_msg, addr, 32);
_Static_assert(RPROC_VRING_SIZE(256, 4096) == 10246, "vring_size(256, 4096)");
_Static_assert(RPROC_VRING_USED_OFFSET(16, 16) == 304, "used ring offset, 16 entries");
_Static_assert(RPROC_RPMSG_NUM_BUFS(16) == 32 && RPROC_RPMSG_NUM_BUFS(256) == 512, "num_bufs");

