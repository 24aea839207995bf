/*
 * emulator_interrupts.c: interrupt entry and return for each architecture (MIPS handler
 * call, RISC-V machine trap, ARMv7-M exception frame), done by the host as the hardware would.
 * See emulator_core.h for how the shims are split and the Unicorn facts they rely on.
 */
#include "emulator_core.h"

/* ------------------------------------------------------------------ interrupts ------- */

bool emu_interrupt_deliverable(struct slot *s) {
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32: {
    if (s->in_handler || s->vector == 0) return false;
    uint32_t status = read32(s, UC_MIPS_REG_CP0_STATUS);
    /* IE set, EXL clear, the kick's IM line unmasked. ERL is ignored: the machine keeps it
       set so that kuseg stays an identity window (docs/machines/mips32.md). */
    return (status & 1u) && !(status & 2u) && (status & (1u << (8 + s->line)));
  }
  case RPROC_EMU_ARCH_RISCV32: {
    /* Only raised when the CPU takes it at once (no SSIP left pending behind a wfi that
       masks it: the run loop would not see that as a kick still to deliver). */
    uint32_t mstatus = read32(s, UC_RISCV_REG_MSTATUS);
    uint32_t mie = read32(s, UC_RISCV_REG_MIE);
    return (mstatus & RISCV_MSTATUS_MIE) && (mie & RISCV_SSIP);
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

void emu_mips_return(struct slot *s) {
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

/* RISC-V: the kick is the supervisor software interrupt line (mip.SSIP), raised as an ACLINT
   SSWI device would; with mideleg = 0 the CPU itself traps to machine mode (mepc, mcause
   0x8000_0001, mstatus, mtvec) before its next block. The host does not write mstatus: a
   write that changes MPP (Unicorn's mret leaves U there) flushes QEMU's soft TLB, which cost
   ~1.5 µs a kick. Unicorn lets software set only delegable mip bits, so MSIP is not an option. */
static void riscv_set_ssip(struct slot *s, bool raised) {
  uint32_t mip = read32(s, UC_RISCV_REG_MIP);
  write32(s, UC_RISCV_REG_MIP, raised ? mip | RISCV_SSIP : mip & ~RISCV_SSIP);
}

void emu_riscv_lower_line(struct slot *s) {
  if (read32(s, UC_RISCV_REG_MIP) & RISCV_SSIP) riscv_set_ssip(s, false);
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

bool emu_arm_return(struct slot *s, uint32_t exc_return) {
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

bool emu_deliver_interrupt(struct slot *s) {
  atomic_store(&s->irq_raised, 0);
  stat_add(s, RPROC_EMU_STAT_INTERRUPTS, 1);
  switch (s->arch) {
  case RPROC_EMU_ARCH_MIPS32: mips_enter(s); return true;
  case RPROC_EMU_ARCH_RISCV32: riscv_set_ssip(s, true); return true;
  default: return arm_enter(s);
  }
}

/* Writes the PC from inside a hook: Unicorn 2 then leaves the current block and goes on at
   the new PC within the same uc_emu_start (quit_request), so taking an interrupt or returning
   from a handler costs no return to the run loop and no new uc_emu_start. */
void emu_jump_in_hook(struct slot *s) {
  uint64_t pc = s->arch == RPROC_EMU_ARCH_CORTEX_M4 ? (s->pc | 1u) : s->pc;
  uc_reg_write(s->uc, pc_register(s), &pc);
}
