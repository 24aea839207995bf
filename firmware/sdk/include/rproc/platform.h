/*
 * platform.h: the mailbox, kicks, idling, the watchdog and aborting, for every machine.
 *
 * Kicks from the host set bits in the mailbox PENDING register and interrupt the core
 * (MIPS: a handler call, RISC-V: a machine software interrupt trap, Cortex-M4: IRQ 0);
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
/* Rings the host's doorbell for a virtqueue (Linux: the remote's mailbox send). */
RPROC_INLINE void rproc_notify_host(uint32_t notifyid) {
  rproc_mb(); /* the ring updates before the doorbell */
  *rproc_mbox(RPROC_MBOX_DOORBELL) = notifyid;
}
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
