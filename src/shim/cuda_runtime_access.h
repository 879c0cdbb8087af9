// The few CUDA runtime calls the shim makes itself (ncclMemAlloc/Free, device-resident
// PreMulSum scalars, memory-kind queries): linked in CUDA builds, dlopen'ed otherwise.
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace tutti::shim {

struct CudaRuntime {
  bool available = false;
  std::string whyUnavailable;  // the sentence to report when !available
  cudaError_t (*malloc)(void**, size_t) = nullptr;
  cudaError_t (*free)(void*) = nullptr;
  cudaError_t (*pointerGetAttributes)(cudaPointerAttributes*, const void*) = nullptr;
  cudaError_t (*memcpyAsync)(void*, const void*, size_t, cudaMemcpyKind, cudaStream_t) = nullptr;
  cudaError_t (*streamSynchronize)(cudaStream_t) = nullptr;
  cudaError_t (*streamIsCapturing)(cudaStream_t, cudaStreamCaptureStatus*) = nullptr;
  cudaError_t (*getLastError)() = nullptr;
  const char* (*getErrorString)(cudaError_t) = nullptr;
};

// Resolved once; never null.
const CudaRuntime& cudaRuntime();

// True when `ptr` is device or managed memory as the CUDA runtime sees it; false for host
// memory and whenever no CUDA runtime or device is present.
bool isDeviceMemory(const void* ptr);

}  // namespace tutti::shim
