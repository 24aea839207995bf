/*
 * trace.h: printing into the trace buffer the resource table publishes (Linux: a
 * RSC_TRACE entry, read by the host as NUL-terminated text).
 *
 * Declare the buffer with RPROC_TRACE_BUFFER(name, size), point a trace entry at it
 * (RPROC_TRACE_RSC in resource_table.h) and call rproc_trace_init(name, size). Text is
 * appended; when the buffer is full it starts again from the beginning, cleared.
 */
#ifndef RPROC_TRACE_H
#define RPROC_TRACE_H

#include <stdarg.h>
#include <stdint.h>

#define RPROC_TRACE_BUFFER(name, size) char name[size] __attribute__((aligned(8)))

void rproc_trace_init(char *buffer, uint32_t size);
void rproc_trace_clear(void);
void rproc_trace_putc(char c);
/* Appends `len` bytes (for callers without NUL-terminated strings, such as Swift). */
void rproc_trace_write(const void *data, uint32_t len);
/* rproc_trace_init for a buffer given by its device address. */
void rproc_trace_init_at(uint32_t device_address, uint32_t size);
void rproc_trace_puts(const char *s);
/* printf subset: %s %c %d %u %x %X %p, width and zero padding (%08x), %%. */
void rproc_trace_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
void rproc_trace_vprintf(const char *format, va_list args);

#endif
