/* compiler.h: attributes the SDK's inline hot path relies on. */
#ifndef RPROC_COMPILER_H
#define RPROC_COMPILER_H

/* Inline even where the compiler would rather call an out-of-line copy: a call costs the
   caller's loop its register saves, and every guest store is expensive on the emulated
   machines (docs/firmware-sdk.md). */
#define RPROC_INLINE static inline __attribute__((always_inline))

#endif
