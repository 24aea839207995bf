/*
 * serial.h: the remoteproc serial port (virtio id 11, Linux virtio_console's rproc_serial):
 * a raw byte stream. vq 0 carries remote→host bytes (the port's receiveq, buffers the host
 * posted), vq 1 host→remote (its transmitq). Polled like rpmsg.h.
 *
 * rproc_serial_poll_with and rproc_serial_write are inline: called with a handler and a
 * transform the compiler can see (static functions, rproc_copy_invert_case), the whole
 * receive → reply path compiles into the caller's loop with no calls and no register saves.
 */
#ifndef RPROC_SERIAL_H
#define RPROC_SERIAL_H

#include <stdint.h>

#include "compiler.h"
#include "mem.h"
#include "platform.h"
#include "remoteproc_wire.h"
#include "vring.h"

struct rproc_serial;
/* Called for each buffer the host sent. */
typedef void (*rproc_serial_handler)(struct rproc_serial *port, const void *data,
                                     uint32_t len);

struct rproc_serial {
  volatile struct rproc_fw_rsc_vdev *vdev;
  struct rproc_vring to_host;   /* vq 0 */
  struct rproc_vring from_host; /* vq 1 */
  rproc_serial_handler handler;
  uint32_t generation; /* rproc_platform_generation() the rings belong to */
  uint8_t ready;
  uint8_t failed;
};

void rproc_serial_init(struct rproc_serial *port, volatile struct rproc_fw_rsc_vdev *vdev,
                       rproc_serial_handler handler);
/* Brings the port up when the host is ready and hands received buffers to the handler given
   to rproc_serial_init. Returns the number of buffers handled, or a negative error. */
int rproc_serial_poll(struct rproc_serial *port);
int rproc_serial_ready(const struct rproc_serial *port);

/* Out of line: (re)brings the port up (afresh for a new host); 1 when it is ready. */
int rproc_serial_bring_up(struct rproc_serial *port);

/* rproc_serial_poll with the handler as an argument (may be NULL: buffers are dropped). */
RPROC_INLINE int rproc_serial_poll_with(struct rproc_serial *port,
                                         rproc_serial_handler handler) {
  if (!port->ready || port->generation != rproc_platform_generation() ||
      !(port->vdev->status & RPROC_VIRTIO_STATUS_DRIVER_OK))
    if (!rproc_serial_bring_up(port)) return 0;
  struct rproc_vring *ring = &port->from_host;
  int handled = 0;
  uint16_t since = rproc_vring_used_index(ring);
  struct rproc_vring_buffer buffer;
  rproc_vring_disable_kicks(ring); /* no kicks while taking what is there */
  for (;;) {
    int taken = rproc_vring_take_or_arm(ring, &buffer);
    if (taken == RPROC_VRING_EBADDESC) continue;
    if (taken < 0) return taken;
    if (taken == 0) break;
    if (handler) handler(port, buffer.data, buffer.len);
    rproc_vring_put(ring, buffer.head, 0);
    handled++;
  }
  rproc_vring_notify(ring, since);
  return handled;
}

/* Out of line: rproc_serial_write's general case (several buffers, waiting for one, a
   descriptor to skip). */
int rproc_serial_write_slow(struct rproc_serial *port, const void *data, uint32_t len,
                            void (*transform)(void *, const void *, __SIZE_TYPE__));

/* Writes all bytes, spread over as many host buffers as needed, idling while none is free;
   `transform` (may be NULL) is the copy routine (e.g. rproc_copy_invert_case). Returns 0 or
   a negative error. Inline for the common case, bytes that fit the next free buffer. */
RPROC_INLINE int rproc_serial_write(struct rproc_serial *port, const void *data, uint32_t len,
                                    void (*transform)(void *, const void *, __SIZE_TYPE__)) {
  if (!transform) transform = rproc_copy;
  if (!port->ready || port->generation != rproc_platform_generation()) return -19;
  struct rproc_vring_buffer buffer;
  int taken = rproc_vring_take(&port->to_host, &buffer);
  if (taken != 1) {
    if (taken < 0 && taken != RPROC_VRING_EBADDESC) return taken;
    return rproc_serial_write_slow(port, data, len, transform);
  }
  uint32_t chunk = len < buffer.len ? len : buffer.len;
  transform(buffer.data, data, chunk);
  rproc_vring_notify(&port->to_host, rproc_vring_put(&port->to_host, buffer.head, chunk));
  if (chunk == len) return 0;
  return rproc_serial_write_slow(port, (const uint8_t *)data + chunk, len - chunk, transform);
}

#endif
