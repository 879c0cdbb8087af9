// Loads every kernel of a CUDA module up front. Under lazy module loading (CUDA's default) the
// first launch of a kernel may wait for the whole context to go idle; with several ranks in
// one process (-g N, tuttiCommInitAll), a stream that waits for a peer whose kernels are not
// launched yet never goes idle, so that first launch never returns (kernels/launch.h).
#pragma once

#include "base/error.h"

namespace tutti {

// Loads every function of the module (one .cu file) that holds `kernel`, a __global__
// function's address. Drivers older than CUDA 12.4 cannot enumerate a module: then only
// `kernel` itself is loaded and the call says so at INFO.
Result preloadModuleOf(const void* kernel, const char* what);

}  // namespace tutti
