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


/* The native-process contract (remoteproc_native.h): the offsets Swift uses are the struct's. */
#include "remoteproc_native.h"
LAYOUT(struct rproc_native_doorbell, 64);
FIELD(struct rproc_native_doorbell, waiting, RPROC_NATIVE_DOORBELL_WAITING);
LAYOUT(struct rproc_native_control, RPROC_NATIVE_CONTROL_SIZE);
FIELD(struct rproc_native_control, version, RPROC_NATIVE_OFF_VERSION);
FIELD(struct rproc_native_control, size, RPROC_NATIVE_OFF_SIZE);
FIELD(struct rproc_native_control, device_base, RPROC_NATIVE_OFF_DEVICE_BASE);
FIELD(struct rproc_native_control, table_offset, RPROC_NATIVE_OFF_TABLE_OFFSET);
FIELD(struct rproc_native_control, table_size, RPROC_NATIVE_OFF_TABLE_SIZE);
FIELD(struct rproc_native_control, trace_offset, RPROC_NATIVE_OFF_TRACE_OFFSET);
FIELD(struct rproc_native_control, trace_size, RPROC_NATIVE_OFF_TRACE_SIZE);
FIELD(struct rproc_native_control, pool_offset, RPROC_NATIVE_OFF_POOL_OFFSET);
FIELD(struct rproc_native_control, mode, RPROC_NATIVE_OFF_MODE);
FIELD(struct rproc_native_control, spin_ns, RPROC_NATIVE_OFF_SPIN_NS);
FIELD(struct rproc_native_control, watchdog_ms, RPROC_NATIVE_OFF_WATCHDOG_MS);
FIELD(struct rproc_native_control, host_epoch, RPROC_NATIVE_OFF_HOST_EPOCH);
FIELD(struct rproc_native_control, to_remote, RPROC_NATIVE_OFF_TO_REMOTE);
FIELD(struct rproc_native_control, to_host, RPROC_NATIVE_OFF_TO_HOST);
FIELD(struct rproc_native_control, remote_epoch, RPROC_NATIVE_OFF_REMOTE_EPOCH);
FIELD(struct rproc_native_control, remote_pid, RPROC_NATIVE_OFF_REMOTE_PID);
FIELD(struct rproc_native_control, heartbeat, RPROC_NATIVE_OFF_HEARTBEAT);
FIELD(struct rproc_native_control, abort_code, RPROC_NATIVE_OFF_ABORT_CODE);
FIELD(struct rproc_native_control, abort_pc, RPROC_NATIVE_OFF_ABORT_PC);
FIELD(struct rproc_native_control, abort_set, RPROC_NATIVE_OFF_ABORT_SET);
_Static_assert(RPROC_NATIVE_TABLE_OFFSET + RPROC_NATIVE_TABLE_SIZE <= RPROC_NATIVE_TRACE_OFFSET &&
                   RPROC_NATIVE_TRACE_OFFSET + RPROC_NATIVE_TRACE_SIZE <= RPROC_NATIVE_POOL_OFFSET,
               "native memfd layout");
