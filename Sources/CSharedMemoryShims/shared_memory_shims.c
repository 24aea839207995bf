#define _GNU_SOURCE
#include "shared_memory_shims.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int rproc_futex_wait(const void *word, uint32_t expected, int64_t timeout_ns) {
  struct timespec ts, *tsp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tsp = &ts;
  }
  long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
  return r == 0 ? 0 : -errno;
}

int rproc_futex_wake(const void *word, int32_t count) {
  long r = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
  return r >= 0 ? (int)r : -errno;
}

int rproc_memfd_create(const char *name, int close_on_exec) {
  int fd = memfd_create(name, close_on_exec ? MFD_CLOEXEC : 0);
  return fd >= 0 ? fd : -errno;
}

int rproc_membarrier_register(void) {
  long r = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
  return r == 0 ? 0 : -errno;
}

int rproc_membarrier(void) {
  long r = syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  return r == 0 ? 0 : -errno;
}
