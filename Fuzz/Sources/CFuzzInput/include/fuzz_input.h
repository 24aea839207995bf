/* The current libFuzzer input, readable from safe Swift without pointers. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H
#include <stddef.h>
#include <stdint.h>

/** Byte `index` of the current input (0 past the end). */
uint8_t rproc_fuzz_input_byte(size_t index);

/** Implemented in Swift (FirmwareFuzzer): exercises the parsers on the current input. */
int32_t rproc_fuzz_one(ptrdiff_t count);

#endif
