/*
 * The few C operations the SharedMemory target needs and Swift cannot express directly:
 * acquire/release accesses and fences on memory shared with another processor, the futex
 * system call on a shared word, and memfd_create. Only the SharedMemory target imports this.
 */
#ifndef SHARED_MEMORY_SHIMS_H
#define SHARED_MEMORY_SHIMS_H

#include <stdint.h>

static inline uint8_t rproc_load_acquire_u8(const void *p) {
  return __atomic_load_n((const uint8_t *)p, __ATOMIC_ACQUIRE);
}
static inline void rproc_store_release_u8(void *p, uint8_t v) {
  __atomic_store_n((uint8_t *)p, v, __ATOMIC_RELEASE);
}
static inline uint16_t rproc_load_acquire_u16(const void *p) {
  return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}
static inline uint32_t rproc_load_acquire_u32(const void *p) {
  return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}
static inline void rproc_store_release_u16(void *p, uint16_t v) {
  __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}
static inline void rproc_store_release_u32(void *p, uint32_t v) {
  __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE);
}
static inline uint32_t rproc_exchange_u32(void *p, uint32_t v) {
  return __atomic_exchange_n((uint32_t *)p, v, __ATOMIC_ACQ_REL);
}
static inline uint32_t rproc_fetch_add_u32(void *p, uint32_t v) {
  return __atomic_fetch_add((uint32_t *)p, v, __ATOMIC_ACQ_REL);
}
/** Sequentially consistent: a doorbell's OR is ordered before the ringer's later loads. */
static inline uint32_t rproc_fetch_or_u32(void *p, uint32_t v) {
  return __atomic_fetch_or((uint32_t *)p, v, __ATOMIC_SEQ_CST);
}
static inline _Bool rproc_compare_exchange_u32(void *p, uint32_t expected, uint32_t desired) {
  return __atomic_compare_exchange_n((uint32_t *)p, &expected, desired, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}
/** A full fence: orders earlier stores before later loads (Linux: virtio_mb). */
static inline void rproc_fence_seq_cst(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/** A compiler-only barrier: no memory access moves across it (no instruction emitted). */
static inline void rproc_compiler_barrier(void) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
/** A CPU hint for spin loops. */
static inline void rproc_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

/**
 * futex(FUTEX_WAIT) on a word shared between processes: sleeps while *word == expected.
 * timeout_ns < 0 waits forever. Returns 0 when woken, or -errno (EAGAIN: value changed,
 * ETIMEDOUT, EINTR).
 */
int rproc_futex_wait(const void *word, uint32_t expected, int64_t timeout_ns);
/** futex(FUTEX_WAKE): wakes up to `count` waiters. Returns the number woken or -errno. */
int rproc_futex_wake(const void *word, int32_t count);
/**
 * membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED): lets this process use
 * rproc_membarrier. Returns 0, or -errno (ENOSYS, EINVAL: not supported).
 */
int rproc_membarrier_register(void);
/**
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): when it returns, every thread of this
 * process that was running has executed a full memory barrier. Returns 0 or -errno.
 */
int rproc_membarrier(void);
/** memfd_create(name, MFD_CLOEXEC?). Returns the descriptor or -errno. */
int rproc_memfd_create(const char *name, int close_on_exec);

#endif /* SHARED_MEMORY_SHIMS_H */
