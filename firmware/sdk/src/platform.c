/* platform.c: mailbox, kicks, idling and aborting on the emulated machines (the native
   machine's are in arch/native/start.c). */
#include "rproc/platform.h"

#if !defined(RPROC_NATIVE)

#include "rproc/machine.h"

uint32_t rproc_boot_args[4];

/* Kicks taken so far (bit per notify id); the rv32 trap entry (start.S) ORs into it. */
volatile uint32_t rproc_kicks;
static enum rproc_kick_mode kick_mode;

/* Reading PENDING clears it and lowers the interrupt line. */
static void collect(void) { rproc_kicks |= *rproc_mbox(RPROC_MBOX_PENDING); }

#if defined(__mips__)
/* Called by the host with a0 = the interrupt line and the context saved (machine doc). */
void rproc_mips_interrupt(uint32_t line) {
  (void)line;
  collect();
}

static uint32_t status_read(void) {
  uint32_t status;
  __asm__ volatile("mfc0 %0, $12" : "=r"(status));
  return status;
}

uint32_t rproc_irq_save(void) {
  uint32_t status;
  __asm__ volatile("di %0\n\tehb" : "=r"(status)::"memory");
  return status & 1u;
}

void rproc_irq_restore(uint32_t enabled) {
  if (enabled) __asm__ volatile("ei\n\tehb" ::: "memory");
}

static void idle(void) { __asm__ volatile("wait" ::: "memory"); }

static void enable_kicks(void) {
  uint32_t line = rproc_boot_args[1] <= 7u ? rproc_boot_args[1] : 2u; /* UHI a1 */
  *rproc_mbox(RPROC_MBOX_VECTOR) = (uint32_t)(uintptr_t)&rproc_mips_interrupt;
  uint32_t status = status_read() | 1u | (1u << (8u + line));
  __asm__ volatile("mtc0 %0, $12\n\tehb" ::"r"(status) : "memory");
}

#elif defined(__riscv)
extern void rproc_trap_entry(void);

/* Called by rproc_trap_entry (start.S) with the registers saved, for everything but a host
   kick (which start.S collects itself); returns with mret. */
void rproc_riscv_trap(uint32_t mcause) {
  if (mcause == 0x80000001u) collect(); /* supervisor software interrupt: a host kick */
  else rproc_abort(0xE0000000u | mcause);
}

uint32_t rproc_irq_save(void) {
  uint32_t status;
  __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(status)::"memory");
  return status & 8u;
}

void rproc_irq_restore(uint32_t enabled) {
  if (enabled) __asm__ volatile("csrsi mstatus, 8" ::: "memory");
}

static void idle(void) { __asm__ volatile("wfi" ::: "memory"); }

static void enable_kicks(void) {
  __asm__ volatile("csrw mtvec, %0" ::"r"(&rproc_trap_entry));
  __asm__ volatile("csrs mie, %0" ::"r"(2u)); /* SSIE: kicks raise mip.SSIP (machine doc) */
  __asm__ volatile("csrsi mstatus, 8" ::: "memory");
}

#elif defined(__arm__)
/* Vector 16 (IRQ 0) of the table in start.S; the host emulates exception entry and exit. */
void rproc_irq0_handler(void) { collect(); }

uint32_t rproc_irq_save(void) {
  uint32_t primask;
  __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
  return !(primask & 1u);
}

void rproc_irq_restore(uint32_t enabled) {
  if (enabled) __asm__ volatile("cpsie i" ::: "memory");
}

static void idle(void) { __asm__ volatile("wfi" ::: "memory"); }

static void enable_kicks(void) { __asm__ volatile("cpsie i" ::: "memory"); }
#endif

void rproc_platform_init(enum rproc_kick_mode mode) {
  kick_mode = mode;
  if (mode == RPROC_KICKS_INTERRUPT) enable_kicks();
}

uint32_t rproc_kicks_take(void) {
  uint32_t state = rproc_irq_save();
  if (kick_mode == RPROC_KICKS_POLLED) collect();
  uint32_t taken = rproc_kicks;
  rproc_kicks = 0;
  rproc_irq_restore(state);
  return taken;
}

void rproc_wait_for_kick(void) {
  uint32_t state = rproc_irq_save();
  if (kick_mode == RPROC_KICKS_POLLED) collect();
  /* With interrupts off, wait/wfi still returns when a kick is raised; the interrupt is
     taken when they are restored. */
  if (!rproc_kicks) idle();
  if (kick_mode == RPROC_KICKS_POLLED) collect();
  rproc_irq_restore(state);
}

void rproc_watchdog_pet(void) { *rproc_mbox(RPROC_MBOX_WATCHDOG) = 1; }

void rproc_abort(uint32_t code) {
  uintptr_t caller = (uintptr_t)__builtin_return_address(0);
#if defined(__arm__)
  caller &= ~(uintptr_t)1; /* Thumb bit */
#endif
  *rproc_mbox(RPROC_MBOX_ABORT_PC) = (uint32_t)caller;
  *rproc_mbox(RPROC_MBOX_ABORT) = code;
  for (;;) {
  }
}

/* rproc_notify_host, rproc_platform_generation, _watch and _arm are inline here (platform.h,
   vring.h). */

#endif /* !RPROC_NATIVE */
