/*
 * emulator_shims.h: the integer-only interface between the RemoteprocEmulated Swift target and
 * Unicorn.
 *
 * Swift may not touch pointers outside the SharedMemory target, so everything that handles
 * one lives behind this header: a core is a small integer "slot"; guest memory is mapped from
 * an integer host address; registers are read and written as integers; the hooks (block,
 * invalid memory, CPU exception, invalid instruction, mailbox MMIO) are C functions that
 * record what happened and stop the emulator so that rproc_emu_run returns an event code.
 *
 * Threading: one owner thread per slot makes every Unicorn call (open/map/run/close and the
 * register accessors). Other threads may only call rproc_emu_kick, rproc_emu_post_work,
 * rproc_emu_request_stop, rproc_emu_statistic and the thread functions; these touch atomics
 * only. Called on the owner thread itself, rproc_emu_kick and rproc_emu_post_work wake nobody:
 * the run loop sees them when the current event handler returns (single-thread mode).
 *
 * Emulated machine conventions (interrupt delivery, the mailbox) are documented in
 * docs/machines/ (one file per machine); the mailbox register offsets are below.
 */
#ifndef RPROC_EMULATOR_SHIMS_H
#define RPROC_EMULATOR_SHIMS_H

#include <stdint.h>

/* Architectures (rproc_emu_open). */
#define RPROC_EMU_ARCH_MIPS32 1
#define RPROC_EMU_ARCH_RISCV32 2
#define RPROC_EMU_ARCH_CORTEX_M4 3

/* Mailbox registers: 32-bit, at the machine's mailbox base (one 4 KiB page). */
#define RPROC_EMU_MBOX_DOORBELL 0x00u  /* W: guest→host kick; value = notify id */
#define RPROC_EMU_MBOX_PENDING 0x04u   /* R: host→guest kicks pending (bit per id); read clears */
#define RPROC_EMU_MBOX_VECTOR 0x08u    /* RW: MIPS interrupt handler address (0 = none) */
#define RPROC_EMU_MBOX_WATCHDOG 0x0Cu  /* W: any value pets the watchdog */
#define RPROC_EMU_MBOX_ABORT_PC 0x10u  /* W: the PC to report with the next abort */
#define RPROC_EMU_MBOX_ABORT 0x14u     /* W: firmware-requested abort; value = reason code */
#define RPROC_EMU_MBOX_MAGIC 0x1Cu     /* R: RPROC_EMU_MBOX_MAGIC_VALUE */
#define RPROC_EMU_MBOX_MAGIC_VALUE 0x52505243u /* "RPRC" */

/* rproc_emu_run results. */
#define RPROC_EMU_RUN_DOORBELL 1  /* the guest rang the doorbell: take the ids, run again */
#define RPROC_EMU_RUN_CRASHED 2   /* read rproc_emu_crash_field; the engine must be closed */
#define RPROC_EMU_RUN_STOPPED 3   /* rproc_emu_request_stop was honoured */
#define RPROC_EMU_RUN_WORK 4      /* rproc_emu_post_work: run the host's work, then run again */
#define RPROC_EMU_RUN_IDLE_WORK 5 /* rproc_emu_post_idle_work and the guest idles: likewise */

/* Crash kinds (RPROC_EMU_CRASH_FIELD_KIND). */
#define RPROC_EMU_CRASH_INVALID_INSTRUCTION 1
#define RPROC_EMU_CRASH_BAD_READ 2
#define RPROC_EMU_CRASH_BAD_WRITE 3
#define RPROC_EMU_CRASH_BAD_FETCH 4
#define RPROC_EMU_CRASH_MISALIGNED 5
#define RPROC_EMU_CRASH_WATCHDOG 6
#define RPROC_EMU_CRASH_ABORT 7
#define RPROC_EMU_CRASH_EXCEPTION 8  /* another CPU exception (syscall, break…): detail = number */
#define RPROC_EMU_CRASH_EMULATOR 9   /* Unicorn refused to go on: detail = uc_err */

/* rproc_emu_crash_field fields. */
#define RPROC_EMU_CRASH_FIELD_KIND 0
#define RPROC_EMU_CRASH_FIELD_PC 1
#define RPROC_EMU_CRASH_FIELD_ADDRESS 2     /* faulting data/fetch address, or 0 */
#define RPROC_EMU_CRASH_FIELD_DETAIL 3      /* exception number, abort code or uc_err */
#define RPROC_EMU_CRASH_FIELD_PC_PRECISE 4  /* 1: PC is the faulting instruction; 0: its block */

/* rproc_emu_statistic fields. */
#define RPROC_EMU_STAT_BLOCKS 0
#define RPROC_EMU_STAT_INTERRUPTS 1
#define RPROC_EMU_STAT_IDLES 2
#define RPROC_EMU_STAT_DOORBELLS 3
#define RPROC_EMU_STAT_KICKS 4
#define RPROC_EMU_STAT_SLEEPS 5
#define RPROC_EMU_STAT_SPURIOUS_EXITS 6 /* uc_emu_start returned with no cause; resumed */
#define RPROC_EMU_STAT_INSTRUCTIONS 7   /* only with instruction counting (profiling) */
#define RPROC_EMU_STAT_GUEST_NS 8       /* time inside uc_emu_start, only with guest timing */
#define RPROC_EMU_STAT_STORES 9          /* only with store counting (profiling) */
#define RPROC_EMU_STAT_CODE_PAGE_STORES 10 /* of those, stores to a page that ran code */
#define RPROC_EMU_STAT_COUNT 11

