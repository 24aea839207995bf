/*
 * crashy: crashes in a chosen way on command, for crash-detection and recovery tests.
 * Commands arrive on the serial port (virtio id 11) or on the rpmsg endpoint "rpmsg-crashy";
 * anything else is echoed case-inverted (serial) or as is (rpmsg). Before crashing it writes
 * "crashy: <command> at 0x<pc>" to the trace, where pc is the faulting instruction (for
 * bad-fetch, the target address; for hang and abort, 0).
 *   invalid-instruction  bad-load  bad-store  misaligned  bad-fetch  hang  abort
 * On the native machine "exit" ends the process (status 3)
 * and "ignore-term" makes it ignore SIGTERM (so a stop needs SIGKILL); built with
 * CRASHY_NEVER_READY it never starts at all (it blocks before the SDK's start-up, so it never
 * acknowledges its host).
 * A kick for notify id 30 (no vring has it) runs "bad-store": a crash a host can cause with no
 * virtio driver at all, for recovery tests of the remoteproc core alone.
 * Three more commands write garbage into the ring the host reads back (the to-host vring of
 * the device the command came on), then kick, for the host's broken-queue handling:
 *   garbage-index (used.idx 1000 ahead)  garbage-id (a used id out of range)
 *   garbage-length (a real buffer returned with more bytes than it holds)
 */
#include <rproc/rproc.h>

#include "crash.h"

static RPROC_TRACE_BUFFER(trace_buffer, 4096);

struct table {
  RPROC_TABLE_HEADER(3);
  struct rproc_rsc_trace trace;
  struct rproc_rsc_vdev_serial serial;
  struct rproc_rsc_vdev2 rpmsg;
} RPROC_PACKED;

RPROC_RESOURCE_TABLE volatile struct table rproc_table = {
    RPROC_TABLE_HEADER_INIT(3, offsetof(struct table, trace), offsetof(struct table, serial),
                            offsetof(struct table, rpmsg)),
    .trace = RPROC_TRACE_RSC(trace_buffer, sizeof trace_buffer, "trace0"),
    .serial = RPROC_VDEV_SERIAL_RSC(RPROC_VRING_DA_ANY, 8, 0),
    .rpmsg = RPROC_VDEV_RPMSG_RSC(RPROC_VRING_DA_ANY, 8),
};

/* Addresses with nothing behind them on each machine. */
#if defined(RPROC_NATIVE)
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#define BAD_ADDRESS 0x30000000u /* nothing is mapped there in a Linux process */
#if defined(CRASHY_NEVER_READY)
__attribute__((constructor(101))) static void never_ready(void) {
  for (;;) pause();
}
#endif
#elif defined(__mips__)
#define BAD_ADDRESS 0x90000000u /* kseg0 → physical 0x10000000 */
#else
#define BAD_ADDRESS 0x30000000u
#endif
#define ABORT_CODE 0xC0FFEEu
#define CRASH_KICK 30

static volatile uint32_t aligned_word[2];

static uint32_t code_address(const void *function) {
  return (uint32_t)(uintptr_t)function & ~1u; /* drop the Thumb bit */
}

static void say(const char *command, uint32_t pc) {
  rproc_trace_printf("crashy: %s at 0x%08x\n", command, pc);
}

/* Copies a received message into `command` (NUL-terminated, line end dropped); 0 if too long. */
static int read_command(char command[24], const char *text, uint32_t len) {
  if (len == 0 || len >= 24) return 0;
  rproc_copy(command, text, len);
  command[len] = 0;
  while (len && (command[len - 1] == '\n' || command[len - 1] == '\r')) command[--len] = 0;
  return 1;
}

/* Returns 1 when `text` was a garbage command, after corrupting `ring` and kicking the host. */
static int write_garbage(struct rproc_vring *ring, const char *text, uint32_t len) {
  char command[24];
  if (!read_command(command, text, len)) return 0;
  if (!rproc_strncmp(command, "garbage-index", 24)) {
    ring->used[1] = (uint16_t)(rproc_vring_used_index(ring) + 1000u);
  } else if (!rproc_strncmp(command, "garbage-id", 24)) {
    rproc_vring_put(ring, 0xFFFFu, 0);
  } else if (!rproc_strncmp(command, "garbage-length", 24)) {
    struct rproc_vring_buffer buffer;
    if (rproc_vring_take(ring, &buffer) != 1) return 0;
    rproc_vring_put(ring, buffer.head, buffer.len + 1000u);
  } else {
    return 0;
  }
  rproc_trace_printf("crashy: %s on vring %u\n", command, ring->notifyid);
  rproc_notify_host(ring->notifyid);
  return 1;
}

