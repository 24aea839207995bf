/* mem.c: word-sized copies and the few string helpers freestanding firmware needs. */
#include "rproc/mem.h"

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
