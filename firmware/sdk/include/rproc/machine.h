/*
 * machine.h: the emulated machines as firmware sees them (docs/machines/<machine>.md).
 * Selected by the compiler's target macros; the host's EmulatedMachine catalog carries the
 * same numbers.
 */
#ifndef RPROC_MACHINE_H
#define RPROC_MACHINE_H

#include <stdint.h>

#if defined(RPROC_NATIVE)
/* A native Linux process under the process platform (docs/process-platform.md): device
   addresses are offsets in the shared memfd from RPROC_NATIVE_DA_BASE, which the start-up
   code (arch/native/start.c) mapped at rproc_native_memory. */
#include "remoteproc_native.h"
#define RPROC_MACHINE_NAME "native"
extern uint8_t *rproc_native_memory;
extern uint32_t rproc_native_size;
static inline int rproc_da_ok(uint32_t da, uint32_t len) {
  return da >= RPROC_NATIVE_DA_BASE && da - RPROC_NATIVE_DA_BASE < rproc_native_size &&
         len <= rproc_native_size - (da - RPROC_NATIVE_DA_BASE);
}
static inline void *rproc_da_ptr(uint32_t da) {
  return rproc_native_memory + (da - RPROC_NATIVE_DA_BASE);
}
#define rproc_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
/* Store-store and load-load order are the C11 release and acquire fences (no instruction on
   x86; only the store-load order of rproc_mb needs one), so a ring update does not wait
   for its cache lines to arrive. */
#define rproc_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define rproc_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)

#elif defined(__mips__)
#define RPROC_MACHINE_NAME "mips32"
/* Mailbox page at physical 0x1F000000, used uncached through kseg1. */
#define RPROC_MBOX_BASE 0xBF000000u
/* Memory: physical 0…64 MiB, seen identically in kuseg (Status.ERL stays set), kseg0, kseg1. */
#define RPROC_RAM_SIZE 0x04000000u
static inline int rproc_da_ok(uint32_t da, uint32_t len) {
  uint32_t base = da & 0x1FFFFFFFu;
  uint32_t seg = da & 0xE0000000u;
  if (seg != 0 && seg != 0x80000000u && seg != 0xA0000000u) return 0;
  return base < RPROC_RAM_SIZE && len <= RPROC_RAM_SIZE - base;
}
/* Device addresses below 512 MiB (what the host allocates) are used through kseg0. */
static inline void *rproc_da_ptr(uint32_t da) {
  return (void *)(uintptr_t)(da < 0x20000000u ? da | 0x80000000u : da);
}
#define rproc_mb() __asm__ volatile("sync" ::: "memory")

#elif defined(__riscv)
#define RPROC_MACHINE_NAME "rv32"
#define RPROC_MBOX_BASE 0x02000000u
#define RPROC_RAM_BASE 0x80000000u
#define RPROC_RAM_SIZE 0x04000000u
static inline int rproc_da_ok(uint32_t da, uint32_t len) {
  return da >= RPROC_RAM_BASE && da - RPROC_RAM_BASE < RPROC_RAM_SIZE &&
         len <= RPROC_RAM_SIZE - (da - RPROC_RAM_BASE);
}
static inline void *rproc_da_ptr(uint32_t da) { return (void *)(uintptr_t)da; }
#define rproc_mb() __asm__ volatile("fence rw, rw" ::: "memory")

#elif defined(__arm__)
#define RPROC_MACHINE_NAME "cortex-m4"
#define RPROC_MBOX_BASE 0x40000000u
#define RPROC_FIRMWARE_SIZE 0x01000000u
#define RPROC_CARVEOUT_BASE 0x20000000u
#define RPROC_CARVEOUT_SIZE 0x03000000u
static inline int rproc_da_ok(uint32_t da, uint32_t len) {
  if (da < RPROC_FIRMWARE_SIZE) return len <= RPROC_FIRMWARE_SIZE - da;
  return da >= RPROC_CARVEOUT_BASE && da - RPROC_CARVEOUT_BASE < RPROC_CARVEOUT_SIZE &&
         len <= RPROC_CARVEOUT_SIZE - (da - RPROC_CARVEOUT_BASE);
}
static inline void *rproc_da_ptr(uint32_t da) { return (void *)(uintptr_t)da; }
#define rproc_mb() __asm__ volatile("dmb" ::: "memory")

#else
#error "unknown machine: build for mips, riscv32 or thumbv7em, or the host with RPROC_NATIVE"
#endif

#if !defined(RPROC_NATIVE)
/* The emulated machines order everything with their one barrier. */
#define rproc_wmb() rproc_mb()
#define rproc_rmb() rproc_mb()

/* Mailbox registers (32-bit). */
#define RPROC_MBOX_DOORBELL 0x00u /* W: remote→host kick, value = notify id */
#define RPROC_MBOX_PENDING 0x04u  /* R: host→remote kicks pending (bit per id); read clears */
#define RPROC_MBOX_VECTOR 0x08u   /* RW: MIPS interrupt handler address */
#define RPROC_MBOX_WATCHDOG 0x0Cu /* W: pet the watchdog */
#define RPROC_MBOX_ABORT_PC 0x10u /* W: PC reported with the next abort */
#define RPROC_MBOX_ABORT 0x14u    /* W: abort with this reason code */
#define RPROC_MBOX_MAGIC 0x1Cu    /* R: 0x52505243 "RPRC" */

static inline volatile uint32_t *rproc_mbox(uint32_t offset) {
  return (volatile uint32_t *)(uintptr_t)(RPROC_MBOX_BASE + offset);
}
#endif

#endif
