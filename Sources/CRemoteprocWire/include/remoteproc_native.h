/*
 * remoteproc_native.h: the contract between a host and a firmware that runs as a native Linux
 * process (the process platform, docs/process-platform.md).
 *
 * The host creates a memfd, writes the control page below into its first page, copies the
 * firmware's resource table to RPROC_NATIVE_TABLE_OFFSET and starts the firmware executable
 * with the memfd inherited and its descriptor number in the environment variable
 * RPROC_NATIVE_ENV_FD ("RPROC_SHM_FD"). Nothing else is passed: every other fact is in the
 * control page.
 *
 * Device addresses: byte `o` of the memfd has device address RPROC_NATIVE_DA_BASE + o. The
 * resource table is at RPROC_NATIVE_TABLE_OFFSET (one page), the trace buffer area at
 * RPROC_NATIVE_TRACE_OFFSET, and the host allocates vrings, rpmsg buffers and carveouts in the
 * pool from RPROC_NATIVE_POOL_OFFSET to the end of the memfd.
 *
 * Doorbells: one cache line per direction. The ringer ORs a bit into `pending` (bit n for
 * notify id n < 31, bit 31 for every other id) and, when the old value was 0 and `waiting` is
 * set, FUTEX_WAKEs `pending`. The receiver exchanges `pending` with 0 to take the kicks; to
 * sleep it sets `waiting`, issues a full fence, re-reads `pending` and FUTEX_WAITs while it
 * is 0, then clears `waiting`. In adaptive mode it first polls `pending` for `spin_ns`.
 * A ringer therefore enters the kernel only when the receiver sleeps and no earlier kick is
 * still untaken.
 *
 * Every field is in the host's byte order (both sides run on the same machine). Who writes
 * what is said beside each field; the other side only reads it.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef REMOTEPROC_NATIVE_H
#define REMOTEPROC_NATIVE_H

#include <stdint.h>

#define RPROC_NATIVE_MAGIC 0x504E5052u /* "RPNP" in little-endian memory */
#define RPROC_NATIVE_VERSION 1u
/** The environment variable holding the memfd's descriptor number in the firmware process. */
#define RPROC_NATIVE_ENV_FD "RPROC_SHM_FD"

/** Device address of byte 0 of the memfd. */
#define RPROC_NATIVE_DA_BASE 0x80000000u
/** The largest memfd: every device address must fit in 32 bits. */
#define RPROC_NATIVE_MAX_SIZE 0x80000000u
#define RPROC_NATIVE_PAGE_SIZE 0x1000u
#define RPROC_NATIVE_CONTROL_OFFSET 0x0000u
#define RPROC_NATIVE_TABLE_OFFSET 0x1000u
#define RPROC_NATIVE_TABLE_SIZE 0x1000u
#define RPROC_NATIVE_TRACE_OFFSET 0x2000u
#define RPROC_NATIVE_TRACE_SIZE 0x2000u
#define RPROC_NATIVE_POOL_OFFSET 0x4000u
/** The device address of the trace area, where a native firmware's trace entry points. */
#define RPROC_NATIVE_TRACE_DA (RPROC_NATIVE_DA_BASE + RPROC_NATIVE_TRACE_OFFSET)

/** Doorbell bit for notify ids of 31 and more: the receiver looks at every vring. */
#define RPROC_NATIVE_KICK_ANY 31u

/** `mode`: how a receiver waits for a doorbell. */
#define RPROC_NATIVE_MODE_SLEEP 0u    /* FUTEX_WAIT at once */
#define RPROC_NATIVE_MODE_ADAPTIVE 1u /* poll for spin_ns, then FUTEX_WAIT */

/** One direction's doorbell; a cache line of its own. */
struct rproc_native_doorbell {
  uint32_t pending; /* ringer ORs, receiver exchanges with 0; the futex word */
  uint32_t waiting; /* receiver: 1 while it sleeps (or is about to) on `pending` */
  uint32_t reserved[14];
};

