/*
 * rpmsg.h: the remote side of the rpmsg bus (Linux drivers/rpmsg/virtio_rpmsg_bus.c):
 * endpoints, the name service (announcements to address 53) and messages of a 16-byte header
 * plus at most 496 bytes in 512-byte buffers. Vring 0 carries remote→host messages (buffers
 * the host posted for receiving), vring 1 host→remote.
 *
 * The device is polled: rproc_rpmsg_poll sets the rings up once the host has written
 * DRIVER_OK, announces the named endpoints, and delivers received messages to the endpoint
 * callbacks. It never blocks, so several devices can share one main loop.
 */
#ifndef RPROC_RPMSG_H
#define RPROC_RPMSG_H

#include <stdint.h>

#include "remoteproc_wire.h"
#include "vring.h"

#define RPROC_RPMSG_MAX_ENDPOINTS 8

struct rproc_rpmsg;
struct rproc_rpmsg_endpoint;

typedef void (*rproc_rpmsg_callback)(struct rproc_rpmsg *bus,
                                     struct rproc_rpmsg_endpoint *endpoint, uint32_t src,
                                     const void *data, uint32_t len);

struct rproc_rpmsg_endpoint {
  uint32_t addr;
  const char *name; /* announced when not NULL */
  rproc_rpmsg_callback callback;
  void *context;
};

struct rproc_rpmsg {
  volatile struct rproc_fw_rsc_vdev *vdev;
  struct rproc_vring to_host;   /* vring 0 */
  struct rproc_vring from_host; /* vring 1 */
  struct rproc_rpmsg_endpoint *endpoints[RPROC_RPMSG_MAX_ENDPOINTS];
  uint32_t endpoint_count;
  uint32_t next_addr;
  uint32_t generation; /* rproc_platform_generation() the rings belong to */
  uint8_t ready;
  uint8_t failed;
};

void rproc_rpmsg_init(struct rproc_rpmsg *bus, volatile struct rproc_fw_rsc_vdev *vdev);
/* A bus and endpoints stored by the SDK, for firmware whose language should not allocate
   SDK structs itself: Embedded Swift 6.3 sizes an imported C struct global without its tail
   padding, so C writing a whole struct would run into the next Swift global. */
struct rproc_rpmsg *rproc_rpmsg_static_bus(void);
struct rproc_rpmsg_endpoint *rproc_rpmsg_static_endpoint(uint32_t index); /* < MAX, or NULL */
/* Adds an endpoint at `addr` (RPROC_RPMSG_ADDR_ANY: the next free from 1024). Named endpoints
   are announced (again) whenever the host (re)starts the device. Returns the address, or 0. */
uint32_t rproc_rpmsg_add_endpoint(struct rproc_rpmsg *bus,
                                  struct rproc_rpmsg_endpoint *endpoint, const char *name,
                                  uint32_t addr, rproc_rpmsg_callback callback, void *context);
/* Brings the device up when the host is ready and delivers what arrived. Returns the number
   of messages delivered, or a negative error when the host broke a ring. */
int rproc_rpmsg_poll(struct rproc_rpmsg *bus);
/* 1 once the host has set the device up (DRIVER_OK seen and the rings valid). */
int rproc_rpmsg_ready(const struct rproc_rpmsg *bus);
/* Sends at once: 0, -11 (no buffer free now), -90 (len > 496) or -19 (not ready). */
int rproc_rpmsg_try_send(struct rproc_rpmsg *bus, uint32_t src, uint32_t dst,
                         const void *data, uint32_t len);
/* Sends, idling until the host frees a buffer. */
int rproc_rpmsg_send(struct rproc_rpmsg *bus, uint32_t src, uint32_t dst, const void *data,
                     uint32_t len);

#endif