/* Returns 1 when `text` was a command (and, except for unknown ones, never returns). */
static int run_command(const char *text, uint32_t len) {
  char command[24];
  if (!read_command(command, text, len)) return 0;
  if (!rproc_strncmp(command, "invalid-instruction", 24)) {
    say(command, code_address(crash_invalid_instruction));
    crash_invalid_instruction();
  } else if (!rproc_strncmp(command, "bad-load", 24)) {
    say(command, code_address(crash_load));
    crash_load(BAD_ADDRESS);
  } else if (!rproc_strncmp(command, "bad-store", 24)) {
    say(command, code_address(crash_store));
    crash_store(BAD_ADDRESS);
  } else if (!rproc_strncmp(command, "misaligned", 24)) {
    say(command, code_address(crash_misaligned));
    crash_misaligned((uint32_t)(uintptr_t)&aligned_word[0] + 2);
  } else if (!rproc_strncmp(command, "bad-fetch", 24)) {
    say(command, BAD_ADDRESS);
    void (*nowhere)(void) = (void (*)(void))(uintptr_t)(BAD_ADDRESS | 1u);
#if !defined(__arm__)
    nowhere = (void (*)(void))(uintptr_t)BAD_ADDRESS;
#endif
    nowhere();
  } else if (!rproc_strncmp(command, "hang", 24)) {
    say(command, 0);
    for (;;) __asm__ volatile("" ::: "memory");
  } else if (!rproc_strncmp(command, "abort", 24)) {
    say(command, 0);
    rproc_abort(ABORT_CODE);
#if defined(RPROC_NATIVE)
  } else if (!rproc_strncmp(command, "exit", 24)) {
    say(command, 0);
    exit(3);
  } else if (!rproc_strncmp(command, "ignore-term", 24)) {
    signal(SIGTERM, SIG_IGN);
    rproc_trace_puts("crashy: ignoring SIGTERM\n");
    return 1;
#endif
  } else {
    return 0;
  }
  rproc_trace_puts("crashy: still alive?\n");
  return 1;
}

static struct rproc_serial port;
static struct rproc_rpmsg bus;
static struct rproc_rpmsg_endpoint endpoint;

static void serial_received(struct rproc_serial *serial, const void *data, uint32_t len) {
  if (write_garbage(&serial->to_host, data, len)) return;
  if (!run_command(data, len)) rproc_serial_write(serial, data, len, rproc_copy_invert_case);
}

static void rpmsg_received(struct rproc_rpmsg *rpmsg, struct rproc_rpmsg_endpoint *ep,
                           uint32_t src, const void *data, uint32_t len) {
  if (write_garbage(&rpmsg->to_host, data, len)) return;
  if (!run_command(data, len)) rproc_rpmsg_send(rpmsg, ep->addr, src, data, len);
}

int main(void) {
  rproc_trace_init(trace_buffer, sizeof trace_buffer);
  rproc_trace_printf("crashy on %s: ready\n", RPROC_MACHINE_NAME);
  rproc_serial_init(&port, rproc_vdev_of(rproc_table.serial), serial_received);
  rproc_rpmsg_init(&bus, rproc_vdev_of(rproc_table.rpmsg));
  rproc_rpmsg_add_endpoint(&bus, &endpoint, "rpmsg-crashy", RPROC_RPMSG_ADDR_ANY,
                           rpmsg_received, 0);
  rproc_platform_init(RPROC_KICKS_INTERRUPT);
  for (;;) {
    if (rproc_kicks_take() & (1u << CRASH_KICK)) run_command("bad-store", 9);
    rproc_serial_poll(&port);
    rproc_rpmsg_poll(&bus);
    rproc_wait_for_kick();
  }
}
