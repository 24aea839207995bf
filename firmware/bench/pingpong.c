/*
 * pingpong: the baselines of `rproc bench rpmsg-process`. Two processes (a parent and a
 * forked child, each pinned to its own CPU) pass a 32-byte message back and forth and the
 * parent times every round trip:
 *   futex    shared memory; each side publishes a sequence number and FUTEX_WAKEs the other,
 *            which sleeps in FUTEX_WAIT (the floor of a sleeping doorbell)
 *   spin     shared memory; each side busy-polls the other's sequence number (the floor)
 *   socket   a Unix-domain SOCK_SEQPACKET socket pair, blocking send/recv (what users pick)
 * Usage: pingpong futex|spin|socket ROUNDS CPU_PARENT CPU_CHILD   (a CPU of -1: no pinning)
 * Prints: p50_ns=N p99_ns=N rounds=N
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 32
#define WARMUP 1000

struct shared {
  _Alignas(64) uint32_t ping;
  _Alignas(64) uint32_t pong;
  _Alignas(64) uint8_t request[PAYLOAD];
  _Alignas(64) uint8_t reply[PAYLOAD];
};

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    perror("pingpong: sched_setaffinity");
    exit(1);
  }
}

static inline void relax(void) {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static void futex_wait(uint32_t *word, uint32_t value) {
  syscall(SYS_futex, word, FUTEX_WAIT, value, NULL, NULL, 0);
}
static void futex_wake(uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0); }

/* Waits until *word == expected: sleeping on the futex, or spinning. */
static void await(uint32_t *word, uint32_t expected, int sleep) {
  for (;;) {
    uint32_t seen = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    if (seen == expected) return;
    if (sleep) futex_wait(word, seen);
    else relax();
  }
}

static void publish(uint32_t *word, uint32_t value, int sleep) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
  if (sleep) futex_wake(word);
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: pingpong futex|spin|socket ROUNDS CPU_PARENT CPU_CHILD\n");
    return 64;
  }
  const char *mode = argv[1];
  long rounds = atol(argv[2]);
  int cpu_parent = atoi(argv[3]), cpu_child = atoi(argv[4]);
  int socket_mode = !strcmp(mode, "socket"), sleep = !strcmp(mode, "futex");
  if ((!socket_mode && !sleep && strcmp(mode, "spin")) || rounds < 1) {
    fprintf(stderr, "pingpong: bad mode or rounds\n");
    return 64;
  }
  struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 1;
  memset(s, 0, sizeof *s);
  int pair[2];
  if (socket_mode && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) != 0) return 1;
  long total = rounds + WARMUP;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pin(cpu_child);
    uint8_t buffer[PAYLOAD];
    for (long i = 1; i <= total; i++) {
      if (socket_mode) {
        if (recv(pair[1], buffer, sizeof buffer, 0) != PAYLOAD) _exit(1);
        if (send(pair[1], buffer, sizeof buffer, 0) != PAYLOAD) _exit(1);
      } else {
        await(&s->ping, (uint32_t)i, sleep);
        memcpy(s->reply, s->request, PAYLOAD);
        publish(&s->pong, (uint32_t)i, sleep);
      }
    }
    _exit(0);
  }
  pin(cpu_parent);
  uint64_t *times = malloc(sizeof *times * (size_t)rounds);
  uint8_t message[PAYLOAD], answer[PAYLOAD];
  memset(message, 'x', sizeof message);
  for (long i = 1; i <= total; i++) {
    message[0] = (uint8_t)i;
    uint64_t start = now_ns();
    if (socket_mode) {
      if (send(pair[0], message, sizeof message, 0) != PAYLOAD) return 1;
      if (recv(pair[0], answer, sizeof answer, 0) != PAYLOAD) return 1;
    } else {
      memcpy(s->request, message, PAYLOAD);
      publish(&s->ping, (uint32_t)i, sleep);
      await(&s->pong, (uint32_t)i, sleep);
      memcpy(answer, s->reply, PAYLOAD);
    }
    uint64_t elapsed = now_ns() - start;
    if (answer[0] != message[0]) {
      fprintf(stderr, "pingpong: round %ld came back wrong\n", i);
      return 1;
    }
    if (i > WARMUP) times[i - WARMUP - 1] = elapsed;
  }
  int status = 0;
  waitpid(child, &status, 0);
  qsort(times, (size_t)rounds, sizeof *times, compare);
  printf("p50_ns=%llu p99_ns=%llu rounds=%ld\n", (unsigned long long)times[rounds / 2],
         (unsigned long long)times[(rounds * 99) / 100], rounds);
  return status == 0 ? 0 : 1;
}
