/* serial.c: the remoteproc serial port device: set-up and the slow paths. See rproc/serial.h. */
#include "rproc/serial.h"

#include "rproc/machine.h"
#include "rproc/mem.h"
#include "rproc/platform.h"
#include "rproc/trace.h"

void rproc_serial_init(struct rproc_serial *port, volatile struct rproc_fw_rsc_vdev *vdev,
                       rproc_serial_handler handler) {
  memset(port, 0, sizeof *port);
  port->vdev = vdev;
  port->handler = handler;
  port->generation = rproc_platform_generation();
}

int rproc_serial_ready(const struct rproc_serial *port) { return port->ready; }

int rproc_serial_bring_up(struct rproc_serial *port) {
  uint32_t generation = rproc_platform_generation();
  if (generation != port->generation) { /* a new host */
    port->generation = generation;
    port->ready = 0;
    port->failed = 0;
  }
  if (!(port->vdev->status & RPROC_VIRTIO_STATUS_DRIVER_OK)) {
    if (port->ready) rproc_trace_puts("serial: host reset the port\n");
    port->ready = 0;
    port->failed = 0;
    return 0;
  }
  if (port->ready) return 1;
  if (port->failed) return 0;
  rproc_mb();
  int event_idx = (port->vdev->gfeatures >> RPROC_VIRTIO_RING_F_EVENT_IDX) & 1;
  if (port->vdev->num_of_vrings < 2 ||
      rproc_vring_init(&port->to_host, &port->vdev->vring[0], event_idx) != 0 ||
      rproc_vring_init(&port->from_host, &port->vdev->vring[1], event_idx) != 0) {
    rproc_trace_puts("serial: the host's vrings are unusable\n");
    port->failed = 1;
    return 0;
  }
  port->ready = 1;
  rproc_platform_watch(&port->from_host);
  rproc_vring_disable_kicks(&port->to_host); /* asked for only when out of buffers */
  rproc_trace_printf("serial: up, %u buffers each way\n", port->to_host.num);
  return 1;
}

int rproc_serial_poll(struct rproc_serial *port) {
  return rproc_serial_poll_with(port, port->handler);
}

int rproc_serial_write_slow(struct rproc_serial *port, const void *data, uint32_t len,
                            void (*transform)(void *, const void *, __SIZE_TYPE__)) {
  const uint8_t *bytes = data;
  if (!transform) transform = rproc_copy;
  do {
    if (!port->ready || port->generation != rproc_platform_generation()) return -19;
    struct rproc_vring_buffer buffer;
    int taken = rproc_vring_take(&port->to_host, &buffer);
    if (taken == RPROC_VRING_EBADDESC) continue;
    if (taken < 0) return taken;
    if (taken == 0) {
      if (!rproc_vring_enable_kicks(&port->to_host)) {
        rproc_wait_for_kick();
        rproc_kicks_take();
      }
      rproc_vring_disable_kicks(&port->to_host);
      if (!(port->vdev->status & RPROC_VIRTIO_STATUS_DRIVER_OK)) return -19;
      continue;
    }
    uint32_t chunk = len < buffer.len ? len : buffer.len;
    transform(buffer.data, bytes, chunk);
    rproc_vring_notify(&port->to_host, rproc_vring_put(&port->to_host, buffer.head, chunk));
    bytes += chunk;
    len -= chunk;
  } while (len > 0);
  return 0;
}
