/* mem.c: word-sized copies and the few string helpers freestanding firmware needs. */
#include "rproc/mem.h"

static int aligned4(const void *a, const void *b) {
  return (((uintptr_t)a | (uintptr_t)b) & 3u) == 0;
}

void rproc_copy(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (aligned4(d, s)) {
    for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = *(const uint32_t *)s;
  }
  while (n--) *d++ = *s++;
}

/* Flips bit 5 of every byte that is an ASCII letter; works on any byte position. */
static uint32_t invert_word(uint32_t w) {
  uint32_t mask = 0;
  for (unsigned shift = 0; shift < 32; shift += 8) {
    uint32_t lower = ((w >> shift) & 0xFFu) | 0x20u;
    if (lower >= 'a' && lower <= 'z') mask |= 0x20u << shift;
  }
  return w ^ mask;
}

void rproc_copy_invert_case(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (aligned4(d, s)) {
    for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)d = invert_word(*(const uint32_t *)s);
  }
  for (; n; n--) {
    uint8_t c = *s++;
    uint8_t lower = c | 0x20u;
    *d++ = (lower >= 'a' && lower <= 'z') ? (uint8_t)(c ^ 0x20u) : c;
  }
}

size_t rproc_strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int rproc_strncmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++) {
    if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
    if (!*a) return 0;
  }
  return 0;
}

void rproc_copy_name(char *dst, const char *src, size_t size) {
  size_t i = 0;
  for (; i + 1 < size && src[i]; i++) dst[i] = src[i];
  for (; i < size; i++) dst[i] = 0;
}

#if !defined(RPROC_NATIVE) /* the C library provides them to a native process */
void *memcpy(void *dst, const void *src, size_t n) {
  rproc_copy(dst, src, n);
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  while (n--) d[n] = s[n];
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  uint8_t *d = dst;
  uint32_t word = (uint8_t)c * 0x01010101u;
  while (n && ((uintptr_t)d & 3u)) { *d++ = (uint8_t)c; n--; }
  for (; n >= 4; n -= 4, d += 4) *(uint32_t *)d = word;
  while (n--) *d++ = (uint8_t)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = a, *y = b;
  for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
  return 0;
}
#endif
