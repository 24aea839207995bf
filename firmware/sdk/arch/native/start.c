/*
 * start.c: the native machine (a Linux process under the process platform). Before main it
 * reads the contract (docs/process-platform.md, remoteproc_native.h): the shared memfd is
 * descriptor RPROC_SHM_FD; it maps it, maps the table page over the firmware's own
 * .resource_table pages (shared.ld gives them pages of their own) and acknowledges the host.
 * Kicks are the futex doorbells of the control page.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rproc/machine.h"
#include "rproc/platform.h"
#include "rproc/resource_table.h"
#include "rproc/vring.h"

uint32_t rproc_boot_args[4];
uint8_t *rproc_native_memory;
uint32_t rproc_native_size;

static volatile struct rproc_native_control *control;
extern char _rproc_resource_table_end[];

static __attribute__((noreturn)) void fail(const char *what, int error) {
  if (error) fprintf(stderr, "rproc native start-up: %s: %s\n", what, strerror(error));
  else fprintf(stderr, "rproc native start-up: %s\n", what);
  exit(2);
}

static long futex(volatile uint32_t *word, int op, uint32_t value, const struct timespec *timeout) {
  return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static void acknowledge(uint32_t epoch) {
  control->remote_pid = (uint32_t)getpid();
  __atomic_store_n(&control->remote_epoch, epoch, __ATOMIC_SEQ_CST);
  futex(&control->remote_epoch, FUTEX_WAKE, INT32_MAX, NULL);
}

__attribute__((constructor)) static void rproc_native_start(void) {
  const char *text = getenv(RPROC_NATIVE_ENV_FD);
  if (!text || !*text)
    fail(RPROC_NATIVE_ENV_FD " is not set: run this firmware under a remoteproc host "
         "(the process platform)", 0);
  char *end;
  long fd = strtol(text, &end, 10);
  if (*end || fd < 0 || fd > INT32_MAX) fail(RPROC_NATIVE_ENV_FD " is not a descriptor number", 0);
  struct stat st;
  if (fstat((int)fd, &st) != 0) fail("the shared memory descriptor", errno);
  if (st.st_size < RPROC_NATIVE_POOL_OFFSET || st.st_size > (off_t)RPROC_NATIVE_MAX_SIZE)
    fail("the shared memory has an impossible size", 0);
  void *memory = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
  if (memory == MAP_FAILED) fail("mapping the shared memory", errno);
  control = memory;
  if (control->magic != RPROC_NATIVE_MAGIC || control->version != RPROC_NATIVE_VERSION)
    fail("the shared memory does not start with a version 1 control page", 0);
  if (control->size != (uint32_t)st.st_size || control->device_base != RPROC_NATIVE_DA_BASE ||
      control->table_offset != RPROC_NATIVE_TABLE_OFFSET ||
      control->trace_offset != RPROC_NATIVE_TRACE_OFFSET ||
      control->pool_offset != RPROC_NATIVE_POOL_OFFSET)
    fail("the control page's layout is not this SDK's", 0);
  uintptr_t table = (uintptr_t)&_rproc_resource_table;
  uintptr_t table_end = (uintptr_t)_rproc_resource_table_end;
  if (table % RPROC_NATIVE_PAGE_SIZE || table_end % RPROC_NATIVE_PAGE_SIZE ||
      table_end - table != RPROC_NATIVE_TABLE_SIZE)
    fail(".resource_table is not one page of its own: link with firmware/sdk/arch/native/shared.ld", 0);
  if (mmap((void *)table, RPROC_NATIVE_TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
           (int)fd, RPROC_NATIVE_TABLE_OFFSET) == MAP_FAILED)
    fail("mapping the host's resource table", errno);
  /* The descriptor stays open: a host that restarts finds the memory through /proc/<pid>/fd. */
  rproc_native_memory = memory;
  rproc_native_size = control->size;
  acknowledge(__atomic_load_n(&control->host_epoch, __ATOMIC_ACQUIRE));
}

uint32_t rproc_platform_generation(void) {
  uint32_t epoch = __atomic_load_n(&control->host_epoch, __ATOMIC_ACQUIRE);
  if (epoch != __atomic_load_n(&control->remote_epoch, __ATOMIC_RELAXED)) acknowledge(epoch);
  return epoch;
}

