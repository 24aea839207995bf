/*
 * emulator_shims.c: Unicorn engines, hooks, interrupt delivery and the owner-thread run loop
 * for emulated remote cores. See include/emulator_shims.h for the contract and
 * docs/machines/ for the per-machine conventions implemented here.
 *
 * Facts about Unicorn 2.0.1 this file relies on (measured on this machine, see DESIGN §5):
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

static struct slot slots[RPROC_EMU_MAX_SLOTS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
/* The slot whose owner thread this is (-1 on every other thread). */
static _Thread_local int32_t owned_slot = -1;

static struct slot *get(int32_t id) {
  if (id < 0 || id >= RPROC_EMU_MAX_SLOTS) return NULL;
  return &slots[id];
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void stat_add(struct slot *s, int field, uint64_t n) {
  atomic_fetch_add_explicit(&s->stats[field], n, memory_order_relaxed);
}

static int pc_register(const struct slot *s) {
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32: return UC_MIPS_REG_PC;
  case RPROC_EMU_ARCH_RISCV32: return UC_RISCV_REG_PC;
  default: return UC_ARM_REG_PC;
  }
}

static uint32_t read32(struct slot *s, int reg) {
  uint64_t wide = 0;
  uc_reg_read(s->uc, reg, &wide);
  return (uint32_t)wide;
}

static void write32(struct slot *s, int reg, uint32_t value) {
  uint64_t wide = value;
  uc_reg_write(s->uc, reg, &wide);
}

static void record_fault(struct slot *s, int kind, uint64_t pc, uint64_t address,
                         uint64_t detail, bool precise) {
  if (s->fault != FAULT_NONE) return; /* the first fault wins */
  s->fault = kind;
  s->fault_pc = pc;
  s->fault_address = address;
  s->fault_detail = detail;
  s->fault_pc_precise = precise;
}

/* ------------------------------------------------------------------ interrupts ------- */

static bool interrupt_deliverable(struct slot *s) {
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32: {
    if (s->in_handler || s->vector == 0) return false;
    uint32_t status = read32(s, UC_MIPS_REG_CP0_STATUS);
    /* IE set, EXL clear, the kick's IM line unmasked. ERL is ignored: the machine keeps it
       set so that kuseg stays an identity window (docs/machines/mips32.md). */
    return (status & 1u) && !(status & 2u) && (status & (1u << (8 + s->line)));
  }
  case RPROC_EMU_ARCH_RISCV32: {
    uint32_t mstatus = read32(s, UC_RISCV_REG_MSTATUS);
    uint32_t mie = read32(s, UC_RISCV_REG_MIE);
    return (mstatus & 0x8u) && (mie & 0x8u); /* MIE and MSIE */
  }
  default:
    if (s->in_handler) return false;
    return (read32(s, UC_ARM_REG_PRIMASK) & 1u) == 0;
  }
}

static void mips_enter(struct slot *s) {
  int ids[MIPS_SAVED_REGS];
  void *values[MIPS_SAVED_REGS];
  for (int i = 0; i < 31; i++) ids[i] = UC_MIPS_REG_1 + i;
  ids[31] = UC_MIPS_REG_HI;
  ids[32] = UC_MIPS_REG_LO;
  ids[33] = UC_MIPS_REG_CP0_STATUS;
  uint64_t wide[MIPS_SAVED_REGS] = {0};
  for (int i = 0; i < MIPS_SAVED_REGS; i++) values[i] = &wide[i];
  uc_reg_read_batch(s->uc, ids, values, MIPS_SAVED_REGS);
  for (int i = 0; i < MIPS_SAVED_REGS; i++) s->saved_mips[i] = (uint32_t)wide[i];
  s->saved_pc = s->pc;

  uint32_t sp = s->saved_mips[UC_MIPS_REG_SP - UC_MIPS_REG_1];
  write32(s, UC_MIPS_REG_CP0_STATUS, s->saved_mips[33] | 2u); /* EXL: masks nesting */
  write32(s, UC_MIPS_REG_SP, (sp - 64u) & ~7u);                /* o32 argument area */
  write32(s, UC_MIPS_REG_A0, (uint32_t)s->line);
  write32(s, UC_MIPS_REG_RA, (uint32_t)s->magic_return);
  write32(s, UC_MIPS_REG_T9, s->vector);                       /* PIC calling convention */
  s->pc = s->vector;
  s->in_handler = true;
}

static void mips_return(struct slot *s) {
  int ids[MIPS_SAVED_REGS];
  void *values[MIPS_SAVED_REGS];
  uint64_t wide[MIPS_SAVED_REGS];
  for (int i = 0; i < 31; i++) ids[i] = UC_MIPS_REG_1 + i;
  ids[31] = UC_MIPS_REG_HI;
  ids[32] = UC_MIPS_REG_LO;
  ids[33] = UC_MIPS_REG_CP0_STATUS;
  for (int i = 0; i < MIPS_SAVED_REGS; i++) {
    wide[i] = s->saved_mips[i];
    values[i] = &wide[i];
  }
  uc_reg_write_batch(s->uc, ids, values, MIPS_SAVED_REGS);
  s->pc = s->saved_pc;
  s->in_handler = false;
}

