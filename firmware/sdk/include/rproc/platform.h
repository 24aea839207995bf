/*
 * platform.h: the mailbox, kicks, idling, the watchdog and aborting, for every machine.
 *
 * Kicks from the host set bits in the mailbox PENDING register and interrupt the core
 * (MIPS: a handler call, RISC-V: a supervisor software interrupt trap taken in machine mode,
 * Cortex-M4: IRQ 0);
 * rproc_platform_init installs the SDK's handler, which collects them into rproc_kicks_take().
 */
#ifndef RPROC_PLATFORM_H
#define RPROC_PLATFORM_H

#include <stdint.h>

#include "compiler.h"
#include "machine.h"

/* How kicks reach the firmware. */
enum rproc_kick_mode {
  RPROC_KICKS_INTERRUPT = 0, /* the machine's interrupt delivery (default) */
  RPROC_KICKS_POLLED = 1,    /* interrupts stay off; idling polls the mailbox */
};

/* The boot registers (MIPS UHI: a0 = -3, a1 = IPI host→remote, a2 = IPI remote→host, a3 = 0;
   RISC-V: a0 = hart id, a1 = 0; Cortex-M: none). Saved by the start-up code. */
extern uint32_t rproc_boot_args[4];

void rproc_platform_init(enum rproc_kick_mode mode);
/*
 * The host and the rings, per machine: inline on the emulated machines, so the kick→reply
 * path compiles into the caller's loop (docs/firmware-sdk.md); functions on the native
 * machine (arch/native/start.c).
 *
 * rproc_notify_host(notifyid): rings the host's doorbell for a virtqueue (Linux: the
 *   remote's mailbox send). Emulated: one store to the mailbox; native: a futex doorbell.
 * rproc_platform_generation(): changes when a new host takes over a running firmware (the
 *   native machine's host epoch; always 0 on the emulated machines, so the devices' checks
 *   fold away). Devices compare it to start afresh.
 * rproc_platform_watch(ring): a ring whose new buffers end rproc_wait_for_kick's polling at
 *   once (the native machine's adaptive mode polls the ring itself, not only the doorbell);
 *   at most 8, no-op elsewhere.
 * rproc_platform_arm(ring): before idling with a drained ring: asks for kicks on it
 *   (rproc_vring_enable_kicks) and returns 1 when buffers already wait. The native
 *   machine's adaptive mode defers this to rproc_wait_for_kick, which polls the watched
 *   rings and asks for kicks only before it sleeps, so a polling firmware costs the host no
 *   doorbell. On the emulated machines it is rproc_vring_enable_kicks (inline, in vring.h).
 * rproc_platform_prepare_reply(ring): a message was taken from the host and a reply may
 *   follow on `ring` (the ring this firmware sends on). The native machine starts moving the
 *   lines the reply will write (the buffer the host offered next, the next used element)
 *   into this core's cache, owned, while the message is handled: the host has read them,
 *   and the reply's stores would otherwise wait for the host's copies to be invalidated.
 *   Only a hint: it writes nothing. A no-op on the emulated machines.
 */
struct rproc_vring;
#if defined(RPROC_NATIVE)
void rproc_notify_host(uint32_t notifyid);
uint32_t rproc_platform_generation(void);
void rproc_platform_watch(struct rproc_vring *ring);
int rproc_platform_arm(struct rproc_vring *ring);
void rproc_platform_prepare_reply(struct rproc_vring *ring);
#else
RPROC_INLINE void rproc_notify_host(uint32_t notifyid) {
  rproc_mb(); /* the ring updates before the doorbell */
  *rproc_mbox(RPROC_MBOX_DOORBELL) = notifyid;
}
RPROC_INLINE uint32_t rproc_platform_generation(void) { return 0; }
RPROC_INLINE void rproc_platform_watch(struct rproc_vring *ring) { (void)ring; }
RPROC_INLINE void rproc_platform_prepare_reply(struct rproc_vring *ring) { (void)ring; }
#endif
/* Returns and clears the kicks received (bit per notify id). */
uint32_t rproc_kicks_take(void);
/* Idles in wait/wfi until a kick arrives; returns at once if one is pending. */
void rproc_wait_for_kick(void);
void rproc_watchdog_pet(void);
/* Asks the host to stop this core, reporting the caller's PC and `code`. */
__attribute__((noreturn)) void rproc_abort(uint32_t code);
/* Disables interrupts, returning whether they were enabled. */
uint32_t rproc_irq_save(void);
void rproc_irq_restore(uint32_t state);

/* The application's entry, called by the start-up code. */
int main(void);

#endif
