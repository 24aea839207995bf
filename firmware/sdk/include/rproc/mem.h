/*
 * mem.h: copies by words. Guest byte stores cost ~60 ns each under Unicorn 2.0.1, word
 * stores the same, so aligned data moves four times faster by words.
 */
#ifndef RPROC_MEM_H
#define RPROC_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Copies n bytes; by 32-bit words when both pointers are 4-byte aligned. */
void rproc_copy(void *dst, const void *src, size_t n);
/* Copies n bytes inverting the case of ASCII letters (A-Z <-> a-z), by words when aligned. */
void rproc_copy_invert_case(void *dst, const void *src, size_t n);
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
