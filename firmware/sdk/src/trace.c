/* trace.c: text into the trace buffer the host reads (Linux: RSC_TRACE). */
#include "rproc/trace.h"

#include "rproc/machine.h"
#include "rproc/mem.h"

static volatile char *trace_buffer;
static uint32_t trace_size;
static uint32_t trace_at;

void rproc_trace_init(char *buffer, uint32_t size) {
#if defined(RPROC_NATIVE)
  /* The table's trace entry points at the trace area (RPROC_TRACE_RSC), not at `buffer`. */
  buffer = rproc_da_ptr(RPROC_NATIVE_TRACE_DA);
  if (size > RPROC_NATIVE_TRACE_SIZE) size = RPROC_NATIVE_TRACE_SIZE;
#endif
  trace_buffer = buffer;
  trace_size = size;
  rproc_trace_clear();
}

void rproc_trace_clear(void) {
  if (!trace_buffer) return;
  memset((void *)trace_buffer, 0, trace_size);
  trace_at = 0;
}

void rproc_trace_putc(char c) {
  if (!trace_buffer || trace_size < 2) return;
  if (trace_at + 1 >= trace_size) rproc_trace_clear(); /* keep a NUL at the end */
  trace_buffer[trace_at++] = c;
}

void rproc_trace_write(const void *data, uint32_t len) {
  const char *bytes = data;
  for (uint32_t i = 0; i < len; i++) rproc_trace_putc(bytes[i]);
}

void rproc_trace_init_at(uint32_t device_address, uint32_t size) {
  rproc_trace_init(rproc_da_ptr(device_address), size);
}

void rproc_trace_puts(const char *s) {
  while (*s) rproc_trace_putc(*s++);
}

static void put_number(uint32_t value, unsigned base, int negative, unsigned width, char pad,
                       int upper) {
  char digits[12];
  unsigned n = 0;
  const char *alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    digits[n++] = alphabet[value % base];
    value /= base;
  } while (value && n < sizeof digits);
  if (negative) {
    if (pad == '0') rproc_trace_putc('-');
    if (width) width--;
  }
  for (unsigned i = n; i < width; i++) rproc_trace_putc(pad);
  if (negative && pad != '0') rproc_trace_putc('-');
  while (n) rproc_trace_putc(digits[--n]);
}

void rproc_trace_vprintf(const char *format, va_list args) {
  for (const char *p = format; *p; p++) {
    if (*p != '%') {
      rproc_trace_putc(*p);
      continue;
    }
    p++;
    char pad = ' ';
    unsigned width = 0;
    if (*p == '0') { pad = '0'; p++; }
    while (*p >= '0' && *p <= '9') width = width * 10 + (unsigned)(*p++ - '0');
    switch (*p) {
    case 'd': {
      int v = va_arg(args, int);
      put_number(v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10, v < 0, width, pad, 0);
      break;
    }
    case 'u': put_number(va_arg(args, unsigned), 10, 0, width, pad, 0); break;
    case 'x': put_number(va_arg(args, unsigned), 16, 0, width, pad, 0); break;
    case 'X': put_number(va_arg(args, unsigned), 16, 0, width, pad, 1); break;
    case 'p':
      rproc_trace_puts("0x");
      put_number((uint32_t)(uintptr_t)va_arg(args, void *), 16, 0, 8, '0', 0);
      break;
    case 'c': rproc_trace_putc((char)va_arg(args, int)); break;
    case 's': {
      const char *s = va_arg(args, const char *);
      rproc_trace_puts(s ? s : "(null)");
      break;
    }
    case '%': rproc_trace_putc('%'); break;
    case 0: return;
    default: rproc_trace_putc('%'); rproc_trace_putc(*p); break;
    }
  }
}

void rproc_trace_printf(const char *format, ...) {
  va_list args;
  va_start(args, format);
  rproc_trace_vprintf(format, args);
  va_end(args);
}
