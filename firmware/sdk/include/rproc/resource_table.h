/*
 * resource_table.h: declaring the resource table (Linux: struct resource_table in section
 * ".resource_table"). The firmware writes it in its own byte order; the host reads it by the
 * ELF's EI_DATA and writes back vring addresses, notify ids, gfeatures and status into the
 * loaded copy, so the firmware must read it through volatile accesses.
 *
 * A table is a struct of a header and entries, declared with these macros:
 *
 *   struct my_table {
 *     RPROC_TABLE_HEADER(2);
 *     struct rproc_rsc_trace trace;
 *     struct rproc_rsc_vdev_serial serial;
 *   } RPROC_PACKED;
 *   RPROC_RESOURCE_TABLE volatile struct my_table rproc_table = {
 *     RPROC_TABLE_HEADER_INIT(2, offsetof(struct my_table, trace),
 *                                offsetof(struct my_table, serial)),
 *     .trace = RPROC_TRACE_RSC(trace_buffer, sizeof trace_buffer, "trace0"),
 *     .serial = RPROC_VDEV_SERIAL_RSC(RPROC_VRING_DA_ANY, 16, 0),
 *   };
 */
#ifndef RPROC_RESOURCE_TABLE_H
#define RPROC_RESOURCE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "remoteproc_wire.h"

/* Places the table where the host looks for it, and keeps it. */
#define RPROC_RESOURCE_TABLE __attribute__((section(".resource_table"), used, aligned(8)))

/* Header fields of a table with `n` entries (expands inside the struct). */
#define RPROC_TABLE_HEADER(n)                                                              \
  uint32_t ver;                                                                            \
  uint32_t num;                                                                            \
  uint32_t reserved[2];                                                                    \
  uint32_t offset[n]
#define RPROC_TABLE_HEADER_INIT(n, ...)                                                    \
  .ver = RPROC_RSC_TABLE_VERSION, .num = (n), .reserved = {0, 0}, .offset = {__VA_ARGS__}

/* Vring device address: "allocate wherever you like" (current kernels). */
#define RPROC_VRING_DA_ANY RPROC_FW_RSC_ADDR_ANY
/* Legacy firmware (the MIPS example) leaves 0 and expects the host to overwrite it; hosts
   need their legacy option for it (Linux 4.x did that; current kernels treat 0 as fixed). */
#define RPROC_VRING_DA_LEGACY 0u

/* A device address for a firmware object (the firmware's addresses are its device addresses). */
#define RPROC_DA(object) ((uint32_t)(uintptr_t)(object))

struct RPROC_PACKED rproc_rsc_trace {
  uint32_t type;
  struct rproc_fw_rsc_trace trace;
};
#if defined(RPROC_NATIVE)
/* A native firmware's trace buffer is the trace area of the shared memory (its address is not
   a 32-bit constant): `buffer` is not used, and rproc_trace_init writes to the area. */
#include "remoteproc_native.h"
#define RPROC_TRACE_RSC(buffer, size, trace_name)                                          \
  {                                                                                        \
    .type = RPROC_RSC_TRACE,                                                               \
    .trace = {.da = RPROC_NATIVE_TRACE_DA,                                                 \
              .len = (size) < RPROC_NATIVE_TRACE_SIZE ? (size) : RPROC_NATIVE_TRACE_SIZE,  \
              .reserved = 0, .name = trace_name},                                          \
  }
#else
#define RPROC_TRACE_RSC(buffer, size, trace_name)                                          \
  {                                                                                        \
    .type = RPROC_RSC_TRACE,                                                               \
    .trace = {.da = RPROC_DA(buffer), .len = (size), .reserved = 0, .name = trace_name},   \
  }
#endif

struct RPROC_PACKED rproc_rsc_carveout {
  uint32_t type;
  struct rproc_fw_rsc_carveout carveout;
};
#define RPROC_CARVEOUT_RSC(device_address, size, carveout_name)                            \
  {                                                                                        \
    .type = RPROC_RSC_CARVEOUT,                                                            \
    .carveout = {.da = (device_address), .pa = 0, .len = (size), .flags = 0,               \
                 .reserved = 0, .name = carveout_name},                                    \
  }

