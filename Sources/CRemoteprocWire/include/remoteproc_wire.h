/*
 * remoteproc_wire.h: the wire contract between a host and a remote processor.
 *
 * Every structure and constant that crosses the boundary between the host and the firmware:
 * the resource table (Linux include/linux/remoteproc.h), legacy split vrings
 * (include/uapi/linux/virtio_ring.h), virtio status and feature bits, the rpmsg header and
 * name-service message (drivers/rpmsg/virtio_rpmsg_bus.c) and the virtio console config.
 *
 * It is shared by the Swift host (as the C target CRemoteprocWire, where tests pin every Swift
 * offset to it) and by the firmware SDK in firmware/, so it is freestanding C: it needs only
 * <stdint.h>, compiles for any target clang knows, and has no code.
 *
 * Byte order: Linux writes every multi-byte field in the host's byte order. The structs below
 * say nothing about byte order; readers take it from the firmware ELF's EI_DATA.
 *
 * SPDX-License-Identifier: BSD-3-Clause (as Linux's rpmsg/remoteproc shared headers are
 * BSD-licensed, so that firmware of any license can include this file).
 */
#ifndef REMOTEPROC_WIRE_H
#define REMOTEPROC_WIRE_H

#include <stdint.h>

#define RPROC_PACKED __attribute__((packed))

/* ---------------------------------------------------------------- resource table ------- */

/** Linux: struct resource_table. `offset[num]` follows; each points at a fw_rsc_hdr. */
struct RPROC_PACKED rproc_resource_table {
  uint32_t ver;          /* must be RPROC_RSC_TABLE_VERSION */
  uint32_t num;          /* number of entries in offset[] */
  uint32_t reserved[2];  /* must be zero */
  uint32_t offset[];     /* byte offsets of the entries from the start of the table */
};

#define RPROC_RSC_TABLE_VERSION 1u
#define RPROC_RSC_TABLE_HEADER_SIZE 16u

/** Linux: struct fw_rsc_hdr. The entry payload follows immediately. */
struct RPROC_PACKED rproc_rsc_hdr {
  uint32_t type;  /* enum rproc_rsc_type */
};

/** Linux: enum fw_resource_type. */
enum rproc_rsc_type {
  RPROC_RSC_CARVEOUT = 0,
  RPROC_RSC_DEVMEM = 1,
  RPROC_RSC_TRACE = 2,
  RPROC_RSC_VDEV = 3,
  RPROC_RSC_LAST = 4,
  RPROC_RSC_VENDOR_START = 128,
  RPROC_RSC_VENDOR_END = 512,
};

/** Linux: FW_RSC_ADDR_ANY. "Allocate wherever you like." */
#define RPROC_FW_RSC_ADDR_ANY 0xFFFFFFFFu
/** Linux: RPROC_MAX_NAME_LEN (resource names are NUL-terminated within it). */
#define RPROC_MAX_NAME_LEN 32

/** Linux: struct fw_rsc_carveout (52 bytes). Physically contiguous memory for the remote. */
struct RPROC_PACKED rproc_fw_rsc_carveout {
  uint32_t da;        /* device address, or RPROC_FW_RSC_ADDR_ANY */
  uint32_t pa;        /* physical address, written back by the host */
  uint32_t len;
  uint32_t flags;     /* IOMMU protection flags */
  uint32_t reserved;  /* must be zero */
  char name[RPROC_MAX_NAME_LEN];
};

/** Linux: struct fw_rsc_devmem (52 bytes). A device-memory (MMIO) mapping request. */
struct RPROC_PACKED rproc_fw_rsc_devmem {
  uint32_t da;
  uint32_t pa;
  uint32_t len;
  uint32_t flags;
  uint32_t reserved;
  char name[RPROC_MAX_NAME_LEN];
};

/** Linux: struct fw_rsc_trace (44 bytes). A NUL-terminated text log the firmware writes. */
struct RPROC_PACKED rproc_fw_rsc_trace {
  uint32_t da;
  uint32_t len;
  uint32_t reserved;
  char name[RPROC_MAX_NAME_LEN];
};

