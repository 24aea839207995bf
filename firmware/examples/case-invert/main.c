/*
 * case-invert: the seed's virtual serial port. Every string sent to the port comes back with
 * the case of its letters inverted ("Hello, Remote World" → "hELLO, rEMOTE wORLD").
 * Build with -DRPROC_LEGACY_VRINGS for the legacy variant whose vrings ask for address 0.
 */
#include <rproc/rproc.h>

#ifdef RPROC_LEGACY_VRINGS
#define VRING_DA RPROC_VRING_DA_LEGACY
#else
#define VRING_DA RPROC_VRING_DA_ANY
#endif

static RPROC_TRACE_BUFFER(trace_buffer, 4096);

struct table {
  RPROC_TABLE_HEADER(2);
  struct rproc_rsc_trace trace;
  struct rproc_rsc_vdev_serial serial;
} RPROC_PACKED;

RPROC_RESOURCE_TABLE volatile struct table rproc_table = {
    RPROC_TABLE_HEADER_INIT(2, offsetof(struct table, trace), offsetof(struct table, serial)),
    .trace = RPROC_TRACE_RSC(trace_buffer, sizeof trace_buffer, "trace0"),
    .serial = RPROC_VDEV_SERIAL_RSC(VRING_DA, 16, 1u << RPROC_VIRTIO_RING_F_EVENT_IDX),
};

static struct rproc_serial port;

/* Inlined with rproc_serial_write and the copy into the loop below (rproc_serial_poll_with):
   the round trip makes no calls and saves no registers (docs/firmware-sdk.md). */
static void received(struct rproc_serial *serial, const void *data, uint32_t len) {
  if (rproc_serial_write(serial, data, len, rproc_copy_invert_case) != 0)
    rproc_trace_printf("case-invert: reply of %u bytes lost\n", len);
}

int main(void) {
  rproc_trace_init(trace_buffer, sizeof trace_buffer);
  rproc_trace_printf("case-invert on %s: hello\n", RPROC_MACHINE_NAME);
  rproc_serial_init(&port, rproc_vdev_of(rproc_table.serial), 0);
  rproc_platform_init(RPROC_KICKS_INTERRUPT);
  for (;;) {
    rproc_kicks_take();
    if (rproc_serial_poll_with(&port, received) < 0) rproc_trace_puts("case-invert: the host broke a ring\n");
    rproc_wait_for_kick();
  }
}
