/*
 * Process control for the process platform (RemoteprocProcess): starting a firmware executable
 * as a child process, watching it through a pidfd and signalling it. The affinity of the
 * host's own threads is CHostCPUShims' (host_cpus.h).
 *
 * Every function takes and returns integers only, so calling them is safe Swift and the
 * platform stays free of `unsafe`. Errors are returned as -errno.
 *
 * CPU sets cross as four 64-bit words (CPUs 0-255, as in host_cpus.h); the platform refuses
 * larger CPU numbers.
 */
#ifndef RPROC_PROCESS_SHIMS_H
#define RPROC_PROCESS_SHIMS_H

#include <stdint.h>

/**
 * Starts the executable open at `exec_fd` (fexecve) as a child process, from one long-lived
 * spawner thread (so that a parent-death signal follows the host process, not the calling
 * thread). In the child, before exec:
 *   - `memfd` becomes descriptor `memfd_target` without FD_CLOEXEC, every other descriptor
 *     from 3 up is closed, stdin/stdout/stderr are kept;
 *   - the environment is the host's plus RPROC_SHM_FD=<memfd_target>;
 *   - the CPU affinity is the set cpus0..cpus3 (unchanged when all are 0);
 *   - a new session (setsid), every signal disposition back to default, nothing blocked;
 *   - with die_with_host, PR_SET_PDEATHSIG SIGKILL (the child dies with the host process).
 * argv is {"remoteproc-<argv_tag>"} where argv_tag is a small number (the platform's index).
 * Returns the child's pid, or -errno when it could not start (an exec failure is reported by
 * the child through a close-on-exec pipe, and the child is reaped).
 */
int rproc_spawn_firmware(int exec_fd, int memfd, int memfd_target, uint64_t cpus0,
                         uint64_t cpus1, uint64_t cpus2, uint64_t cpus3, int die_with_host,
                         int argv_tag);

/** Sends SIGKILL to child `pid` and reaps it. Returns 0 or -errno. */
int rproc_kill_and_reap(int pid);

/** pidfd_open(pid, 0) with close-on-exec. Returns the descriptor or -errno. */
int rproc_pidfd_open(int pid);

/** pidfd_send_signal(pidfd, signal). Returns 0 or -errno (ESRCH: it has exited). */
int rproc_pidfd_signal(int pidfd, int signal);

/** Status flags returned by rproc_pidfd_reap. */
#define RPROC_EXITED 0x100    /* low byte: exit code */
#define RPROC_SIGNALED 0x200  /* low byte: signal number */
#define RPROC_CORE_DUMPED 0x400

/**
 * Reaps the child behind `pidfd` if it has terminated: waitid(P_PIDFD, WEXITED | WNOHANG).
 * Returns RPROC_EXITED | code, RPROC_SIGNALED | signal (| RPROC_CORE_DUMPED), 0 while it
 * runs, or -errno (ECHILD: not our child, e.g. adopted after a host restart).
 */
int rproc_pidfd_reap(int pidfd);

#endif /* RPROC_PROCESS_SHIMS_H */