static void riscv_enter(struct slot *s) {
  uint32_t mstatus = read32(s, UC_RISCV_REG_MSTATUS);
  uint32_t mtvec = read32(s, UC_RISCV_REG_MTVEC);
  write32(s, UC_RISCV_REG_MEPC, (uint32_t)s->pc);
  write32(s, UC_RISCV_REG_MCAUSE, 0x80000003u); /* machine software interrupt */
  write32(s, UC_RISCV_REG_MTVAL, 0);
  /* MPIE ← MIE, MIE ← 0, MPP ← M. */
  mstatus = (mstatus & ~(0x88u | 0x1800u)) | ((mstatus & 0x8u) << 4) | 0x1800u;
  write32(s, UC_RISCV_REG_MSTATUS, mstatus);
  uint32_t base = mtvec & ~3u;
  s->pc = (mtvec & 3u) == 1u ? base + 4u * 3u : base;
}

static void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const int arm_frame_regs[6] = {UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2,
                                      UC_ARM_REG_R3, UC_ARM_REG_R12, UC_ARM_REG_LR};

/* ARMv7-M exception entry (basic frame, MSP, thread mode): the host pushes what the
   hardware would, loads the handler from the vector table and sets EXC_RETURN in LR. */
static bool arm_enter(struct slot *s) {
  uint8_t vector[4];
  uint64_t entry = s->vector_table + 4u * (16u + (uint32_t)s->line);
  if (uc_mem_read(s->uc, entry, vector, 4) != UC_ERR_OK || get_le32(vector) == 0) {
    record_fault(s, RPROC_EMU_CRASH_BAD_READ, s->pc, entry, 0, false);
    return false;
  }
  uint32_t sp = read32(s, UC_ARM_REG_SP);
  uint32_t xpsr = read32(s, UC_ARM_REG_XPSR);
  uint32_t frame_sp = (sp - 32u) & ~7u;
  bool realigned = frame_sp != sp - 32u;
  uint8_t frame[32];
  for (int i = 0; i < 6; i++) put_le32(frame + 4 * i, read32(s, arm_frame_regs[i]));
  put_le32(frame + 24, (uint32_t)s->pc & ~1u);
  put_le32(frame + 28, (xpsr & ~(1u << 9)) | (1u << 24) | (realigned ? 1u << 9 : 0));
  if (uc_mem_write(s->uc, frame_sp, frame, 32) != UC_ERR_OK) {
    record_fault(s, RPROC_EMU_CRASH_BAD_WRITE, s->pc, frame_sp, 0, false);
    return false;
  }
  write32(s, UC_ARM_REG_SP, frame_sp);
  write32(s, UC_ARM_REG_LR, ARM_EXC_RETURN_THREAD_MSP);
  s->pc = get_le32(vector) & ~1u;
  s->in_handler = true;
  return true;
}

static bool arm_return(struct slot *s, uint32_t exc_return) {
  uint32_t sp = read32(s, UC_ARM_REG_SP);
  uint8_t frame[32];
  if (exc_return != (ARM_EXC_RETURN_THREAD_MSP & ~1u) ||
      uc_mem_read(s->uc, sp, frame, 32) != UC_ERR_OK) {
    s->fault = FAULT_NONE;
    record_fault(s, RPROC_EMU_CRASH_BAD_FETCH, exc_return, exc_return, 0, true);
    return false;
  }
  for (int i = 0; i < 6; i++) write32(s, arm_frame_regs[i], get_le32(frame + 4 * i));
  uint32_t xpsr = get_le32(frame + 28);
  write32(s, UC_ARM_REG_XPSR, xpsr & ~0x1FFu);
  write32(s, UC_ARM_REG_SP, sp + 32u + ((xpsr & (1u << 9)) ? 4u : 0u));
  s->pc = get_le32(frame + 24) & ~1u;
  s->in_handler = false;
  return true;
}

static bool deliver_interrupt(struct slot *s) {
  atomic_store(&s->irq_raised, 0);
  stat_add(s, RPROC_EMU_STAT_INTERRUPTS, 1);
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32: mips_enter(s); return true;
  case RPROC_EMU_ARCH_RISCV32: riscv_enter(s); return true;
  default: return arm_enter(s);
  }
}

/* Writes the PC from inside a hook: Unicorn 2 then leaves the current block and goes on at
   the new PC within the same uc_emu_start (quit_request), so taking an interrupt or returning
   from a handler costs no return to the run loop and no new uc_emu_start. */
