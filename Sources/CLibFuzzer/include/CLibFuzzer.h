// libFuzzer's driver, called from the fuzz executables' own main: SwiftPM links every executable with its module's
// main, so libFuzzer's main() cannot be used directly.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
