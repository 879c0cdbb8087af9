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
// Stream-ordered allocation and release (cudaMallocAsync / cudaFreeAsync): no host wait, so a
// thread driving several ranks never blocks on one rank's kernel waiting for another's, and
// CUDA graph capture records them. Memory from deviceAllocAsync may also go to deviceFree.
Result deviceAllocAsync(size_t bytes, tuttiStream_t stream, void** out);
void deviceFreeAsync(void* ptr, tuttiStream_t stream);

}  // namespace tutti
