/*
 * serial.h: the remoteproc serial port (virtio id 11, Linux virtio_console's rproc_serial):
 * a raw byte stream. vq 0 carries remote→host bytes (the port's receiveq, buffers the host
 * posted), vq 1 host→remote (its transmitq). Polled like rpmsg.h.
 */
#ifndef RPROC_SERIAL_H
#define RPROC_SERIAL_H

#include <stdint.h>

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
/* Brings the port up when the host is ready and hands received buffers to the handler.
   Returns the number of buffers handled, or a negative error. */
int rproc_serial_poll(struct rproc_serial *port);
int rproc_serial_ready(const struct rproc_serial *port);
/* Writes all bytes, spread over as many host buffers as needed, idling while none is free;
   `transform` (may be NULL) is the copy routine (e.g. rproc_copy_invert_case). Returns 0 or
   a negative error. */
int rproc_serial_write(struct rproc_serial *port, const void *data, uint32_t len,
                       void (*transform)(void *, const void *, __SIZE_TYPE__));

#endif
