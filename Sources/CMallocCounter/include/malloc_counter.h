/*
 * Counts heap allocations in the process that links this target, for benchmarks that prove
 * "zero allocations per message". Link it only into an executable (the rproc tool): it
 * defines malloc, calloc, realloc, free, posix_memalign, aligned_alloc and memalign, which
 * then interpose glibc's for the whole process, and forwards each to glibc's __libc_*
 * implementation after counting.
 */
#ifndef RPROC_MALLOC_COUNTER_H
#define RPROC_MALLOC_COUNTER_H

#include <stdint.h>

/** Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) so far. */
uint64_t rproc_malloc_count(void);
/** Calls to free with a non-NULL pointer so far. */
uint64_t rproc_free_count(void);

#endif
