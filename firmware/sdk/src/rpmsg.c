/* rpmsg.c: the remote side of the rpmsg bus. See rproc/rpmsg.h. */
#include "rproc/rpmsg.h"

#include "rproc/machine.h"
#include "rproc/mem.h"
#include "rproc/platform.h"
#include "rproc/trace.h"

/* Naturally aligned mirror of struct rproc_rpmsg_hdr (buffers are 512-byte aligned). */
struct rpmsg_header {
  uint32_t src, dst, reserved;
  uint16_t len, flags;
};
_Static_assert(sizeof(struct rpmsg_header) == RPROC_RPMSG_HDR_SIZE, "rpmsg header");

void rproc_rpmsg_init(struct rproc_rpmsg *bus, volatile struct rproc_fw_rsc_vdev *vdev) {
  memset(bus, 0, sizeof *bus);
  bus->vdev = vdev;
  bus->next_addr = RPROC_RPMSG_RESERVED_ADDRESSES;
  bus->generation = rproc_platform_generation();
}

static struct rproc_rpmsg static_bus;
static struct rproc_rpmsg_endpoint static_endpoints[RPROC_RPMSG_MAX_ENDPOINTS];

struct rproc_rpmsg *rproc_rpmsg_static_bus(void) { return &static_bus; }

struct rproc_rpmsg_endpoint *rproc_rpmsg_static_endpoint(uint32_t index) {
  return index < RPROC_RPMSG_MAX_ENDPOINTS ? &static_endpoints[index] : 0;
}

static uint32_t features(const struct rproc_rpmsg *bus) { return bus->vdev->gfeatures; }

static void announce(struct rproc_rpmsg *bus, struct rproc_rpmsg_endpoint *ep) {
  if (!ep->name || !(features(bus) & (1u << RPROC_VIRTIO_RPMSG_F_NS))) return;
  struct rproc_rpmsg_ns_msg msg;
  rproc_copy_name(msg.name, ep->name, sizeof msg.name);
  msg.addr = ep->addr;
  msg.flags = RPROC_RPMSG_NS_CREATE;
  if (rproc_rpmsg_send(bus, ep->addr, RPROC_RPMSG_NS_ADDR, &msg, sizeof msg) == 0)
    rproc_trace_printf("rpmsg: announced %s at %u\n", ep->name, ep->addr);
}

uint32_t rproc_rpmsg_add_endpoint(struct rproc_rpmsg *bus,
                                  struct rproc_rpmsg_endpoint *endpoint, const char *name,
                                  uint32_t addr, rproc_rpmsg_callback callback, void *context) {
  if (bus->endpoint_count >= RPROC_RPMSG_MAX_ENDPOINTS) return 0;
  if (addr == RPROC_RPMSG_ADDR_ANY) addr = bus->next_addr++;
  endpoint->addr = addr;
  endpoint->name = name;
  endpoint->callback = callback;
  endpoint->context = context;
  bus->endpoints[bus->endpoint_count++] = endpoint;
  if (bus->ready) announce(bus, endpoint);
  return addr;
}

int rproc_rpmsg_ready(const struct rproc_rpmsg *bus) { return bus->ready; }

/* Sets the rings up after DRIVER_OK; forgets them when the host resets the device. */
static int bring_up(struct rproc_rpmsg *bus) {
  uint32_t generation = rproc_platform_generation();
  if (generation != bus->generation) { /* a new host: its handshake starts from status 0 */
    bus->generation = generation;
    bus->ready = 0;
    bus->failed = 0;
  }
  uint8_t status = bus->vdev->status;
  if (!(status & RPROC_VIRTIO_STATUS_DRIVER_OK)) {
    if (bus->ready) rproc_trace_puts("rpmsg: host reset the device\n");
    bus->ready = 0;
    bus->failed = 0;
    return 0;
  }
  if (bus->ready) return 1;
  if (bus->failed) return 0;
  rproc_mb(); /* read the vring addresses only after DRIVER_OK */
  int event_idx = (features(bus) >> RPROC_VIRTIO_RING_F_EVENT_IDX) & 1;
  if (bus->vdev->num_of_vrings < 2 ||
      rproc_vring_init(&bus->to_host, &bus->vdev->vring[0], event_idx) != 0 ||
      rproc_vring_init(&bus->from_host, &bus->vdev->vring[1], event_idx) != 0) {
    rproc_trace_puts("rpmsg: the host's vrings are unusable\n");
    bus->failed = 1;
    return 0;
  }
  bus->ready = 1;
  rproc_platform_watch(&bus->from_host);
  rproc_vring_disable_kicks(&bus->to_host); /* buffers to send into: asked for only when out */
  rproc_trace_printf("rpmsg: up, features 0x%x, %u buffers each way\n", features(bus),
                     bus->to_host.num);
  for (uint32_t i = 0; i < bus->endpoint_count; i++) announce(bus, bus->endpoints[i]);
  return 1;
}

