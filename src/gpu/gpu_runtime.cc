// The core's view of CUDA (gpu_hooks.h) in CUDA builds: devices, pointer kinds, and the
// lifetime of each communicator's GpuComm.
#include <cuda_runtime.h>

#include "core/comm.h"
#include "core/gpu_hooks.h"
#include "gpu/gpu_comm.h"

namespace tutti {

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

Result gpuCommInit(tuttiComm* comm) {
  auto g = std::make_unique<GpuComm>();
  TUTTI_TRY(g->init(comm));
  comm->gpu = g.release();
  return tuttiSuccess;
}

void gpuCommDestroy(tuttiComm* comm) {
  delete comm->gpu;
  comm->gpu = nullptr;
}

void gpuCommAbort(tuttiComm* comm) {
  if (comm->gpu && comm->gpu->hostWords)
    reinterpret_cast<volatile int*>(comm->gpu->hostWords)[0] = 1;
}

Result gpuPollError(tuttiComm* comm) {
  if (!comm->gpu || !comm->gpu->hostWords) return tuttiSuccess;
  int e = reinterpret_cast<volatile int*>(comm->gpu->hostWords)[1];
  if (e == kKernelTimeout)
    return setError(tuttiTimeout, "a collective kernel waited for a peer longer than %d ms",
                    comm->timeoutMs);
  if (e == kKernelAborted && comm->gpu->deadPeer >= 0)
    return setError(tuttiRemoteError, "rank %d died while a collective kernel waited for it",
                    comm->gpu->deadPeer);
  if (e == kKernelAborted) return setError(tuttiAborted, "a collective kernel was aborted");
  return tuttiSuccess;
}

Result gpuSynchronize(tuttiComm* comm) {
  if (!comm->gpu) return tuttiSuccess;
  TUTTI_TRY(gpuSetDevice(comm->device));
  cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) {
    cudaGetLastError();
    return setError(tuttiCudaError, "cudaDeviceSynchronize failed: %s", cudaGetErrorString(e));
  }
  return gpuPollError(comm);
}

}  // namespace tutti