static void jump_in_hook(struct slot *s) {
  uint64_t pc = s->arch == RPROC_EMU_ARCH_CORTEX_M4 ? (s->pc | 1u) : s->pc;
  uc_reg_write(s->uc, pc_register(s), &pc);
}

/* ----------------------------------------------------------------------- hooks ------- */

static bool is_code_page(const struct slot *s, uint64_t page) {
  for (unsigned i = 0; i < s->code_page_count; i++)
    if (s->code_pages[i] == page) return true;
  return false;
}

static void remember_code_page(struct slot *s, uint64_t address) {
  uint64_t page = address >> s->page_shift;
  if (page == s->last_code_page) return;
  s->last_code_page = page;
  if (!is_code_page(s, page) && s->code_page_count < CODE_PAGES_MAX)
    s->code_pages[s->code_page_count++] = (uint32_t)page;
}


/* Store profiling (off by default: a write hook sends every guest store through a helper). */
static void on_store(uc_engine *uc, uc_mem_type type, uint64_t address, int size,
                     int64_t value, void *user) {
  (void)uc; (void)type; (void)size; (void)value;
  struct slot *s = user;
  stat_add(s, RPROC_EMU_STAT_STORES, 1);
  if (is_code_page(s, address >> s->page_shift)) stat_add(s, RPROC_EMU_STAT_CODE_PAGE_STORES, 1);
}

static void on_block(uc_engine *uc, uint64_t address, uint32_t size, void *user) {
  (void)size;
  struct slot *s = user;
  s->last_block = address;
  if (s->count_stores) remember_code_page(s, address);
  /* MIPS: the handler returned to the magic address (a mapped page of its own, so that the
     fetch reaches this hook): restore the interrupted context and go on there. */
  if (s->arch == RPROC_EMU_ARCH_MIPS32 && address == s->magic_return) {
    if (s->in_handler) {
      mips_return(s);
      jump_in_hook(s);
    } else {
      record_fault(s, RPROC_EMU_CRASH_BAD_FETCH, address, address, 0, true);
      s->preempted = true;
      s->preempted_at = address;
      uc_emu_stop(uc);
    }
    return;
  }
  /* Only this thread writes the block counter: a plain increment published with a relaxed
     store (an atomic read-modify-write here costs ~6 ns a block, ~10 % of a round trip). */
  atomic_store_explicit(&s->stats[RPROC_EMU_STAT_BLOCKS],
                        atomic_load_explicit(&s->stats[RPROC_EMU_STAT_BLOCKS],
                                             memory_order_relaxed) + 1,
                        memory_order_relaxed);
  /* A MIPS block that starts a page may be a branch delay slot continued from the previous
     page; resuming there would lose the branch, so never preempt at a page start. */
  if (s->arch == RPROC_EMU_ARCH_MIPS32 && (address & 0xFFFu) == 0) return;
  bool stop = s->doorbells != 0 || s->fault != FAULT_NONE ||
              atomic_load_explicit(&s->stop_requested, memory_order_relaxed) ||
              atomic_load_explicit(&s->work_pending, memory_order_relaxed);
  /* A kick with nothing else to do: take the interrupt here, before this block, and go on
     in the handler without leaving uc_emu_start. */
  if (!stop && atomic_load_explicit(&s->irq_raised, memory_order_relaxed) &&
      interrupt_deliverable(s)) {
    s->pc = address;
    if (deliver_interrupt(s)) {
      jump_in_hook(s);
      return;
    }
    stop = true; /* no handler to enter: the fault is recorded */
  }
  if (!stop && s->watchdog_ns > 0 && (++s->watchdog_counter & WATCHDOG_CHECK_MASK) == 0 &&
      now_ns() - s->busy_since_ns > s->watchdog_ns) {
    record_fault(s, RPROC_EMU_CRASH_WATCHDOG, address, 0, (uint64_t)s->watchdog_ns, false);
    stop = true;
  }
  if (stop) {
    s->preempted = true;
    s->preempted_at = address;
    uc_emu_stop(uc);
  }
}

static void on_instruction(uc_engine *uc, uint64_t address, uint32_t size, void *user) {
  (void)uc; (void)address; (void)size;
  stat_add(user, RPROC_EMU_STAT_INSTRUCTIONS, 1);
}

static bool on_bad_memory(uc_engine *uc, uc_mem_type type, uint64_t address, int size,
                          int64_t value, void *user) {
  (void)uc; (void)size; (void)value;
  struct slot *s = user;
  switch (type) {
  case UC_MEM_FETCH_UNMAPPED:
  case UC_MEM_FETCH_PROT:
    if (s->arch == RPROC_EMU_ARCH_MIPS32 && s->in_handler && address == s->magic_return) {
      s->fault = FAULT_HANDLER_RETURN;
      return false;
    }
    record_fault(s, RPROC_EMU_CRASH_BAD_FETCH, address, address, 0, true);
    return false;
  case UC_MEM_READ_UNMAPPED:
  case UC_MEM_READ_PROT:
    record_fault(s, RPROC_EMU_CRASH_BAD_READ, read32(s, pc_register(s)), address, 0, false);
    return false;
  default:
    record_fault(s, RPROC_EMU_CRASH_BAD_WRITE, read32(s, pc_register(s)), address, 0, false);
    return false;
  }
}

