// Declarations only; the driver comes from clang's libFuzzer runtime (-sanitize=fuzzer).
#include "CLibFuzzer.h"