/** Linux: struct fw_rsc_vdev_vring (20 bytes). */
struct RPROC_PACKED rproc_fw_rsc_vdev_vring {
  uint32_t da;        /* device address of the ring, or RPROC_FW_RSC_ADDR_ANY */
  uint32_t align;     /* alignment of the used ring, from the start of the ring */
  uint32_t num;       /* number of descriptors: a power of two */
  uint32_t notifyid;  /* written back by the host: 0, 1, 2… in table order */
  uint32_t pa;        /* physical address (Linux ≥ 4.x; "reserved" before) */
};

/** Linux: struct fw_rsc_vdev (24 bytes, then vrings, then config space). */
struct RPROC_PACKED rproc_fw_rsc_vdev {
  uint32_t id;          /* virtio device id */
  uint32_t notifyid;    /* written back by the host */
  uint32_t dfeatures;   /* features the device (firmware) offers */
  uint32_t gfeatures;   /* features the driver (host) accepted, written back */
  uint32_t config_len;  /* bytes of config space after the vrings */
  uint8_t status;       /* virtio status, written by the host */
  uint8_t num_of_vrings;
  uint8_t reserved[2];
  struct rproc_fw_rsc_vdev_vring vring[];
};

/** At most this many vrings per vdev entry (Linux: rproc_handle_vdev). */
#define RPROC_MAX_VRINGS_PER_VDEV 2

/* ------------------------------------------------------------------------ virtio ------- */

/** Virtio device ids (include/uapi/linux/virtio_ids.h). */
#define RPROC_VIRTIO_ID_NET 1
#define RPROC_VIRTIO_ID_CONSOLE 3
#define RPROC_VIRTIO_ID_RPMSG 7
#define RPROC_VIRTIO_ID_RPROC_SERIAL 11

/** Device status bits (include/uapi/linux/virtio_config.h). */
#define RPROC_VIRTIO_STATUS_ACKNOWLEDGE 1u
#define RPROC_VIRTIO_STATUS_DRIVER 2u
#define RPROC_VIRTIO_STATUS_DRIVER_OK 4u
#define RPROC_VIRTIO_STATUS_FEATURES_OK 8u
#define RPROC_VIRTIO_STATUS_NEEDS_RESET 0x40u
#define RPROC_VIRTIO_STATUS_FAILED 0x80u

/** Transport feature bits. */
#define RPROC_VIRTIO_RING_F_INDIRECT_DESC 28
#define RPROC_VIRTIO_RING_F_EVENT_IDX 29

/** Linux: struct vring_desc (16 bytes). */
struct RPROC_PACKED rproc_vring_desc {
  uint64_t addr;   /* device address of the buffer */
  uint32_t len;
  uint16_t flags;  /* RPROC_VRING_DESC_F_* */
  uint16_t next;   /* next descriptor of the chain, when flags has NEXT */
};

#define RPROC_VRING_DESC_F_NEXT 1u
#define RPROC_VRING_DESC_F_WRITE 2u
#define RPROC_VRING_DESC_F_INDIRECT 4u

/** Linux: struct vring_avail. Written by the driver; used_event follows ring[num]. */
struct RPROC_PACKED rproc_vring_avail {
  uint16_t flags;  /* RPROC_VRING_AVAIL_F_NO_INTERRUPT */
  uint16_t idx;    /* free-running count of published heads */
  uint16_t ring[];
};

#define RPROC_VRING_AVAIL_F_NO_INTERRUPT 1u

/** Linux: struct vring_used_elem (8 bytes). */
struct RPROC_PACKED rproc_vring_used_elem {
  uint32_t id;   /* head of the returned chain (u32 on the wire) */
  uint32_t len;  /* bytes the device wrote */
};

/** Linux: struct vring_used. Written by the device; avail_event follows ring[num]. */
struct RPROC_PACKED rproc_vring_used {
  uint16_t flags;  /* RPROC_VRING_USED_F_NO_NOTIFY */
  uint16_t idx;
  struct rproc_vring_used_elem ring[];
};

#define RPROC_VRING_USED_F_NO_NOTIFY 1u