static void on_cpu_exception(uc_engine *uc, uint32_t number, void *user) {
  struct slot *s = user;
  uint32_t pc = read32(s, pc_register(s));
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32:
    /* Unicorn replaced the PC with a stale value: the block is the best we know. */
    switch (number) {
    case 12: case 13: /* AdEL, AdES */
      record_fault(s, RPROC_EMU_CRASH_MISALIGNED, s->last_block, 0, number, false); break;
    case 20: /* RI */
      record_fault(s, RPROC_EMU_CRASH_INVALID_INSTRUCTION, s->last_block, 0, number, false);
      break;
    case 15: /* IBE */
      record_fault(s, RPROC_EMU_CRASH_BAD_FETCH, s->last_block, 0, number, false); break;
    case 26: case 28: /* TLBL, DBE */
      record_fault(s, RPROC_EMU_CRASH_BAD_READ, s->last_block, 0, number, false); break;
    case 27: /* TLBS */
      record_fault(s, RPROC_EMU_CRASH_BAD_WRITE, s->last_block, 0, number, false); break;
    default:
      record_fault(s, RPROC_EMU_CRASH_EXCEPTION, s->last_block, 0, number, false); break;
    }
    break;
  case RPROC_EMU_ARCH_RISCV32:
    pc -= 4; /* Unicorn advanced it by 4 whatever the instruction's length */
    switch (number) {
    case 0: case 1: record_fault(s, RPROC_EMU_CRASH_BAD_FETCH, pc, 0, number, true); break;
    case 2: record_fault(s, RPROC_EMU_CRASH_INVALID_INSTRUCTION, pc, 0, number, true); break;
    case 4: case 6: record_fault(s, RPROC_EMU_CRASH_MISALIGNED, pc, 0, number, true); break;
    case 5: record_fault(s, RPROC_EMU_CRASH_BAD_READ, pc, 0, number, true); break;
    case 7: record_fault(s, RPROC_EMU_CRASH_BAD_WRITE, pc, 0, number, true); break;
    default: record_fault(s, RPROC_EMU_CRASH_EXCEPTION, pc, 0, number, true); break;
    }
    break;
  default:
    switch (number) {
    case 3: /* prefetch abort */
    case 8: /* EXCEPTION_EXIT */
      if (s->in_handler && pc >= 0xFFFFFFE0u) {
        /* Exception return: pop the frame and go on in the interrupted code. */
        if (arm_return(s, pc)) {
          jump_in_hook(s);
          return;
        }
      } else {
        record_fault(s, RPROC_EMU_CRASH_BAD_FETCH, pc, pc, number, true);
      }
      break;
    case 1: case 18: /* UDEF, INVSTATE */
      record_fault(s, RPROC_EMU_CRASH_INVALID_INSTRUCTION, pc, 0, number, true); break;
    case 4: case 22: /* a data abort that was not an unmapped access: alignment */
      record_fault(s, RPROC_EMU_CRASH_MISALIGNED, pc, 0, number, true); break;
    default:
      record_fault(s, RPROC_EMU_CRASH_EXCEPTION, pc, 0, number, true); break;
    }
    break;
  }
  uc_emu_stop(uc);
}

static bool on_invalid_instruction(uc_engine *uc, void *user) {
  (void)uc;
  struct slot *s = user;
  uint32_t pc = read32(s, pc_register(s));
  if (s->arch == RPROC_EMU_ARCH_RISCV32) {
    /* Unicorn routes ebreak here too: report it as the breakpoint exception it is. */
    uint8_t insn[4] = {0};
    uc_mem_read(s->uc, pc, insn, 4);
    uint32_t word = get_le32(insn);
    if (word == 0x00100073u || (word & 0xFFFFu) == 0x9002u) {
      record_fault(s, RPROC_EMU_CRASH_EXCEPTION, pc, 0, 3, true);
      return false;
    }
  }
  record_fault(s, RPROC_EMU_CRASH_INVALID_INSTRUCTION, pc, 0, 0, true);
  return false;
}

static uint64_t on_mailbox_read(uc_engine *uc, uint64_t offset, unsigned size, void *user) {
  (void)uc; (void)size;
  struct slot *s = user;
  switch (offset) {
  case RPROC_EMU_MBOX_PENDING:
    atomic_store(&s->irq_raised, 0);
    return atomic_exchange(&s->pending, 0);
  case RPROC_EMU_MBOX_VECTOR: return s->vector;
  case RPROC_EMU_MBOX_MAGIC: return RPROC_EMU_MBOX_MAGIC_VALUE;
  default: return 0;
  }
}

