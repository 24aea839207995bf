#define _GNU_SOURCE
#include "host_cpus.h"

#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

int rproc_gettid(void) { return (int)syscall(SYS_gettid); }

int rproc_thread_affinity_edit(int tid, uint64_t remove0, uint64_t remove1, uint64_t remove2,
                               uint64_t remove3, uint64_t add0, uint64_t add1, uint64_t add2,
                               uint64_t add3) {
  const uint64_t remove[RPROC_CPU_WORDS] = {remove0, remove1, remove2, remove3};
  const uint64_t add[RPROC_CPU_WORDS] = {add0, add1, add2, add3};
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(tid, sizeof set, &set) != 0) return -errno;
  for (int cpu = 0; cpu < RPROC_MAX_CPUS; cpu++) {
    if (remove[cpu / 64] >> (cpu % 64) & 1u) CPU_CLR(cpu, &set);
    if (add[cpu / 64] >> (cpu % 64) & 1u) CPU_SET(cpu, &set);
  }
  if (CPU_COUNT(&set) == 0) return -EINVAL;
  return sched_setaffinity(tid, sizeof set, &set) == 0 ? 0 : -errno;
}

uint64_t rproc_thread_affinity_word(int tid, int word) {
  if (word < 0 || word >= RPROC_CPU_WORDS) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(tid, sizeof set, &set) != 0) return 0;
  uint64_t bits = 0;
  for (int bit = 0; bit < 64; bit++) {
    if (CPU_ISSET(word * 64 + bit, &set)) bits |= (uint64_t)1 << bit;
  }
  return bits;
}
