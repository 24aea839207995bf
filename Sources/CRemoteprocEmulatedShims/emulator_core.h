/*
 * emulator_core.h: what the emulator shims share (private to this target): a core's slot,
 * small helpers, and the calls between the files. The shims are split by concern:
 * - emulator_shims.c: slots, engines, memory maps and configuration;
 * - emulator_interrupts.c: interrupt entry and return per architecture;
 * - emulator_hooks.c: Unicorn hooks (blocks, faults, mailbox, profiling);
 * - emulator_run.c: the owner-thread run loop, kicks, posted work and the thread itself.
 * Together: Unicorn engines, hooks, interrupt delivery and the owner-thread run loop
 * for emulated remote cores. See include/emulator_shims.h for the contract and
 * docs/machines/ for the per-machine conventions implemented here.
 *
 * Facts about Unicorn 2.0.1 these files rely on (measured on this machine, see DESIGN §5):
 * - `wait` (MIPS) and `wfi` (RISC-V, Arm) end uc_emu_start with UC_ERR_OK and the PC after
 *   the instruction.
 * - uc_emu_stop from a UC_HOOK_BLOCK hook stops before that block runs, but the PC register
 *   is then not always the block (blocks chained to each other do not store it; on MIPS it
 *   can be the previous block's delay slot): resume at the hook's address.
 * - CPU exceptions never reach the guest's own vectors: they go to UC_HOOK_INTR (and the CPU
 *   continues unless the hook stops it). On MIPS the PC seen there is stale; on RISC-V it is
 *   the faulting instruction + 4; on Arm it is the faulting instruction.
 * - The PC read in an invalid-memory hook for a data access is the start of the block.
 * - Writing the PC from a UC_HOOK_BLOCK or UC_HOOK_INTR hook leaves that block before it runs
 *   and goes on at the new PC within the same uc_emu_start (quit_request): interrupts are
 *   entered and left that way, without a return to the run loop.
 */
#ifndef EMULATOR_CORE_H
#define EMULATOR_CORE_H

#define _GNU_SOURCE
#include "emulator_shims.h"

#include <shim.h>

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_CHECK_MASK 0x3FFFu    /* read the clock every 16 Ki blocks */
#define MIPS_SAVED_REGS 34             /* $1…$31, hi, lo, status (pc kept apart) */
#define ARM_EXC_RETURN_THREAD_MSP 0xFFFFFFF9u
#define RISCV_MSTATUS_MIE 0x8u
#define RISCV_SSIP 0x2u                /* mip.SSIP / mie.SSIE: the kick line */
#define CODE_PAGES_MAX 64              /* store profiling: executed pages remembered */

enum fault {
  FAULT_NONE = 0,
  /* 1…9 are RPROC_EMU_CRASH_*; this one is not a crash: */
  FAULT_HANDLER_RETURN = 100,
};

struct slot {
  bool in_use; /* guarded by table_lock */

  /* Cross-thread. */
  _Atomic uint32_t pending;      /* mailbox PENDING */
  _Atomic uint32_t irq_raised;   /* a kick not yet taken by the guest */
  _Atomic uint32_t stop_requested;
  _Atomic uint32_t wake_word;    /* futex word bumped by every kick/stop/posted work */
  _Atomic uint32_t sleeping;
  _Atomic uint32_t work_pending; /* rproc_emu_post_work: the host has work for this thread */
  _Atomic uint32_t idle_work_pending; /* rproc_emu_post_idle_work: work for when the guest idles */
  _Atomic uint64_t stats[RPROC_EMU_STAT_COUNT];

  pthread_t thread;
  bool thread_live;
  _Atomic int32_t thread_id; /* the owner thread's gettid while it runs, else 0 */

  /* Owner thread only. */
  uc_engine *uc;
  uc_hook hooks[6];
  int arch;
  int big_endian;
  int line;
  uint64_t magic_return;
  uint64_t vector_table;
  int64_t watchdog_ns;
  int64_t idle_spin_ns;
  bool count_instructions;
  bool time_guest;
  bool count_stores;
  /* Store profiling: the target pages seen executing (QEMU takes its self-modifying-code
     slow path for every store to a page that holds translated code). */
  unsigned page_shift;
  uint32_t code_pages[CODE_PAGES_MAX];
  unsigned code_page_count;
  uint64_t last_code_page;

  uint64_t pc;
  bool idle;
  bool preempted;
  uint64_t preempted_at; /* the block the hook stopped before */
  bool in_handler;
  uint32_t doorbells;
  uint32_t vector;
  uint32_t abort_pc;
  uint64_t watchdog_counter;
  int64_t busy_since_ns;
  uint64_t last_block;

  int fault;
  uint64_t fault_pc;
  uint64_t fault_address;
  uint64_t fault_detail;
  bool fault_pc_precise;

  uint32_t saved_mips[MIPS_SAVED_REGS];
  uint64_t saved_pc;
};

/* Every core's state, by slot id (emulator_shims.c). */
extern struct slot rproc_emu_slots[RPROC_EMU_MAX_SLOTS];

static inline struct slot *get(int32_t id) {
  if (id < 0 || id >= RPROC_EMU_MAX_SLOTS) return NULL;
  return &rproc_emu_slots[id];
}

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline void stat_add(struct slot *s, int field, uint64_t n) {
  atomic_fetch_add_explicit(&s->stats[field], n, memory_order_relaxed);
}

static inline int pc_register(const struct slot *s) {
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32: return UC_MIPS_REG_PC;
  case RPROC_EMU_ARCH_RISCV32: return UC_RISCV_REG_PC;
  default: return UC_ARM_REG_PC;
  }
}

static inline uint32_t read32(struct slot *s, int reg) {
  uint64_t wide = 0;
  uc_reg_read(s->uc, reg, &wide);
  return (uint32_t)wide;
}

static inline void write32(struct slot *s, int reg, uint32_t value) {
  uint64_t wide = value;
  uc_reg_write(s->uc, reg, &wide);
}

static inline void record_fault(struct slot *s, int kind, uint64_t pc, uint64_t address,
                         uint64_t detail, bool precise) {
  if (s->fault != FAULT_NONE) return; /* the first fault wins */
  s->fault = kind;
  s->fault_pc = pc;
  s->fault_address = address;
  s->fault_detail = detail;
  s->fault_pc_precise = precise;
}

static inline void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}


/* emulator_interrupts.c */
bool emu_interrupt_deliverable(struct slot *s);
bool emu_deliver_interrupt(struct slot *s);
void emu_mips_return(struct slot *s);
bool emu_arm_return(struct slot *s, uint32_t exc_return);
void emu_jump_in_hook(struct slot *s);
void emu_riscv_lower_line(struct slot *s);

/* emulator_hooks.c */
uc_err emu_add_hooks(struct slot *s);
uc_err emu_map_mailbox_hooks(struct slot *s, uint64_t physical);

#endif