/* A vdev entry with two vrings and no config space (rpmsg). The fields after `type` have
   the layout of struct rproc_fw_rsc_vdev (rproc_vdev_of gives that view). */
struct RPROC_PACKED rproc_rsc_vdev2 {
  uint32_t type;
  uint32_t id, notifyid, dfeatures, gfeatures, config_len;
  uint8_t status, num_of_vrings, reserved[2];
  struct rproc_fw_rsc_vdev_vring vring[2];
};

/* A vdev entry with two vrings and the 12-byte virtio console config (rproc serial). */
struct RPROC_PACKED rproc_rsc_vdev_serial {
  uint32_t type;
  uint32_t id, notifyid, dfeatures, gfeatures, config_len;
  uint8_t status, num_of_vrings, reserved[2];
  struct rproc_fw_rsc_vdev_vring vring[2];
  struct rproc_virtio_console_config config;
};

#define RPROC_VRING_RSC(device_address, count)                                             \
  {.da = (device_address), .align = RPROC_VRING_ALIGN_DEFAULT, .num = (count),             \
   .notifyid = 0, .pa = 0}

#define RPROC_VDEV_FIELDS(device_id, features, config_bytes)                               \
  .type = RPROC_RSC_VDEV, .id = (device_id), .notifyid = 0, .dfeatures = (features),       \
  .gfeatures = 0, .config_len = (config_bytes), .status = 0, .num_of_vrings = 2,           \
  .reserved = {0, 0}

/* rpmsg: feature NS and EVENT_IDX offered; vring 0 remote→host, vring 1 host→remote. */
#define RPROC_VDEV_RPMSG_RSC(vring_da, count)                                              \
  {                                                                                        \
    RPROC_VDEV_FIELDS(RPROC_VIRTIO_ID_RPMSG,                                               \
                      (1u << RPROC_VIRTIO_RPMSG_F_NS) | (1u << RPROC_VIRTIO_RING_F_EVENT_IDX), \
                      0),                                                                  \
    .vring = {RPROC_VRING_RSC(vring_da, count), RPROC_VRING_RSC(vring_da, count)},         \
  }

/* rproc serial (virtio id 11): vq 0 remote→host (the port's receiveq), vq 1 host→remote. */
#define RPROC_VDEV_SERIAL_RSC(vring_da, count, features)                                   \
  {                                                                                        \
    RPROC_VDEV_FIELDS(RPROC_VIRTIO_ID_RPROC_SERIAL, (features),                            \
                      sizeof(struct rproc_virtio_console_config)),                         \
    .vring = {RPROC_VRING_RSC(vring_da, count), RPROC_VRING_RSC(vring_da, count)},         \
    .config = {0, 0, 0, 0},                                                                \
  }

/* The linked table (linker scripts define this at the start of .resource_table). */
extern volatile struct rproc_resource_table _rproc_resource_table;

/* Finds the first vdev entry with virtio id `id` in the linked table, or NULL: for firmware
   that declares its table elsewhere (Embedded Swift) or does not keep the entry's name. */
volatile struct rproc_fw_rsc_vdev *rproc_table_find_vdev(uint32_t id);

/* The wire view of an entry declared with the structs above. */
#define rproc_vdev_of(entry) ((volatile struct rproc_fw_rsc_vdev *)(volatile void *)&(entry).id)

_Static_assert(sizeof(struct rproc_rsc_trace) == 4 + 44, "trace entry");
_Static_assert(sizeof(struct rproc_rsc_carveout) == 4 + 52, "carveout entry");
_Static_assert(sizeof(struct rproc_rsc_vdev2) == 4 + 24 + 2 * 20, "vdev entry");
_Static_assert(sizeof(struct rproc_rsc_vdev_serial) == 4 + 24 + 2 * 20 + 12, "serial entry");
_Static_assert(offsetof(struct rproc_rsc_vdev2, vring) - 4 ==
                   offsetof(struct rproc_fw_rsc_vdev, vring), "vdev view");

#endif
