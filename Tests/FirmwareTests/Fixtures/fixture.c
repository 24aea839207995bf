/*
 * A minimal firmware image for the ELF and resource-table tests: an entry point, a trace
 * buffer, and a resource table with a carveout, the trace and an rpmsg vdev with two
 * vrings, exactly as firmware for Linux remoteproc declares them. Built for each
 * architecture by build.sh; the outputs are committed beside this file.
 */
#include <stddef.h>
#include "remoteproc_wire.h"

#ifndef FIXTURE_BASE
#error "FIXTURE_BASE (the load address) must be defined"
#endif

#define TRACE_LEN 0x400

/* 32-bit images point the trace entry at trace_buffer; 64-bit ones cannot truncate a
 * pointer in a constant initializer, so they use a fixed device address instead. */
#if UINTPTR_MAX > 0xffffffffu
#define TRACE_DA (FIXTURE_BASE + 0x100000u)
#else
#define TRACE_DA ((uint32_t)(uintptr_t)trace_buffer)
#endif

char trace_buffer[TRACE_LEN];

struct fixture_table {
  struct rproc_resource_table header;
  uint32_t offset[3];
  struct rproc_rsc_hdr carveout_hdr;
  struct rproc_fw_rsc_carveout carveout;
  struct rproc_rsc_hdr trace_hdr;
  struct rproc_fw_rsc_trace trace;
  struct rproc_rsc_hdr vdev_hdr;
  struct rproc_fw_rsc_vdev vdev;
  struct rproc_fw_rsc_vdev_vring vring[2];
};

__attribute__((section(".resource_table"), used)) const struct fixture_table resource_table = {
  .header = {.ver = 1, .num = 3},
  .offset = {offsetof(struct fixture_table, carveout_hdr), offsetof(struct fixture_table, trace_hdr),
             offsetof(struct fixture_table, vdev_hdr)},
  .carveout_hdr = {RPROC_RSC_CARVEOUT},
  .carveout = {.da = RPROC_FW_RSC_ADDR_ANY, .len = 0x10000, .name = "heap"},
  .trace_hdr = {RPROC_RSC_TRACE},
  .trace = {.da = TRACE_DA, .len = TRACE_LEN, .name = "trace0"},
  .vdev_hdr = {RPROC_RSC_VDEV},
  .vdev = {.id = RPROC_VIRTIO_ID_RPMSG, .dfeatures = 1u << RPROC_VIRTIO_RPMSG_F_NS, .num_of_vrings = 2},
  .vring = {{.da = RPROC_FW_RSC_ADDR_ANY, .align = 4096, .num = 16},
            {.da = RPROC_FW_RSC_ADDR_ANY, .align = 4096, .num = 16}},
};

void _start(void) {
  static const char hello[] = "fixture up\n";
  for (unsigned i = 0; i < sizeof hello; i++) trace_buffer[i] = hello[i];
  for (;;) {
  }
}