static void on_mailbox_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value,
                             void *user) {
  (void)uc; (void)size;
  struct slot *s = user;
  uint32_t v = (uint32_t)value;
  switch (offset) {
  case RPROC_EMU_MBOX_DOORBELL:
    s->doorbells |= 1u << (v < 31u ? v : 31u);
    stat_add(s, RPROC_EMU_STAT_DOORBELLS, 1);
    break;
  case RPROC_EMU_MBOX_VECTOR: s->vector = v; break;
  case RPROC_EMU_MBOX_WATCHDOG: s->busy_since_ns = now_ns(); break;
  case RPROC_EMU_MBOX_ABORT_PC: s->abort_pc = v; break;
  case RPROC_EMU_MBOX_ABORT:
    record_fault(s, RPROC_EMU_CRASH_ABORT, s->abort_pc, 0, v, true);
    break;
  default: break;
  }
}

/* ------------------------------------------------------------------------ slots ------- */

int32_t rproc_emu_slot_create(void) {
  int32_t found = -1;
  pthread_mutex_lock(&table_lock);
  for (int32_t i = 0; i < RPROC_EMU_MAX_SLOTS; i++) {
    if (!slots[i].in_use) {
      memset(&slots[i], 0, sizeof slots[i]);
      slots[i].in_use = true;
      found = i;
      break;
    }
  }
  pthread_mutex_unlock(&table_lock);
  return found;
}

void rproc_emu_slot_destroy(int32_t id) {
  struct slot *s = get(id);
  if (!s) return;
  rproc_emu_close(id);
  pthread_mutex_lock(&table_lock);
  s->in_use = false;
  pthread_mutex_unlock(&table_lock);
}

int32_t rproc_emu_open(int32_t id, int32_t arch, int32_t big_endian) {
  struct slot *s = get(id);
  if (!s) return UC_ERR_HANDLE;
  rproc_emu_close(id);
  uc_err e;
  int model;
  switch (arch) {
  case RPROC_EMU_ARCH_MIPS32:
    e = uc_open(UC_ARCH_MIPS, UC_MODE_MIPS32 | (big_endian ? UC_MODE_BIG_ENDIAN
                                                           : UC_MODE_LITTLE_ENDIAN), &s->uc);
    model = UC_CPU_MIPS32_24KF;
    break;
  case RPROC_EMU_ARCH_RISCV32:
    e = uc_open(UC_ARCH_RISCV, UC_MODE_RISCV32, &s->uc);
    model = -1; /* the default RV32 model is RV32GC with machine mode */
    break;
  case RPROC_EMU_ARCH_CORTEX_M4:
    /* UC_MODE_MCLASS would silently force a Cortex-M33: Thumb plus the M4 model instead. */
    e = uc_open(UC_ARCH_ARM, UC_MODE_THUMB, &s->uc);
    model = UC_CPU_ARM_CORTEX_M4;
    break;
  default: return UC_ERR_ARCH;
  }
  if (e != UC_ERR_OK) {
    s->uc = NULL;
    return e;
  }
  if (model >= 0 && (e = rproc_uc_set_cpu_model(s->uc, model)) != UC_ERR_OK) goto fail;
  if ((e = rproc_uc_exits_enable(s->uc)) != UC_ERR_OK) goto fail;
  s->arch = arch;
  s->big_endian = big_endian;
  s->pc = 0;
  s->idle = s->preempted = s->in_handler = false;
  s->doorbells = s->vector = s->abort_pc = 0;
  s->fault = FAULT_NONE;
  s->fault_pc = s->fault_address = s->fault_detail = 0;
  s->watchdog_counter = 0;
  uint32_t page_size = 4096;
  uc_ctl_get_page_size(s->uc, &page_size);
  s->page_shift = (unsigned)__builtin_ctz(page_size ? page_size : 4096);
  s->code_page_count = 0;
  s->last_code_page = UINT64_MAX;
  s->busy_since_ns = now_ns();
  atomic_store(&s->pending, 0);
  atomic_store(&s->irq_raised, 0);
  atomic_store(&s->stop_requested, 0);
  atomic_store(&s->work_pending, 0);
  if ((e = rproc_uc_hook_add_code(s->uc, &s->hooks[0], UC_HOOK_BLOCK, on_block, s, 1, 0)) ||
      (e = rproc_uc_hook_add_invalid_memory(s->uc, &s->hooks[1], UC_HOOK_MEM_INVALID,
                                            on_bad_memory, s)) ||
      (e = rproc_uc_hook_add_interrupt(s->uc, &s->hooks[2], on_cpu_exception, s)) ||
      (e = rproc_uc_hook_add_invalid_instruction(s->uc, &s->hooks[3],
                                                 on_invalid_instruction, s)) ||
      (s->count_instructions &&
       (e = rproc_uc_hook_add_code(s->uc, &s->hooks[4], UC_HOOK_CODE, on_instruction, s, 1, 0))) ||
      (s->count_stores &&
       (e = rproc_uc_hook_add_memory(s->uc, &s->hooks[5], UC_HOOK_MEM_WRITE, on_store, s))))
    goto fail;
  return UC_ERR_OK;
fail:
  uc_close(s->uc);
  s->uc = NULL;
  return e;
}

