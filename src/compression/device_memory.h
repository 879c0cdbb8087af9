// The few CUDA memory calls compression needs, callable from host-only code: in a build
// without CUDA they report tuttiNotSupported.
#pragma once

#include <cstddef>

#include "base/error.h"
#include "tutti/tutti.h"

namespace tutti {

Result deviceAlloc(int device, size_t bytes, void** out);
// Waits for the device's pending work first, so no kernel still uses the memory.
void deviceFree(int device, void* ptr);
Result deviceZero(int device, void* ptr, size_t bytes);  // synchronous
Result deviceZeroAsync(void* ptr, size_t bytes, tuttiStream_t stream);

}  // namespace tutti
