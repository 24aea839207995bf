/*
 * emulator_shims.c: the slots of emulated cores and their set-up: engines, memory
 * maps, interrupt and watchdog configuration, registers.
 * See emulator_core.h for how the shims are split and the Unicorn facts they rely on.
 */
#include "emulator_core.h"

struct slot rproc_emu_slots[RPROC_EMU_MAX_SLOTS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------------ slots ------- */

int32_t rproc_emu_slot_create(void) {
  int32_t found = -1;
  pthread_mutex_lock(&table_lock);
  for (int32_t i = 0; i < RPROC_EMU_MAX_SLOTS; i++) {
    if (!rproc_emu_slots[i].in_use) {
      memset(&rproc_emu_slots[i], 0, sizeof rproc_emu_slots[i]);
      rproc_emu_slots[i].in_use = true;
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
  atomic_store(&s->idle_work_pending, 0);
  if ((e = emu_add_hooks(s)) != UC_ERR_OK) goto fail;
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
  uc_err e = emu_map_mailbox_hooks(s, physical);
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