int32_t rproc_emu_map(int32_t id, uint64_t physical, uint64_t size, uint64_t host_address) {
  struct slot *s = get(id);
  if (!s || !s->uc) return UC_ERR_HANDLE;
  return uc_mem_map_ptr(s->uc, physical, size, UC_PROT_ALL, (void *)(uintptr_t)host_address);
}

int32_t rproc_emu_map_mailbox(int32_t id, uint64_t physical) {
  struct slot *s = get(id);
  if (!s || !s->uc) return UC_ERR_HANDLE;
  uc_err e = uc_mmio_map(s->uc, physical, 0x1000, on_mailbox_read, s, on_mailbox_write, s);
  if (e != UC_ERR_OK || s->arch != RPROC_EMU_ARCH_MIPS32 || s->magic_return == 0) return e;
  /* The handler's return address gets a page of its own (zeros: nops, never run): its block
     hook sees the return (on_block) without the cost of a failed fetch. kseg0/kseg1 → pa. */
  uint64_t page = (s->magic_return & 0x1FFFFFFFu) & ~(uint64_t)0xFFF;
  return uc_mem_map(s->uc, page, 0x1000, UC_PROT_READ | UC_PROT_EXEC);
}

void rproc_emu_configure_interrupts(int32_t id, int32_t line, uint64_t magic_return,
                                    uint64_t vector_table) {
  struct slot *s = get(id);
  if (!s) return;
  s->line = line;
  s->magic_return = magic_return;
  s->vector_table = vector_table;
}

void rproc_emu_configure_watchdog(int32_t id, int64_t timeout_ns) {
  struct slot *s = get(id);
  if (s) s->watchdog_ns = timeout_ns;
}

void rproc_emu_configure_idle_spin(int32_t id, int64_t spin_ns) {
  struct slot *s = get(id);
  if (s) s->idle_spin_ns = spin_ns;
}

void rproc_emu_configure_profiling(int32_t id, int32_t count_instructions, int32_t time_guest,
                                   int32_t count_stores) {
  struct slot *s = get(id);
  if (!s) return;
  s->count_instructions = count_instructions != 0;
  s->time_guest = time_guest != 0;
  s->count_stores = count_stores != 0;
}

void rproc_emu_close(int32_t id) {
  struct slot *s = get(id);
  if (!s || !s->uc) return;
  uc_close(s->uc);
  s->uc = NULL;
}

int32_t rproc_emu_reg_write(int32_t id, int32_t reg, uint64_t value) {
  struct slot *s = get(id);
  if (!s || !s->uc) return UC_ERR_HANDLE;
  return uc_reg_write(s->uc, reg, &value);
}

uint64_t rproc_emu_reg_read(int32_t id, int32_t reg) {
  struct slot *s = get(id);
  uint64_t value = 0;
  if (s && s->uc) uc_reg_read(s->uc, reg, &value);
  return value;
}

void rproc_emu_set_pc(int32_t id, uint64_t pc) {
  struct slot *s = get(id);
  if (s) s->pc = pc;
}

uint64_t rproc_emu_pc(int32_t id) {
  struct slot *s = get(id);
  return s ? s->pc : 0;
}

/* -------------------------------------------------------------------- run loop ------- */

/* True when the instruction just before s->pc is MIPS `wait`, RISC-V `wfi` or Thumb `wfi`. */
static bool after_halt_instruction(struct slot *s) {
  uint8_t bytes[4];
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32: {
    if (uc_mem_read(s->uc, s->pc - 4, bytes, 4) != UC_ERR_OK) return false;
    uint32_t word = s->big_endian ? (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 |
                                        (uint32_t)bytes[2] << 8 | bytes[3]
                                  : get_le32(bytes);
    return (word & 0xFE00003Fu) == 0x42000020u; /* WAIT, any implementation code */
  }
  case RPROC_EMU_ARCH_RISCV32:
    return uc_mem_read(s->uc, s->pc - 4, bytes, 4) == UC_ERR_OK && get_le32(bytes) == 0x10500073u;
  default:
    return uc_mem_read(s->uc, s->pc - 2, bytes, 2) == UC_ERR_OK && bytes[0] == 0x30 &&
           bytes[1] == 0xBF;
  }
}

static void futex_wait(_Atomic uint32_t *word, uint32_t expected) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

enum wake { WAKE_STOP, WAKE_KICK, WAKE_WORK };

/* Sleeps until a stop request, a kick or posted work, in that order of precedence: polls for
   idle_spin_ns first, because waking a sleeping thread costs ~20 µs on this machine. */
