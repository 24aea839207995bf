/*
 * rpmsg-echo: announces rpmsg-client-sample and rpmsg-tty and sends every message back to
 * whoever sent it (the Linux rpmsg_client_sample driver sends "hello world!" and expects the
 * echo; rpmsg-tty is a raw byte stream).
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
    .rpmsg = RPROC_VDEV_RPMSG_RSC(RPROC_VRING_DA_ANY, 16),
};

static struct rproc_rpmsg bus;
static struct rproc_rpmsg_endpoint sample, tty;
static uint32_t echoed;

static void echo(struct rproc_rpmsg *rpmsg, struct rproc_rpmsg_endpoint *endpoint,
                 uint32_t src, const void *data, uint32_t len) {
  echoed++;
  if (rproc_rpmsg_send(rpmsg, endpoint->addr, src, data, len) != 0)
    rproc_trace_printf("rpmsg-echo: echo to %u lost\n", src);
}

int main(void) {
  rproc_trace_init(trace_buffer, sizeof trace_buffer);
  rproc_trace_printf("rpmsg-echo on %s: hello\n", RPROC_MACHINE_NAME);
  rproc_rpmsg_init(&bus, rproc_vdev_of(rproc_table.rpmsg));
  rproc_rpmsg_add_endpoint(&bus, &sample, "rpmsg-client-sample", RPROC_RPMSG_ADDR_ANY, echo, 0);
  rproc_rpmsg_add_endpoint(&bus, &tty, "rpmsg-tty", RPROC_RPMSG_ADDR_ANY, echo, 0);
  rproc_platform_init(RPROC_KICKS_INTERRUPT);
  for (;;) {
    rproc_kicks_take();
    if (rproc_rpmsg_poll(&bus) < 0) rproc_trace_puts("rpmsg-echo: the host broke a ring\n");
    rproc_wait_for_kick();
  }
}