/** Reserves a slot (cross-thread state + engine holder). Returns the slot, or -1 if all
 *  RPROC_EMU_MAX_SLOTS are in use. */
int32_t rproc_emu_slot_create(void);
/** Releases a slot. Its engine must be closed and its thread joined. */
void rproc_emu_slot_destroy(int32_t slot);
#define RPROC_EMU_MAX_SLOTS 64

/** Opens a Unicorn engine for `arch` with the machine's CPU model and installs the hooks.
 *  Also clears every per-run state (faults, doorbells, pending kicks, stop request).
 *  Returns 0 or a uc_err. */
int32_t rproc_emu_open(int32_t slot, int32_t arch, int32_t big_endian);
/** Maps `size` bytes of host memory at `host_address` at guest-physical `physical`
 *  (uc_mem_map_ptr; page aligned). Returns 0 or a uc_err. */
int32_t rproc_emu_map(int32_t slot, uint64_t physical, uint64_t size, uint64_t host_address);
/** Maps the mailbox page at guest-physical `physical`. Returns 0 or a uc_err. */
int32_t rproc_emu_map_mailbox(int32_t slot, uint64_t physical);
/** Interrupt delivery parameters: `line` is the MIPS Status.IM line or the Cortex-M IRQ
 *  number; `magic_return` the MIPS handler return address; `vector_table` the Cortex-M
 *  vector table address. */
void rproc_emu_configure_interrupts(int32_t slot, int32_t line, uint64_t magic_return,
                                    uint64_t vector_table);
/** Watchdog: crash when the guest runs this long without idling or petting (<= 0: off). */
void rproc_emu_configure_watchdog(int32_t slot, int64_t timeout_ns);
/** How long the owner thread polls for a kick before it sleeps on a futex. */
void rproc_emu_configure_idle_spin(int32_t slot, int64_t spin_ns);
/** Profiling, read at the next rproc_emu_open: count every guest instruction (a UC_HOOK_CODE,
 *  which slows the guest several times), time every uc_emu_start (two clock reads), and/or
 *  count every guest store (a UC_HOOK_MEM_WRITE), telling apart stores to a target page that
 *  has run code (those take QEMU's self-modifying-code slow path). */
void rproc_emu_configure_profiling(int32_t slot, int32_t count_instructions, int32_t time_guest,
                                   int32_t count_stores);
/** Closes the engine (uc_close). Safe when none is open. */
void rproc_emu_close(int32_t slot);

/** Register access by Unicorn register id (uc_*_reg). Returns 0 or a uc_err. */
int32_t rproc_emu_reg_write(int32_t slot, int32_t reg, uint64_t value);
uint64_t rproc_emu_reg_read(int32_t slot, int32_t reg);
/** Where rproc_emu_run starts or resumes. */
void rproc_emu_set_pc(int32_t slot, uint64_t pc);
uint64_t rproc_emu_pc(int32_t slot);

/** Runs the guest until it rings the doorbell, crashes or is asked to stop; delivers host
 *  kicks as interrupts and sleeps while the guest idles in wait/wfi. */
int32_t rproc_emu_run(int32_t slot);
/** Returns and clears the notify-id mask the guest rang (bit n = id n; ids >= 31 → bit 31). */
uint32_t rproc_emu_take_doorbells(int32_t slot);
uint64_t rproc_emu_crash_field(int32_t slot, int32_t field);

/** Any thread: posts host→guest kicks (bit mask) and wakes the owner thread. */
void rproc_emu_kick(int32_t slot, uint32_t mask);
/** Any thread: asks rproc_emu_run to return RPROC_EMU_RUN_WORK at the next block boundary,
 *  or at once when the guest idles, so that the owner thread runs work the host queued. */
void rproc_emu_post_work(int32_t slot);
/** Any thread: asks rproc_emu_run to return RPROC_EMU_RUN_IDLE_WORK once the guest idles in
 *  wait/wfi (at once if it is idling): work that must find the guest quiescent. */
void rproc_emu_post_idle_work(int32_t slot);
/** Any thread: asks rproc_emu_run to return RPROC_EMU_RUN_STOPPED at the next block. */
void rproc_emu_request_stop(int32_t slot);
/** Any thread: a counter (RPROC_EMU_STAT_*). */
uint64_t rproc_emu_statistic(int32_t slot, int32_t field);

/** Starts the slot's owner thread, which calls entry(slot). The thread is created with its CPU
 *  affinity set to cpus0..cpus3 (CPUs 0-255, four 64-bit words; unchanged from the caller's
 *  when all are 0), so not one of its instructions runs elsewhere. Returns 0 or an errno
 *  (EINVAL: a CPU this process may not use). */
int32_t rproc_emu_thread_spawn(int32_t slot, void (*entry)(int32_t), uint64_t cpus0,
                               uint64_t cpus1, uint64_t cpus2, uint64_t cpus3);
/** Any thread: the owner thread's Linux thread id (gettid) while it runs, else 0. */
int32_t rproc_emu_thread_id(int32_t slot);
/** Joins the slot's owner thread. Returns 0, or an errno (ESRCH: none running). */
int32_t rproc_emu_thread_join(int32_t slot);
/** 1 when called on the slot's owner thread. */
int32_t rproc_emu_thread_is_current(int32_t slot);
/** Number of threads of this process (from /proc/self/status), or -1. */
int32_t rproc_emu_process_thread_count(void);

#endif
