/*
 * rpmsg-bench (native machine): the remote of `rproc bench rpmsg-process`, with 256-entry
 * vrings (512 buffers).
 *   rpmsg-bench-echo   sends every message back to its sender
 *   rpmsg-bench-sink   counts messages and drops them
 *   rpmsg-bench-count  answers any message with the sink's count (4 bytes, little-endian)
 *                      and sets it back to 0; it follows every sink message sent before it
 */
#include <rproc/rproc.h>

static RPROC_TRACE_BUFFER(trace_buffer, 4096);

struct table {
  RPROC_TABLE_HEADER(2);
  struct rproc_rsc_trace trace;
  struct rproc_rsc_vdev2 rpmsg;
} RPROC_PACKED;

RPROC_RESOURCE_TABLE volatile struct table rproc_table = {
    RPROC_TABLE_HEADER_INIT(2, offsetof(struct table, trace), offsetof(struct table, rpmsg)),
    .trace = RPROC_TRACE_RSC(trace_buffer, sizeof trace_buffer, "trace0"),
    .rpmsg = RPROC_VDEV_RPMSG_RSC(RPROC_VRING_DA_ANY, 256),
};

static struct rproc_rpmsg bus;
static struct rproc_rpmsg_endpoint echo_ep, sink_ep, count_ep;
static uint32_t sunk;

static void echo(struct rproc_rpmsg *rpmsg, struct rproc_rpmsg_endpoint *endpoint,
                 uint32_t src, const void *data, uint32_t len) {
  if (rproc_rpmsg_send(rpmsg, endpoint->addr, src, data, len) != 0)
    rproc_trace_printf("rpmsg-bench: echo to %u lost\n", src);
}

static void sink(struct rproc_rpmsg *rpmsg, struct rproc_rpmsg_endpoint *endpoint,
                 uint32_t src, const void *data, uint32_t len) {
  (void)rpmsg, (void)endpoint, (void)src, (void)data, (void)len;
  sunk++;
}

static void count(struct rproc_rpmsg *rpmsg, struct rproc_rpmsg_endpoint *endpoint,
                  uint32_t src, const void *data, uint32_t len) {
  (void)data, (void)len;
  uint8_t reply[4] = {(uint8_t)sunk, (uint8_t)(sunk >> 8), (uint8_t)(sunk >> 16), (uint8_t)(sunk >> 24)};
  sunk = 0;
  rproc_rpmsg_send(rpmsg, endpoint->addr, src, reply, sizeof reply);
}

int main(void) {
  rproc_trace_init(trace_buffer, sizeof trace_buffer);
  rproc_trace_printf("rpmsg-bench on %s: hello\n", RPROC_MACHINE_NAME);
  rproc_rpmsg_init(&bus, rproc_vdev_of(rproc_table.rpmsg));
  rproc_rpmsg_add_endpoint(&bus, &echo_ep, "rpmsg-bench-echo", RPROC_RPMSG_ADDR_ANY, echo, 0);
  rproc_rpmsg_add_endpoint(&bus, &sink_ep, "rpmsg-bench-sink", RPROC_RPMSG_ADDR_ANY, sink, 0);
  rproc_rpmsg_add_endpoint(&bus, &count_ep, "rpmsg-bench-count", RPROC_RPMSG_ADDR_ANY, count, 0);
  rproc_platform_init(RPROC_KICKS_INTERRUPT);
  for (;;) {
    rproc_kicks_take();
    if (rproc_rpmsg_poll(&bus) < 0) rproc_trace_puts("rpmsg-bench: the host broke a ring\n");
    rproc_wait_for_kick();
  }
}
