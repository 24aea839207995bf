/*
 * emulator_hooks.c: the Unicorn hooks of a core: block boundaries (preemption, the
 * watchdog, interrupts taken in the hook), memory faults, CPU exceptions, the mailbox and
 * profiling.
 * See emulator_core.h for how the shims are split and the Unicorn facts they rely on.
 */
#include "emulator_core.h"

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
      emu_mips_return(s);
      emu_jump_in_hook(s);
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
      emu_interrupt_deliverable(s)) {
    s->pc = address;
    if (emu_deliver_interrupt(s)) {
      emu_jump_in_hook(s);
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
        if (emu_arm_return(s, pc)) {
          emu_jump_in_hook(s);
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
    if (s->arch == RPROC_EMU_ARCH_RISCV32) emu_riscv_lower_line(s); /* reading lowers SSIP */
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

/* Adds the hooks every core has (blocks, bad memory, CPU exceptions, invalid instructions)
   and the profiling ones it asked for. */
uc_err emu_add_hooks(struct slot *s) {
  uc_err e;
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
    return e;
  return UC_ERR_OK;
}

/* Maps the mailbox's page at `physical` as MMIO served by the hooks above. */
uc_err emu_map_mailbox_hooks(struct slot *s, uint64_t physical) {
  return uc_mmio_map(s->uc, physical, 0x1000, on_mailbox_read, s, on_mailbox_write, s);
}