/** The first page of the memfd. */
struct rproc_native_control {
  /* Host, before the firmware starts (and again when a new host attaches: host_epoch). */
  uint32_t magic;        /* RPROC_NATIVE_MAGIC */
  uint32_t version;      /* RPROC_NATIVE_VERSION */
  uint32_t size;         /* bytes in the memfd */
  uint32_t device_base;  /* RPROC_NATIVE_DA_BASE */
  uint32_t table_offset; /* RPROC_NATIVE_TABLE_OFFSET */
  uint32_t table_size;   /* bytes of the resource table the host copied there */
  uint32_t trace_offset; /* RPROC_NATIVE_TRACE_OFFSET */
  uint32_t trace_size;   /* RPROC_NATIVE_TRACE_SIZE */
  uint32_t pool_offset;  /* RPROC_NATIVE_POOL_OFFSET */
  uint32_t mode;         /* RPROC_NATIVE_MODE_SLEEP or _ADAPTIVE */
  uint32_t spin_ns;      /* adaptive: how long a receiver polls before it sleeps */
  uint32_t watchdog_ms;  /* pet (heartbeat) at least this often; 0: no watchdog */
  uint32_t host_epoch;   /* changes when a host starts or attaches to the firmware */
  uint32_t reserved0[3];
  struct rproc_native_doorbell to_remote; /* host rings, remote receives */
  struct rproc_native_doorbell to_host;   /* remote rings, host receives */
  /* Remote. */
  uint32_t remote_epoch; /* = host_epoch once the firmware has seen it; futex word */
  uint32_t remote_pid;   /* the firmware's process id */
  uint32_t heartbeat;    /* incremented by every pet and every wait for a kick */
  uint32_t abort_code;   /* rproc_abort's code, valid when abort_set is 1 */
  uint64_t abort_pc;     /* rproc_abort's caller */
  uint32_t abort_set;
  uint32_t reserved1[9];
};

#define RPROC_NATIVE_OFF_MAGIC 0x00u
#define RPROC_NATIVE_OFF_VERSION 0x04u
#define RPROC_NATIVE_OFF_SIZE 0x08u
#define RPROC_NATIVE_OFF_DEVICE_BASE 0x0Cu
#define RPROC_NATIVE_OFF_TABLE_OFFSET 0x10u
#define RPROC_NATIVE_OFF_TABLE_SIZE 0x14u
#define RPROC_NATIVE_OFF_TRACE_OFFSET 0x18u
#define RPROC_NATIVE_OFF_TRACE_SIZE 0x1Cu
#define RPROC_NATIVE_OFF_POOL_OFFSET 0x20u
#define RPROC_NATIVE_OFF_MODE 0x24u
#define RPROC_NATIVE_OFF_SPIN_NS 0x28u
#define RPROC_NATIVE_OFF_WATCHDOG_MS 0x2Cu
#define RPROC_NATIVE_OFF_HOST_EPOCH 0x30u
#define RPROC_NATIVE_OFF_TO_REMOTE 0x40u
#define RPROC_NATIVE_OFF_TO_HOST 0x80u
#define RPROC_NATIVE_DOORBELL_PENDING 0x00u
#define RPROC_NATIVE_DOORBELL_WAITING 0x04u
#define RPROC_NATIVE_OFF_REMOTE_EPOCH 0xC0u
#define RPROC_NATIVE_OFF_REMOTE_PID 0xC4u
#define RPROC_NATIVE_OFF_HEARTBEAT 0xC8u
#define RPROC_NATIVE_OFF_ABORT_CODE 0xCCu
#define RPROC_NATIVE_OFF_ABORT_PC 0xD0u
#define RPROC_NATIVE_OFF_ABORT_SET 0xD8u
#define RPROC_NATIVE_CONTROL_SIZE 0x100u

#endif /* REMOTEPROC_NATIVE_H */
