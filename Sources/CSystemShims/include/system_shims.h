/*
 * System calls the daemon's building blocks need whose C interfaces take pointers (poll's
 * array, termios, the TIOCGPTN out-parameter), wrapped so that every function here takes and
 * returns integers only. Calling them is therefore safe Swift, and the targets that use them
 * (SysfsFilesystem, PseudoTerminal) stay free of `unsafe`. Errors are returned as -errno.
 */
#ifndef RPROC_SYSTEM_SHIMS_H
#define RPROC_SYSTEM_SHIMS_H

/** poll(2) result bit: `fd` is readable, or has an error or hang-up to report. */
#define RPROC_POLL_FIRST 1
/** poll(2) result bit: `other_fd` is readable, or has an error or hang-up to report. */
#define RPROC_POLL_SECOND 2

/**
 * Waits until `fd` or `other_fd` (ignored when negative) is readable.
 * timeout_ms < 0 waits forever. Returns a mask of RPROC_POLL_FIRST / RPROC_POLL_SECOND,
 * 0 on timeout, or -errno (EINTR is retried inside).
 */
int rproc_poll_readable(int fd, int other_fd, int timeout_ms);

/**
 * Opens a new pseudo-terminal master: posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), grantpt,
 * unlockpt. Returns the master descriptor or -errno.
 */
int rproc_openpty(void);

/** The number N of the slave /dev/pts/N of master `fd` (ioctl TIOCGPTN), or -errno. */
int rproc_ptsnumber(int fd);

/**
 * Puts the terminal `fd` in raw mode (cfmakeraw: no echo, no line editing, no signals, no
 * output processing, 8-bit characters; VMIN 1, VTIME 0). Returns 0 or -errno.
 */
int rproc_make_raw(int fd);

/** Whether terminal `fd` is in raw mode as rproc_make_raw sets it: 1, 0, or -errno. */
int rproc_is_raw(int fd);

/** A wake-up descriptor: eventfd(0, EFD_CLOEXEC). Returns it or -errno. */
int rproc_wake_create(void);

/** Makes a wake-up descriptor readable (adds 1 to the eventfd). Returns 0 or -errno. */
int rproc_wake_signal(int fd);

#endif /* RPROC_SYSTEM_SHIMS_H */
