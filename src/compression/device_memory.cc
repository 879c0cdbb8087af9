// CUDA memory for compression states and workspaces (see device_memory.h).
#include "compression/device_memory.h"

#ifdef TUTTI_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace tutti {

#ifdef TUTTI_HAVE_CUDA
namespace {
Result cudaCheck(cudaError_t e, const char* what, size_t bytes) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "%s (%zu bytes): %s", what, bytes, cudaGetErrorString(e));
}

// Runs `fn` with `device` current, restoring the caller's device.
template <typename Fn>
Result onDevice(int device, Fn fn) {
  int prev = -1;
  cudaGetDevice(&prev);
  if (device >= 0 && prev != device) {
    cudaError_t e = cudaSetDevice(device);
    if (e != cudaSuccess) return cudaCheck(e, "cudaSetDevice", 0);
  }
  Result r = fn();
  if (device >= 0 && prev >= 0 && prev != device) cudaSetDevice(prev);
  return r;
}
}  // namespace

Result deviceAlloc(int device, size_t bytes, void** out) {
  return onDevice(device, [&] { return cudaCheck(cudaMalloc(out, bytes), "cudaMalloc", bytes); });
}

void deviceFree(int device, void* ptr) {
  if (!ptr) return;
  onDevice(device, [&] {
    cudaDeviceSynchronize();
    cudaFree(ptr);
    return tuttiSuccess;
  });
}

Result deviceZero(int device, void* ptr, size_t bytes) {
  return onDevice(device,
                  [&] { return cudaCheck(cudaMemset(ptr, 0, bytes), "cudaMemset", bytes); });
}

Result deviceZeroAsync(void* ptr, size_t bytes, tuttiStream_t stream) {
  return cudaCheck(cudaMemsetAsync(ptr, 0, bytes, static_cast<cudaStream_t>(stream)),
                   "cudaMemsetAsync", bytes);
}

Result deviceAllocAsync(size_t bytes, tuttiStream_t stream, void** out) {
  return cudaCheck(cudaMallocAsync(out, bytes, static_cast<cudaStream_t>(stream)),
                   "cudaMallocAsync", bytes);
}

void deviceFreeAsync(void* ptr, tuttiStream_t stream) {
  if (ptr) cudaFreeAsync(ptr, static_cast<cudaStream_t>(stream));
}
#else
Result deviceAlloc(int, size_t, void**) {
  return setError(tuttiNotSupported, "device memory needs a CUDA build of Tutti");
}
void deviceFree(int, void*) {}
Result deviceZero(int, void*, size_t) {
  return setError(tuttiNotSupported, "device memory needs a CUDA build of Tutti");
}
Result deviceZeroAsync(void*, size_t, tuttiStream_t) {
  return setError(tuttiNotSupported, "device memory needs a CUDA build of Tutti");
}
Result deviceAllocAsync(size_t, tuttiStream_t, void**) {
  return setError(tuttiNotSupported, "device memory needs a CUDA build of Tutti");
}
void deviceFreeAsync(void*, tuttiStream_t) {}
#endif

}  // namespace tutti
