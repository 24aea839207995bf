/*
 * mem.h: copies by words. Every guest store costs ~100 ns under Unicorn 2.0.1 whatever its
 * width (docs/benchmarks.md), so aligned data moves four times faster by words; the copies
 * are inline so that a caller's hot path stays free of calls and register saves.
 */
#ifndef RPROC_MEM_H
#define RPROC_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* A 32-bit word that may alias any object: the inline copies move bytes of any type, and the
   native machine builds with strict aliasing. */
typedef uint32_t __attribute__((may_alias)) rproc_word;

RPROC_INLINE int rproc_aligned4(const void *a, const void *b) {
  return (((uintptr_t)a | (uintptr_t)b) & 3u) == 0;
}

/* Copies n bytes; by 32-bit words when both pointers are 4-byte aligned. */
RPROC_INLINE void rproc_copy(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (rproc_aligned4(d, s)) {
    for (; n >= 4; n -= 4, d += 4, s += 4) *(rproc_word *)d = *(const rproc_word *)s;
  }
  while (n--) *d++ = *s++;
}

/* Flips bit 5 of every byte of `w` that is an ASCII letter, four bytes at once (SWAR; any
   byte order): a byte is a letter when it is below 0x80 and (byte | 0x20) is in 'a'...'z'. */
RPROC_INLINE uint32_t rproc_invert_case_word(uint32_t w) {
  uint32_t lower = w | 0x20202020u;
  uint32_t low7 = lower & 0x7F7F7F7Fu;
  uint32_t at_least_a = low7 + 0x1F1F1F1Fu;  /* high bit set where low7 >= 'a' (0x61) */
  uint32_t above_z = low7 + 0x05050505u;     /* high bit set where low7 > 'z' (0x7A) */
  uint32_t letter = at_least_a & ~above_z & ~lower & 0x80808080u;
  return w ^ (letter >> 2);
}

/* Copies n bytes inverting the case of ASCII letters (A-Z <-> a-z), by words when aligned. */
RPROC_INLINE void rproc_copy_invert_case(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (rproc_aligned4(d, s)) {
    for (; n >= 4; n -= 4, d += 4, s += 4)
      *(rproc_word *)d = rproc_invert_case_word(*(const rproc_word *)s);
  }
  for (; n; n--) {
    uint8_t c = *s++;
    uint8_t lower = c | 0x20u;
    *d++ = (lower >= 'a' && lower <= 'z') ? (uint8_t)(c ^ 0x20u) : c;
  }
}
size_t rproc_strlen(const char *s);
int rproc_strncmp(const char *a, const char *b, size_t n);
/* Copies a NUL-terminated name into a fixed field of `size` bytes, NUL-padded. */
void rproc_copy_name(char *dst, const char *src, size_t size);

/* The freestanding compiler may call these for struct copies and initializers (the C
   library's on the native machine). */
#if defined(RPROC_NATIVE)
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif

#endif
