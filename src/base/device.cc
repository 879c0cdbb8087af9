// GPU queries through the CUDA runtime (CUDA builds), or answers of a machine without one.
#include "base/device.h"

#ifdef TUTTI_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace tutti {

#ifdef TUTTI_HAVE_CUDA

int gpuDeviceCount() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      n = 0;
    }
    return n;
  }();
  return count;
}

int gpuCurrentDevice() {
  if (gpuDeviceCount() == 0) return -1;
  int d = -1;
  if (cudaGetDevice(&d) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return d;
}

Result gpuSetDevice(int device) {
  int cur = -1;
  if (cudaGetDevice(&cur) == cudaSuccess && cur == device) return tuttiSuccess;
  cudaError_t e = cudaSetDevice(device);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return setError(tuttiCudaError, "cudaSetDevice(%d) failed: %s", device, cudaGetErrorString(e));
  }
  return tuttiSuccess;
}

bool gpuIsDevicePointer(const void* ptr, int* device) {
  if (gpuDeviceCount() == 0) return false;
  cudaPointerAttributes attr;
  if (cudaPointerGetAttributes(&attr, ptr) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  if (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) {
    *device = attr.device;
    return true;
  }
  return false;
}

int64_t gpuBusId(int device) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return (static_cast<int64_t>(prop.pciDomainID) << 16) | (prop.pciBusID << 8) | prop.pciDeviceID;
}

#else  // CPU-only build

int gpuDeviceCount() { return 0; }
int gpuCurrentDevice() { return -1; }
Result gpuSetDevice(int device) {
  return setError(tuttiNotSupported, "device %d requested but this build has no CUDA support",
                  device);
}
bool gpuIsDevicePointer(const void*, int*) { return false; }
int64_t gpuBusId(int) { return -1; }

#endif

}  // namespace tutti
