/*
 * CPU affinity of this process's threads, for the CPU reservations of the remote-processor
 * platforms (HostCPUs): the process platform pins firmware processes and the emulated
 * platform pins a core's owner thread to CPUs the host's other threads leave.
 *
 * Every function takes and returns integers only, so calling them is safe Swift. Errors are
 * returned as -errno.
 *
 * CPU sets cross as four 64-bit words (CPUs 0-255); the platforms refuse larger CPU numbers.
 */
#ifndef RPROC_HOST_CPUS_H
#define RPROC_HOST_CPUS_H

#include <stdint.h>

/** CPUs a set can name: 4 words of 64 bits. */
#define RPROC_CPU_WORDS 4
#define RPROC_MAX_CPUS (64 * RPROC_CPU_WORDS)

/** The calling thread's id (gettid). */
int rproc_gettid(void);

/**
 * Edits one thread's CPU affinity: removes the CPUs in `remove`, then adds those in `add`
 * (sched_getaffinity, then sched_setaffinity on thread `tid`; 0 is the calling thread).
 * A set that would become empty is not applied: -EINVAL. Returns 0 or -errno.
 */
int rproc_thread_affinity_edit(int tid, uint64_t remove0, uint64_t remove1, uint64_t remove2,
                               uint64_t remove3, uint64_t add0, uint64_t add1, uint64_t add2,
                               uint64_t add3);

/**
 * Word `word` (0-3) of thread `tid`'s CPU affinity (0: the calling thread). Returns the word,
 * and 0 for a thread that does not exist or a word out of range.
 */
uint64_t rproc_thread_affinity_word(int tid, int word);

#endif /* RPROC_HOST_CPUS_H */