void rproc_platform_init(enum rproc_kick_mode mode) { (void)mode; }

void rproc_notify_host(uint32_t notifyid) {
  volatile struct rproc_native_doorbell *bell = &control->to_host;
  uint32_t bit = notifyid < RPROC_NATIVE_KICK_ANY ? 1u << notifyid : 1u << RPROC_NATIVE_KICK_ANY;
  uint32_t old = __atomic_fetch_or(&bell->pending, bit, __ATOMIC_SEQ_CST);
  if (old == 0 && __atomic_load_n(&bell->waiting, __ATOMIC_SEQ_CST))
    futex(&bell->pending, FUTEX_WAKE, 1, NULL);
}

uint32_t rproc_kicks_take(void) {
  rproc_platform_generation();
  return __atomic_exchange_n(&control->to_remote.pending, 0, __ATOMIC_ACQ_REL);
}

void rproc_watchdog_pet(void) { __atomic_fetch_add(&control->heartbeat, 1, __ATOMIC_RELAXED); }

static struct rproc_vring *watched[8];
static unsigned watched_count;

void rproc_platform_watch(struct rproc_vring *ring) {
  for (unsigned i = 0; i < watched_count; i++)
    if (watched[i] == ring) return;
  if (watched_count < 8) watched[watched_count++] = ring;
}

/* New buffers on a watched ring: the host published them; its kick may still be on the way. */
static int watched_ready(void) {
  for (unsigned i = 0; i < watched_count; i++)
    if (rproc_vring_has_available(watched[i])) return 1;
  return 0;
}

int rproc_platform_arm(struct rproc_vring *ring) {
  if (control->mode == RPROC_NATIVE_MODE_ADAPTIVE && control->spin_ns) return 0; /* at sleep */
  return rproc_vring_enable_kicks(ring);
}

/* Asks for kicks on every watched ring before sleeping; 1 when one has buffers already. */
static int arm_watched(void) {
  int ready = 0;
  for (unsigned i = 0; i < watched_count; i++)
    if (rproc_vring_enable_kicks(watched[i])) ready = 1;
  return ready;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void rproc_wait_for_kick(void) {
  volatile struct rproc_native_doorbell *bell = &control->to_remote;
  rproc_watchdog_pet();
  rproc_platform_generation();
  if (__atomic_load_n(&bell->pending, __ATOMIC_ACQUIRE)) return;
  if (control->mode == RPROC_NATIVE_MODE_ADAPTIVE && control->spin_ns) {
    uint64_t deadline = now_ns() + control->spin_ns;
    for (unsigned polls = 1;; polls++) {
      if (__atomic_load_n(&bell->pending, __ATOMIC_ACQUIRE) || watched_ready()) return;
#if defined(__x86_64__)
      __builtin_ia32_pause();
#elif defined(__aarch64__)
      __asm__ volatile("yield");
#endif
      if (polls % 64 == 0 && now_ns() >= deadline) break;
    }
  }
  if (control->mode == RPROC_NATIVE_MODE_ADAPTIVE && control->spin_ns && arm_watched()) return;
  uint32_t watchdog = control->watchdog_ms;
  struct timespec half = {.tv_sec = watchdog / 2000, .tv_nsec = (long)(watchdog % 2000) * 500000};
  __atomic_store_n(&bell->waiting, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&bell->pending, __ATOMIC_SEQ_CST) == 0)
    futex(&bell->pending, FUTEX_WAIT, 0, watchdog ? &half : NULL);
  __atomic_store_n(&bell->waiting, 0, __ATOMIC_RELEASE);
  rproc_watchdog_pet();
}

void rproc_abort(uint32_t code) {
  control->abort_code = code;
  control->abort_pc = (uint64_t)(uintptr_t)__builtin_return_address(0);
  __atomic_store_n(&control->abort_set, 1, __ATOMIC_SEQ_CST);
  abort();
}

uint32_t rproc_irq_save(void) { return 0; }
void rproc_irq_restore(uint32_t state) { (void)state; }
