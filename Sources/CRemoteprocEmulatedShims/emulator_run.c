/*
 * emulator_run.c: the owner-thread run loop (idling in wait/wfi, kicks, posted work,
 * stop) and the owner thread itself.
 * See emulator_core.h for how the shims are split and the Unicorn facts they rely on.
 */
#include "emulator_core.h"

/* The slot whose owner thread this is (-1 on every other thread). */
static _Thread_local int32_t owned_slot = -1;

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
    if (atomic_load(&s->work_pending) || atomic_load(&s->idle_work_pending)) return WAKE_WORK;
    if ((spins & 63u) == 0 && now_ns() >= deadline) break;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  for (;;) {
    uint32_t seen = atomic_load(&s->wake_word);
    atomic_store(&s->sleeping, 1);
    if (atomic_load(&s->stop_requested) || atomic_load(&s->irq_raised) ||
        atomic_load(&s->work_pending) || atomic_load(&s->idle_work_pending))
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
    if (s->idle && atomic_load_explicit(&s->idle_work_pending, memory_order_relaxed)) {
      atomic_store(&s->idle_work_pending, 0);
      return RPROC_EMU_RUN_IDLE_WORK;
    }
    if (s->idle) {
      enum wake why = wait_for_event(s);
      if (why == WAKE_STOP) return RPROC_EMU_RUN_STOPPED;
      if (why == WAKE_WORK) continue; /* still idle: the work runs first */
      s->idle = false;
      s->busy_since_ns = now_ns();
    }
    if (atomic_load(&s->irq_raised) && emu_interrupt_deliverable(s) && !emu_deliver_interrupt(s))
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
                         ? (emu_mips_return(s), true)
                         : emu_arm_return(s, (uint32_t)s->fault_address);
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

/* Sets a flag the owner thread's run loop checks, and wakes that thread if it sleeps. From
   the owner thread itself (host code in an event handler or in posted work) there is nobody
   to wake: the run loop sees the flag as soon as the host code returns. */
static void raise_flag(int32_t id, struct slot *s, _Atomic uint32_t *flag, bool from_owner_too) {
  atomic_store(flag, 1);
  if (!from_owner_too && owned_slot == id) return;
  atomic_fetch_add(&s->wake_word, 1);
  if (atomic_load(&s->sleeping)) futex_wake(&s->wake_word);
}

void rproc_emu_kick(int32_t id, uint32_t mask) {
  struct slot *s = get(id);
  if (!s) return;
  atomic_fetch_or(&s->pending, mask);
  stat_add(s, RPROC_EMU_STAT_KICKS, 1);
  raise_flag(id, s, &s->irq_raised, false);
}

void rproc_emu_post_work(int32_t id) {
  struct slot *s = get(id);
  if (s) raise_flag(id, s, &s->work_pending, false);
}

void rproc_emu_post_idle_work(int32_t id) {
  struct slot *s = get(id);
  if (s) raise_flag(id, s, &s->idle_work_pending, false);
}

void rproc_emu_request_stop(int32_t id) {
  struct slot *s = get(id);
  if (s) raise_flag(id, s, &s->stop_requested, true);
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
