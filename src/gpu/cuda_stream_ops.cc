// CUDA implementation of the proxy's stream operations.
#include "gpu/cuda_stream_ops.h"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <cstring>
#include <string>

namespace tutti {
namespace {

Result cudaCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "%s: %s", what, cudaGetErrorString(e));
}

Result driverCheck(CUresult r, const char* what) {
  if (r == CUDA_SUCCESS) return tuttiSuccess;
  return setError(tuttiCudaError, "%s failed with CUresult %d", what, static_cast<int>(r));
}

// The driver's stream memory operations, found through the runtime: libtutti.so must load on
// machines without a GPU driver, so it never links libcuda itself.
struct MemOps {
  PFN_cuStreamWriteValue32_v11070 write = nullptr;
  PFN_cuStreamWaitValue32_v11070 wait = nullptr;
  Result status = tuttiSuccess;
  std::string error;
};

const MemOps& memOps() {
  static const MemOps ops = [] {
    MemOps m;
    cudaDriverEntryPointQueryResult q1, q2;
    cudaError_t e1 = cudaGetDriverEntryPointByVersion(
        "cuStreamWriteValue32", reinterpret_cast<void**>(&m.write), 12000, cudaEnableDefault, &q1);
    cudaError_t e2 = cudaGetDriverEntryPointByVersion(
        "cuStreamWaitValue32", reinterpret_cast<void**>(&m.wait), 12000, cudaEnableDefault, &q2);
    if (e1 != cudaSuccess || e2 != cudaSuccess || q1 != cudaDriverEntryPointSuccess ||
        q2 != cudaDriverEntryPointSuccess || !m.write || !m.wait) {
      cudaGetLastError();
      m.status = tuttiCudaError;
      m.error = "the CUDA driver has no stream memory operations (cuStreamWaitValue32)";
    }
    return m;
  }();
  return ops;
}

class CudaStreamOps : public StreamOps {
 public:
  explicit CudaStreamOps(int device) : device_(device) {}

  Result allocPinned(size_t bytes, void** out) override {
    TUTTI_TRY(cudaCheck(cudaHostAlloc(out, bytes, cudaHostAllocPortable | cudaHostAllocMapped),
                        "cudaHostAlloc"));
    memset(*out, 0, bytes);
    return tuttiSuccess;
  }
  void freePinned(void* p) override { cudaFreeHost(p); }

  Result copy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                size_t height, bool toHost, StreamHandle s) override {
    const cudaMemcpyKind kind = toHost ? cudaMemcpyDeviceToHost : cudaMemcpyHostToDevice;
    if (height == 1)
      return cudaCheck(cudaMemcpyAsync(dst, src, width, kind, static_cast<cudaStream_t>(s)),
                       "cudaMemcpyAsync (proxy staging)");
    return cudaCheck(cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, kind,
                                       static_cast<cudaStream_t>(s)),
                     "cudaMemcpy2DAsync (proxy staging)");
  }

  Result copyDevice(void* dst, const void* src, size_t bytes, StreamHandle s) override {
    return cudaCheck(
        cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(s)),
        "cudaMemcpyAsync (self copy)");
  }

  // Host-mapped pinned memory has the same address on the device (unified addressing).
  Result writeFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) override {
    const MemOps& m = memOps();
    if (m.status != tuttiSuccess) return setError(m.status, "%s", m.error.c_str());
    return driverCheck(m.write(static_cast<CUstream>(s), reinterpret_cast<CUdeviceptr>(flag), value,
                               CU_STREAM_WRITE_VALUE_DEFAULT),
                       "cuStreamWriteValue32");
  }
  Result waitFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) override {
    const MemOps& m = memOps();
    if (m.status != tuttiSuccess) return setError(m.status, "%s", m.error.c_str());
    return driverCheck(m.wait(static_cast<CUstream>(s), reinterpret_cast<CUdeviceptr>(flag), value,
                              CU_STREAM_WAIT_VALUE_GEQ),
                       "cuStreamWaitValue32");
  }

  Result join(StreamHandle after, StreamHandle before) override {
    cudaEvent_t e;
    TUTTI_TRY(cudaCheck(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate"));
    Result r = cudaCheck(cudaEventRecord(e, static_cast<cudaStream_t>(before)), "cudaEventRecord");
    if (r == tuttiSuccess)
      r = cudaCheck(cudaStreamWaitEvent(static_cast<cudaStream_t>(after), e, 0),
                    "cudaStreamWaitEvent");
    cudaEventDestroy(e);
    return r;
  }

  Result isCapturing(StreamHandle s, bool* capturing) override {
    cudaStreamCaptureStatus st = cudaStreamCaptureStatusNone;
    TUTTI_TRY(cudaCheck(cudaStreamIsCapturing(static_cast<cudaStream_t>(s), &st),
                        "cudaStreamIsCapturing"));
    *capturing = st != cudaStreamCaptureStatusNone;
    return tuttiSuccess;
  }

  Result setDevice() override {
    int cur = -1;
    if (cudaGetDevice(&cur) == cudaSuccess && cur == device_) return tuttiSuccess;
    return cudaCheck(cudaSetDevice(device_), "cudaSetDevice");
  }

  Result synchronize() override {
    TUTTI_TRY(setDevice());
    return cudaCheck(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  }

 private:
  int device_;
};

}  // namespace

std::unique_ptr<StreamOps> makeCudaStreamOps(int device) {
  return std::make_unique<CudaStreamOps>(device);
}

}  // namespace tutti
