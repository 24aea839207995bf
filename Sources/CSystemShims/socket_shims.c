#define _GNU_SOURCE
#include "socket_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int rproc_unix_socket(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  return fd < 0 ? -errno : fd;
}

int rproc_socket_listen(int fd, int backlog) {
  return listen(fd, backlog) < 0 ? -errno : 0;
}

int rproc_socket_accept(int fd) {
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0) return c;
    if (errno != EINTR) return -errno;
  }
}

long long rproc_peer_credential(int fd, int which) {
  struct ucred credentials;
  socklen_t length = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -errno;
  switch (which) {
  case RPROC_PEER_PID: return credentials.pid;
  case RPROC_PEER_UID: return credentials.uid;
  case RPROC_PEER_GID: return credentials.gid;
  default: return -EINVAL;
  }
}

int rproc_socket_shutdown(int fd) {
  return shutdown(fd, SHUT_RDWR) < 0 ? -errno : 0;
}

int rproc_set_nonblocking(int fd, int on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}
