#define _GNU_SOURCE
#include "process_shims.h"

#include <host_cpus.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* ------------------------------------------------------------------ spawning ---------- */

struct spawn_request {
  int exec_fd, memfd, memfd_target, die_with_host, argv_tag;
  uint64_t cpus[RPROC_CPU_WORDS];
  int result;
  int done;
};

static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t spawn_posted = PTHREAD_COND_INITIALIZER;
static pthread_cond_t spawn_finished = PTHREAD_COND_INITIALIZER;
static struct spawn_request *spawn_pending;
static int spawner_started;

/* The child, between fork and exec: only async-signal-safe calls. Never returns. */
static void child(const struct spawn_request *r, char *const argv[], char *const envp[],
                  int report_fd) {
  int error = 0;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < 65; s++) {
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL);
  }
  if (r->die_with_host) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) error = errno;
    if (getppid() == 1) _exit(127); /* the host is already gone */
  }
  setsid();
  int any = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu = 0; cpu < RPROC_MAX_CPUS; cpu++) {
    if (r->cpus[cpu / 64] >> (cpu % 64) & 1u) {
      CPU_SET(cpu, &set);
      any = 1;
    }
  }
  if (!error && any && sched_setaffinity(0, sizeof set, &set) != 0) error = errno;
  /* Move the two descriptors we keep above every target first, then into place. */
  int exec_fd = r->exec_fd, memfd = r->memfd;
  if (!error && memfd != r->memfd_target) {
    if (exec_fd == r->memfd_target || report_fd == r->memfd_target) {
      int moved = fcntl(r->memfd_target, F_DUPFD_CLOEXEC, r->memfd_target + 1);
      if (moved < 0) error = errno;
      if (exec_fd == r->memfd_target) exec_fd = moved;
      else report_fd = moved;
    }
    if (!error && dup2(memfd, r->memfd_target) < 0) error = errno;
  } else if (!error && fcntl(memfd, F_SETFD, 0) != 0) {
    error = errno;
  }
  if (!error) {
    /* Close everything from 3 up except the memfd, the image and the report pipe. */
    int keep[3] = {r->memfd_target, exec_fd, report_fd};
    for (int i = 0; i < 3; i++) /* sort the three */
      for (int j = i + 1; j < 3; j++)
        if (keep[j] < keep[i]) { int t = keep[i]; keep[i] = keep[j]; keep[j] = t; }
    unsigned first = 3;
    for (int i = 0; i < 3; i++) {
      if ((unsigned)keep[i] > first) syscall(SYS_close_range, first, (unsigned)keep[i] - 1, 0);
      if ((unsigned)keep[i] + 1 > first) first = (unsigned)keep[i] + 1;
    }
    syscall(SYS_close_range, first, ~0U, 0);
    if (fcntl(report_fd, F_SETFD, FD_CLOEXEC) != 0) error = errno;
  }
  if (!error) {
    syscall(SYS_execveat, exec_fd, "", argv, envp, AT_EMPTY_PATH);
    error = errno;
  }
  while (write(report_fd, &error, sizeof error) < 0 && errno == EINTR) {
  }
  _exit(127);
}

static int spawn_now(const struct spawn_request *r) {
  char tag[32], fd_env[64];
  snprintf(tag, sizeof tag, "remoteproc-%d", r->argv_tag);
  snprintf(fd_env, sizeof fd_env, "RPROC_SHM_FD=%d", r->memfd_target);
  char *argv[] = {tag, NULL};
  size_t count = 0;
  while (environ && environ[count]) count++;
  char **envp = calloc(count + 2, sizeof *envp);
  if (!envp) return -ENOMEM;
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    if (strncmp(environ[i], "RPROC_SHM_FD=", 13) != 0) envp[n++] = environ[i];
  }
  envp[n++] = fd_env;
  envp[n] = NULL;

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    int error = errno;
    free(envp);
    return -error;
  }
  pid_t pid = fork();
  if (pid == 0) child(r, argv, envp, report[1]);
  int error = pid < 0 ? errno : 0;
  close(report[1]);
  free(envp);
  if (pid < 0) {
    close(report[0]);
    return -error;
  }
  int child_error = 0;
  ssize_t got;
  do got = read(report[0], &child_error, sizeof child_error);
  while (got < 0 && errno == EINTR);
  close(report[0]);
  if (got == (ssize_t)sizeof child_error) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return -(child_error ? child_error : EIO);
  }
  return pid;
}

static void *spawner(void *unused) {
  (void)unused;
  pthread_mutex_lock(&spawn_lock);
  for (;;) {
    while (!spawn_pending) pthread_cond_wait(&spawn_posted, &spawn_lock);
    struct spawn_request *r = spawn_pending;
    spawn_pending = NULL;
    pthread_mutex_unlock(&spawn_lock);
    int result = spawn_now(r);
    pthread_mutex_lock(&spawn_lock);
    r->result = result;
    r->done = 1;
    pthread_cond_broadcast(&spawn_finished);
  }
  return NULL;
}

int rproc_spawn_firmware(int exec_fd, int memfd, int memfd_target, uint64_t cpus0,
                         uint64_t cpus1, uint64_t cpus2, uint64_t cpus3, int die_with_host,
                         int argv_tag) {
  if (exec_fd < 0 || memfd < 0 || memfd_target < 3 || memfd_target >= 1024) return -EINVAL;
  struct spawn_request request = {
      .exec_fd = exec_fd, .memfd = memfd, .memfd_target = memfd_target,
      .die_with_host = die_with_host, .argv_tag = argv_tag,
      .cpus = {cpus0, cpus1, cpus2, cpus3}, .result = 0, .done = 0};
  pthread_mutex_lock(&spawn_lock);
  if (!spawner_started) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int error = pthread_create(&thread, &attributes, spawner, NULL);
    pthread_attr_destroy(&attributes);
    if (error) {
      pthread_mutex_unlock(&spawn_lock);
      return -error;
    }
    spawner_started = 1;
  }
  while (spawn_pending) pthread_cond_wait(&spawn_finished, &spawn_lock);
  spawn_pending = &request;
  pthread_cond_signal(&spawn_posted);
  while (!request.done) pthread_cond_wait(&spawn_finished, &spawn_lock);
  pthread_mutex_unlock(&spawn_lock);
  return request.result;
}

/* ------------------------------------------------------------------ watching ---------- */

int rproc_kill_and_reap(int pid) {
  if (kill(pid, SIGKILL) != 0) return -errno;
  while (waitpid(pid, NULL, 0) < 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
}

int rproc_pidfd_open(int pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return -errno;
  if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) != 0) {
    int error = errno;
    close((int)fd);
    return -error;
  }
  return (int)fd;
}

int rproc_pidfd_signal(int pidfd, int signal) {
  return syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0) == 0 ? 0 : -errno;
}

int rproc_pidfd_reap(int pidfd) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  int r;
  do r = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  if (info.si_pid == 0) return 0;
  switch (info.si_code) {
  case CLD_EXITED: return RPROC_EXITED | (info.si_status & 0xFF);
  case CLD_DUMPED: return RPROC_SIGNALED | RPROC_CORE_DUMPED | (info.si_status & 0xFF);
  default: return RPROC_SIGNALED | (info.si_status & 0xFF);
  }
}