/** The vring alignment remoteproc firmware conventionally uses. */
#define RPROC_VRING_ALIGN_DEFAULT 4096u

/** Linux: vring_size(). Bytes of a legacy split ring of `num` entries aligned to `align`. */
#define RPROC_VRING_SIZE(num, align)                                                       \
  ((((16u * (uint32_t)(num)) + (2u * (3u + (uint32_t)(num))) + (uint32_t)(align) - 1u) &   \
    ~((uint32_t)(align) - 1u)) +                                                           \
   (2u * 3u) + (8u * (uint32_t)(num)))

/** Offset of the used ring within a split ring (Linux: vring_init). */
#define RPROC_VRING_USED_OFFSET(num, align)                                                \
  ((((16u * (uint32_t)(num)) + (2u * (3u + (uint32_t)(num))) + (uint32_t)(align) - 1u) &   \
    ~((uint32_t)(align) - 1u)))

/** Virtio console config space (include/uapi/linux/virtio_console.h), 12 bytes. */
struct RPROC_PACKED rproc_virtio_console_config {
  uint16_t cols;
  uint16_t rows;
  uint32_t max_nr_ports;
  uint32_t emerg_wr;
};

#define RPROC_VIRTIO_CONSOLE_F_SIZE 0
#define RPROC_VIRTIO_CONSOLE_F_MULTIPORT 1
#define RPROC_VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* ------------------------------------------------------------------------- rpmsg ------- */

/** Linux: struct rpmsg_hdr (16 bytes). The payload follows. */
struct RPROC_PACKED rproc_rpmsg_hdr {
  uint32_t src;
  uint32_t dst;
  uint32_t reserved;
  uint16_t len;    /* payload bytes */
  uint16_t flags;
};

/** Linux: RPMSG_NAME_SIZE. Channel names are NUL-terminated within it. */
#define RPROC_RPMSG_NAME_SIZE 32

/** Linux: struct rpmsg_ns_msg (40 bytes), sent to RPROC_RPMSG_NS_ADDR. */
struct RPROC_PACKED rproc_rpmsg_ns_msg {
  char name[RPROC_RPMSG_NAME_SIZE];
  uint32_t addr;
  uint32_t flags;  /* RPROC_RPMSG_NS_CREATE or RPROC_RPMSG_NS_DESTROY */
};

#define RPROC_RPMSG_NS_CREATE 0u
#define RPROC_RPMSG_NS_DESTROY 1u
/** Linux: RPMSG_NS_ADDR. */
#define RPROC_RPMSG_NS_ADDR 53u
/** Linux: RPMSG_RESERVED_ADDRESSES. Dynamic endpoint addresses start here. */
#define RPROC_RPMSG_RESERVED_ADDRESSES 1024u
/** Linux: RPMSG_ADDR_ANY. */
#define RPROC_RPMSG_ADDR_ANY 0xFFFFFFFFu
/** Linux: VIRTIO_RPMSG_F_NS, feature bit 0. */
#define RPROC_VIRTIO_RPMSG_F_NS 0
/** Linux: MAX_RPMSG_BUF_SIZE. Header included; the MTU is 512 - 16 = 496. */
#define RPROC_RPMSG_BUF_SIZE 512u
#define RPROC_RPMSG_HDR_SIZE 16u
#define RPROC_RPMSG_MTU (RPROC_RPMSG_BUF_SIZE - RPROC_RPMSG_HDR_SIZE)
/** Linux: MAX_RPMSG_NUM_BUFS. */
#define RPROC_RPMSG_MAX_NUM_BUFS 512u
/** Linux: num_bufs = vring0.num < MAX/2 ? 2 * num : MAX. */
#define RPROC_RPMSG_NUM_BUFS(vring_num)                                                    \
  ((uint32_t)(vring_num) < RPROC_RPMSG_MAX_NUM_BUFS / 2u ? 2u * (uint32_t)(vring_num)      \
                                                         : RPROC_RPMSG_MAX_NUM_BUFS)

#endif /* REMOTEPROC_WIRE_H */