static enum wake wait_for_event(struct slot *s) {
  int64_t deadline = now_ns() + s->idle_spin_ns;
  for (unsigned spins = 0;; spins++) {
    if (atomic_load(&s->stop_requested)) return WAKE_STOP;
    if (atomic_load(&s->irq_raised)) return WAKE_KICK;
    if (atomic_load(&s->work_pending)) return WAKE_WORK;
    if ((spins & 63u) == 0 && now_ns() >= deadline) break;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  for (;;) {
    uint32_t seen = atomic_load(&s->wake_word);
    atomic_store(&s->sleeping, 1);
    if (atomic_load(&s->stop_requested) || atomic_load(&s->irq_raised) ||
        atomic_load(&s->work_pending))
      break;
    stat_add(s, RPROC_EMU_STAT_SLEEPS, 1);
    futex_wait(&s->wake_word, seen);
    atomic_store(&s->sleeping, 0);
  }
  atomic_store(&s->sleeping, 0);
  if (atomic_load(&s->stop_requested)) return WAKE_STOP;
  return atomic_load(&s->irq_raised) ? WAKE_KICK : WAKE_WORK;
}

int32_t rproc_emu_run(int32_t id) {
  struct slot *s = get(id);
  if (!s || !s->uc) return RPROC_EMU_RUN_STOPPED;
  for (;;) {
    if (atomic_load_explicit(&s->stop_requested, memory_order_relaxed))
      return RPROC_EMU_RUN_STOPPED;
    if (s->fault != FAULT_NONE) return RPROC_EMU_RUN_CRASHED;
    if (s->doorbells) return RPROC_EMU_RUN_DOORBELL;
    if (atomic_load_explicit(&s->work_pending, memory_order_relaxed)) {
      atomic_store(&s->work_pending, 0);
      return RPROC_EMU_RUN_WORK;
    }
    if (s->idle) {
      enum wake why = wait_for_event(s);
      if (why == WAKE_STOP) return RPROC_EMU_RUN_STOPPED;
      if (why == WAKE_WORK) continue; /* still idle: the work runs first */
      s->idle = false;
      s->busy_since_ns = now_ns();
    }
    if (atomic_load(&s->irq_raised) && interrupt_deliverable(s) && !deliver_interrupt(s))
      return RPROC_EMU_RUN_CRASHED;

    uint64_t begin = s->arch == RPROC_EMU_ARCH_CORTEX_M4 ? (s->pc | 1u) : s->pc;
    s->preempted = false;
    int64_t entered = s->time_guest ? now_ns() : 0;
    uc_err e = uc_emu_start(s->uc, begin, 0 /* ignored: exits mode */, 0, 0);
    if (s->time_guest) stat_add(s, RPROC_EMU_STAT_GUEST_NS, (uint64_t)(now_ns() - entered));
    /* Preempted: resume at the block the hook stopped before. The CPU's PC register is not
       always that block: QEMU does not store the PC when one block jumps straight to the
       next (MIPS shows the previous block's delay slot there). */
    s->pc = s->preempted ? s->preempted_at : read32(s, pc_register(s));

    if (s->fault == FAULT_HANDLER_RETURN) {
      s->fault = FAULT_NONE;
      bool resumed = s->arch == RPROC_EMU_ARCH_MIPS32
                         ? (mips_return(s), true)
                         : arm_return(s, (uint32_t)s->fault_address);
      s->fault_address = 0;
      if (!resumed) return RPROC_EMU_RUN_CRASHED;
      continue;
    }
    if (s->fault != FAULT_NONE) return RPROC_EMU_RUN_CRASHED;
    if (e != UC_ERR_OK) {
      record_fault(s, RPROC_EMU_CRASH_EMULATOR, s->pc, 0, e, false);
      return RPROC_EMU_RUN_CRASHED;
    }
    if (s->preempted) continue;
    /* Neither a hook nor an error: normally the guest executed wait/wfi. Unicorn also returns
       early now and then (seen on Cortex-M after stores to a page that holds code); then the
       instruction before the PC is no halt, and the guest simply goes on. */
    if (!after_halt_instruction(s)) {
      stat_add(s, RPROC_EMU_STAT_SPURIOUS_EXITS, 1);
      continue;
    }
    s->idle = true;
    stat_add(s, RPROC_EMU_STAT_IDLES, 1);
  }
}

uint32_t rproc_emu_take_doorbells(int32_t id) {
  struct slot *s = get(id);
  if (!s) return 0;
  uint32_t rung = s->doorbells;
  s->doorbells = 0;
  return rung;
}

uint64_t rproc_emu_crash_field(int32_t id, int32_t field) {
  struct slot *s = get(id);
  if (!s) return 0;
  switch (field) {
  case RPROC_EMU_CRASH_FIELD_KIND: return s->fault == FAULT_HANDLER_RETURN ? 0 : s->fault;
  case RPROC_EMU_CRASH_FIELD_PC: return s->fault_pc;
  case RPROC_EMU_CRASH_FIELD_ADDRESS: return s->fault_address;
  case RPROC_EMU_CRASH_FIELD_DETAIL: return s->fault_detail;
  case RPROC_EMU_CRASH_FIELD_PC_PRECISE: return s->fault_pc_precise;
  default: return 0;
  }
}

void rproc_emu_kick(int32_t id, uint32_t mask) {
  struct slot *s = get(id);
  if (!s) return;
  atomic_fetch_or(&s->pending, mask);
  atomic_store(&s->irq_raised, 1);
  stat_add(s, RPROC_EMU_STAT_KICKS, 1);
  /* From the owner thread (host code in an event handler or posted work), the run loop sees
     the raised line as soon as the handler returns: nobody to wake. */
  if (owned_slot == id) return;
  atomic_fetch_add(&s->wake_word, 1);
  if (atomic_load(&s->sleeping)) futex_wake(&s->wake_word);
}

void rproc_emu_post_work(int32_t id) {
  struct slot *s = get(id);
  if (!s) return;
  atomic_store(&s->work_pending, 1);
  if (owned_slot == id) return;
  atomic_fetch_add(&s->wake_word, 1);
  if (atomic_load(&s->sleeping)) futex_wake(&s->wake_word);
}

void rproc_emu_request_stop(int32_t id) {
  struct slot *s = get(id);
  if (!s) return;
  atomic_store(&s->stop_requested, 1);
  atomic_fetch_add(&s->wake_word, 1);
  if (atomic_load(&s->sleeping)) futex_wake(&s->wake_word);
}

uint64_t rproc_emu_statistic(int32_t id, int32_t field) {
  struct slot *s = get(id);
  if (!s || field < 0 || field >= RPROC_EMU_STAT_COUNT) return 0;
  return atomic_load_explicit(&s->stats[field], memory_order_relaxed);
}

/* --------------------------------------------------------------------- threads ------- */

struct thread_start {
  void (*entry)(int32_t);
  int32_t slot;
};

static void *thread_main(void *raw) {
  struct thread_start start = *(struct thread_start *)raw;
  free(raw);
  char name[16];
  snprintf(name, sizeof name, "rproc-emu-%d", start.slot);
  pthread_setname_np(pthread_self(), name);
  struct slot *s = get(start.slot);
  atomic_store(&s->thread_id, (int32_t)syscall(SYS_gettid));
  owned_slot = start.slot;
  start.entry(start.slot);
  owned_slot = -1;
  atomic_store(&s->thread_id, 0);
  return NULL;
}

int32_t rproc_emu_thread_spawn(int32_t id, void (*entry)(int32_t), uint64_t cpus0, uint64_t cpus1,
                               uint64_t cpus2, uint64_t cpus3) {
  struct slot *s = get(id);
  if (!s || !entry) return EINVAL;
  if (s->thread_live) return EBUSY;
  const uint64_t cpus[4] = {cpus0, cpus1, cpus2, cpus3};
  cpu_set_t set;
  CPU_ZERO(&set);
  bool pinned = false;
  for (int cpu = 0; cpu < 256; cpu++) {
    if (cpus[cpu / 64] >> (cpu % 64) & 1u) {
      CPU_SET(cpu, &set);
      pinned = true;
    }
  }
  pthread_attr_t attributes;
  int e = pthread_attr_init(&attributes);
  if (e != 0) return e;
  if (pinned) e = pthread_attr_setaffinity_np(&attributes, sizeof set, &set);
  struct thread_start *start = e == 0 ? malloc(sizeof *start) : NULL;
  if (e == 0 && !start) e = ENOMEM;
  if (e == 0) {
    start->entry = entry;
    start->slot = id;
    e = pthread_create(&s->thread, &attributes, thread_main, start);
    if (e != 0) free(start);
  }
  pthread_attr_destroy(&attributes);
  if (e != 0) return e;
  s->thread_live = true;
  return 0;
}

int32_t rproc_emu_thread_id(int32_t id) {
  struct slot *s = get(id);
  return s ? atomic_load(&s->thread_id) : 0;
}

int32_t rproc_emu_thread_join(int32_t id) {
  struct slot *s = get(id);
  if (!s || !s->thread_live) return ESRCH;
  if (pthread_equal(s->thread, pthread_self())) return EDEADLK;
  int e = pthread_join(s->thread, NULL);
  s->thread_live = false;
  return e;
}

int32_t rproc_emu_thread_is_current(int32_t id) {
  return id >= 0 && owned_slot == id;
}

int32_t rproc_emu_process_thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  int32_t count = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "Threads:", 8) == 0) {
      count = (int32_t)strtol(line + 8, NULL, 10);
      break;
    }
  }
  fclose(f);
  return count;
}
