#include "fuzz_input.h"

static const uint8_t *current;
static size_t current_size;

uint8_t rproc_fuzz_input_byte(size_t index) { return index < current_size ? current[index] : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  current = data;
  current_size = size;
  rproc_fuzz_one((ptrdiff_t)size);
  current = 0;
  current_size = 0;
  return 0;
}

/* libFuzzer's driver. SwiftPM links executables with `main` aliased to `<target>_main`
 * (for testability), and the harness has no Swift main of its own (-parse-as-library),
 * so this is the program's entry point: it hands control to libFuzzer. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *, size_t));

int FirmwareFuzzer_main(int argc, char **argv) {
  return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
