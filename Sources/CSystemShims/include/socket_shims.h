/*
 * UNIX-domain stream sockets for rprocd and its clients, integer-only like the rest of this
 * module (binding and connecting take a path, so they live in SharedMemory's
 * FileDescriptorIO). Errors are returned as -errno; EINTR is retried inside.
 */
#ifndef RPROC_SOCKET_SHIMS_H
#define RPROC_SOCKET_SHIMS_H

/** socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0): the descriptor or -errno. */
int rproc_unix_socket(void);

/** listen(2). Returns 0 or -errno. */
int rproc_socket_listen(int fd, int backlog);

/** accept4(fd, NULL, NULL, SOCK_CLOEXEC): the connection's descriptor or -errno. */
int rproc_socket_accept(int fd);

/** Which field of the peer's credentials rproc_peer_credential returns. */
#define RPROC_PEER_PID 0
#define RPROC_PEER_UID 1
#define RPROC_PEER_GID 2

/**
 * One field of the connected peer's credentials (getsockopt SO_PEERCRED: the process that
 * connected, as the kernel saw it then; it cannot be forged). The value or -errno.
 */
long long rproc_peer_credential(int fd, int which);

/** shutdown(fd, SHUT_RDWR): wakes a thread blocked reading or writing it. 0 or -errno. */
int rproc_socket_shutdown(int fd);

/** Sets or clears O_NONBLOCK. Returns 0 or -errno. */
int rproc_set_nonblocking(int fd, int on);

#endif /* RPROC_SOCKET_SHIMS_H */