int rproc_rpmsg_poll(struct rproc_rpmsg *bus) {
  if (!bring_up(bus)) return 0;
  int delivered = 0;
  uint16_t since = rproc_vring_used_index(&bus->from_host);
  struct rproc_vring_buffer buffer;
  rproc_vring_disable_kicks(&bus->from_host); /* no kicks while taking what is there */
  for (;;) {
    int taken = rproc_vring_take_or_arm(&bus->from_host, &buffer);
    if (taken == RPROC_VRING_EBADDESC) continue;
    if (taken < 0) return taken;
    if (taken == 0) break; /* drained, kicks asked for */
    rproc_platform_prepare_reply(&bus->to_host);
    const struct rpmsg_header *header = buffer.data;
    if (buffer.len < RPROC_RPMSG_HDR_SIZE || header->len > buffer.len - RPROC_RPMSG_HDR_SIZE) {
      rproc_trace_printf("rpmsg: dropped a message of %u bytes in a %u-byte buffer\n",
                         buffer.len >= RPROC_RPMSG_HDR_SIZE ? header->len : 0, buffer.len);
    } else {
      struct rproc_rpmsg_endpoint *target = 0;
      for (uint32_t i = 0; i < bus->endpoint_count; i++)
        if (bus->endpoints[i]->addr == header->dst) target = bus->endpoints[i];
      if (target && target->callback) {
        target->callback(bus, target, header->src, header + 1, header->len);
        delivered++;
      } else {
        rproc_trace_printf("rpmsg: no endpoint at %u\n", header->dst);
      }
    }
    rproc_vring_put(&bus->from_host, buffer.head, 0);
  }
  rproc_vring_notify(&bus->from_host, since);
  return delivered;
}

int rproc_rpmsg_try_send(struct rproc_rpmsg *bus, uint32_t src, uint32_t dst,
                         const void *data, uint32_t len) {
  if (!bus->ready || bus->generation != rproc_platform_generation()) return -19;
  if (len > RPROC_RPMSG_MTU) return -90;
  struct rproc_vring_buffer buffer;
  int taken;
  do taken = rproc_vring_take(&bus->to_host, &buffer);
  while (taken == RPROC_VRING_EBADDESC);
  if (taken < 0) return taken;
  if (taken == 0) return -11;
  if (buffer.len < RPROC_RPMSG_HDR_SIZE + len) {
    rproc_vring_notify(&bus->to_host, rproc_vring_put(&bus->to_host, buffer.head, 0));
    return -90;
  }
  struct rpmsg_header *header = buffer.data;
  header->src = src;
  header->dst = dst;
  header->reserved = 0;
  header->len = (uint16_t)len;
  header->flags = 0;
  rproc_copy(header + 1, data, len);
  rproc_vring_notify(&bus->to_host,
                     rproc_vring_put(&bus->to_host, buffer.head, RPROC_RPMSG_HDR_SIZE + len));
  return 0;
}

int rproc_rpmsg_send(struct rproc_rpmsg *bus, uint32_t src, uint32_t dst, const void *data,
                     uint32_t len) {
  for (;;) {
    int result = rproc_rpmsg_try_send(bus, src, dst, data, len);
    if (result != -11) return result;
    if (!rproc_vring_enable_kicks(&bus->to_host)) { /* none came back meanwhile: sleep */
      rproc_wait_for_kick();
      rproc_kicks_take();
    }
    rproc_vring_disable_kicks(&bus->to_host);
    if (!(bus->vdev->status & RPROC_VIRTIO_STATUS_DRIVER_OK)) return -19;
  }
}
