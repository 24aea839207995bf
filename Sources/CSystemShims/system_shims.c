#define _GNU_SOURCE
#include "system_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int rproc_poll_readable(int fd, int other_fd, int timeout_ms) {
  struct pollfd fds[2] = {
      {.fd = fd, .events = POLLIN},
      {.fd = other_fd, .events = POLLIN},
  };
  nfds_t count = other_fd >= 0 ? 2 : 1;
  for (;;) {
    int r = poll(fds, count, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -errno;
    int mask = 0;
    if (fds[0].revents) mask |= RPROC_POLL_FIRST;
    if (count == 2 && fds[1].revents) mask |= RPROC_POLL_SECOND;
    return mask;
  }
}

int rproc_openpty(void) {
  int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return -errno;
  if (grantpt(fd) != 0 || unlockpt(fd) != 0) {
    int error = errno;
    close(fd);
    return -error;
  }
  return fd;
}

int rproc_ptsnumber(int fd) {
  unsigned int number = 0;
  if (ioctl(fd, TIOCGPTN, &number) != 0) return -errno;
  return (int)number;
}

int rproc_make_raw(int fd) {
  struct termios attributes;
  if (tcgetattr(fd, &attributes) != 0) return -errno;
  cfmakeraw(&attributes);
  attributes.c_cc[VMIN] = 1;
  attributes.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &attributes) != 0) return -errno;
  return 0;
}

int rproc_is_raw(int fd) {
  struct termios attributes;
  if (tcgetattr(fd, &attributes) != 0) return -errno;
  int cooked = (attributes.c_lflag & (ECHO | ICANON | ISIG | IEXTEN)) != 0 ||
               (attributes.c_oflag & OPOST) != 0 || (attributes.c_cflag & CSIZE) != CS8;
  return cooked ? 0 : 1;
}

int rproc_wake_create(void) {
  int fd = eventfd(0, EFD_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}

int rproc_wake_signal(int fd) {
  uint64_t one = 1;
  for (;;) {
    ssize_t r = write(fd, &one, sizeof one);
    if (r == (ssize_t)sizeof one) return 0;
    if (r < 0 && errno == EINTR) continue;
    return r < 0 ? -errno : -EIO;
  }
}
