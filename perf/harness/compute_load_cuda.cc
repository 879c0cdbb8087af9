// ComputeLoad on a CUDA device: a cuBLAS handle on its own stream and a thread that keeps
// kDepth GEMMs queued, so the stream never runs dry while the measured loop blocks. cuBLAS is
// loaded with dlopen when --compute is used, so the perf binaries do not depend on it.
#include <cublas_api.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "harness/compute_load.h"

namespace tutti::perf {
namespace {

constexpr int kDepth = 3;

// The four cuBLAS entry points used, resolved from libcublas at first use.
struct Cublas {
  cublasStatus_t (*create)(cublasHandle_t*);
  cublasStatus_t (*destroy)(cublasHandle_t);
  cublasStatus_t (*setStream)(cublasHandle_t, cudaStream_t);
  cublasStatus_t (*gemmEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                           const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                           int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                           cublasGemmAlgo_t);
};

const Cublas* loadCublas() {
  static const Cublas* lib = []() -> const Cublas* {
    void* h = nullptr;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"})
      if ((h = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!h) return nullptr;
    static Cublas c;
    c.create = reinterpret_cast<decltype(c.create)>(dlsym(h, "cublasCreate_v2"));
    c.destroy = reinterpret_cast<decltype(c.destroy)>(dlsym(h, "cublasDestroy_v2"));
    c.setStream = reinterpret_cast<decltype(c.setStream)>(dlsym(h, "cublasSetStream_v2"));
    c.gemmEx = reinterpret_cast<decltype(c.gemmEx)>(dlsym(h, "cublasGemmEx"));
    return c.create && c.destroy && c.setStream && c.gemmEx ? &c : nullptr;
  }();
  return lib;
}

class CudaComputeLoad : public ComputeLoad {
 public:
  CudaComputeLoad(int device, int n) : device_(device), n_(n) {}
  ~CudaComputeLoad() override {
    stopFeeding();
    cudaSetDevice(device_);
    if (stream_) cudaStreamSynchronize(stream_);
    if (handle_) blas_->destroy(handle_);
    for (cudaEvent_t e : done_)
      if (e) cudaEventDestroy(e);
    if (begin_) cudaEventDestroy(begin_);
    if (end_) cudaEventDestroy(end_);
    for (void* p : buf_) cudaFree(p);
    if (stream_) cudaStreamDestroy(stream_);
  }

  Status init() {
    if (cudaSetDevice(device_) != cudaSuccess) return cudaFail("cudaSetDevice");
    // Lowest priority: the collective's stream is never starved by our queue.
    int lo = 0, hi = 0;
    cudaDeviceGetStreamPriorityRange(&lo, &hi);
    if (cudaStreamCreateWithPriority(&stream_, cudaStreamNonBlocking, lo) != cudaSuccess)
      return cudaFail("cudaStreamCreate");
    const size_t bytes = static_cast<size_t>(n_) * n_ * 2;
    for (void*& p : buf_) {
      if (cudaMalloc(&p, bytes) != cudaSuccess) return cudaFail("cudaMalloc (GEMM operands)");
      cudaMemset(p, 0x3c, bytes);  // bf16 0x3c3c, about 0.0115: not zeros, which run faster
    }
    for (cudaEvent_t& e : done_)
      if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess)
        return cudaFail("cudaEventCreate");
    if (cudaEventCreate(&begin_) != cudaSuccess || cudaEventCreate(&end_) != cudaSuccess)
      return cudaFail("cudaEventCreate");
    blas_ = loadCublas();
    if (!blas_) return Status::error("--compute: cannot load libcublas.so (%s)", dlerror());
    if (blas_->create(&handle_) != CUBLAS_STATUS_SUCCESS)
      return Status::error("cublasCreate on device %d failed", device_);
    blas_->setStream(handle_, stream_);
    if (cudaStreamSynchronize(stream_) != cudaSuccess) return cudaFail("cudaStreamSynchronize");
    return Status::ok();
  }

  Status start() override {
    stopFeeding();
    issued_ = 0;
    failed_ = false;
    cudaSetDevice(device_);
    cudaEventRecord(begin_, stream_);
    stop_ = false;
    feeder_ = std::thread([this] { feed(); });
    return Status::ok();
  }

  Status stop(double* tflops) override {
    stopFeeding();
    cudaSetDevice(device_);
    cudaEventRecord(end_, stream_);
    if (cudaEventSynchronize(end_) != cudaSuccess) return cudaFail("waiting for the GEMMs");
    if (failed_) return Status::error("cublasGemmEx failed on device %d", device_);
    float ms = 0;
    cudaEventElapsedTime(&ms, begin_, end_);
    const double flops = 2.0 * n_ * n_ * static_cast<double>(n_) * issued_;
    *tflops = ms > 0 ? flops / (ms * 1e-3) / 1e12 : 0;
    return Status::ok();
  }

 private:
  Status cudaFail(const char* what) {
    cudaError_t e = cudaGetLastError();
    return Status::error("%s on device %d failed: %s", what, device_, cudaGetErrorString(e));
  }

  void stopFeeding() {
    stop_ = true;
    if (feeder_.joinable()) feeder_.join();
  }

  void feed() {
    cudaSetDevice(device_);
    const float alpha = 1.0f, beta = 0.0f;
    while (!stop_.load()) {
      cudaEvent_t& slot = done_[issued_ % kDepth];
      if (issued_ >= kDepth && cudaEventQuery(slot) == cudaErrorNotReady) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        continue;
      }
      if (blas_->gemmEx(handle_, CUBLAS_OP_N, CUBLAS_OP_N, n_, n_, n_, &alpha, buf_[0], CUDA_R_16BF,
                        n_, buf_[1], CUDA_R_16BF, n_, &beta, buf_[2], CUDA_R_16BF, n_,
                        CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT) != CUBLAS_STATUS_SUCCESS) {
        failed_ = true;
        return;
      }
      cudaEventRecord(slot, stream_);
      ++issued_;
    }
  }

  int device_;
  int n_;
  cudaStream_t stream_ = nullptr;
  const Cublas* blas_ = nullptr;
  cublasHandle_t handle_ = nullptr;
  void* buf_[3] = {nullptr, nullptr, nullptr};
  cudaEvent_t done_[kDepth] = {};
  cudaEvent_t begin_ = nullptr;
  cudaEvent_t end_ = nullptr;
  std::thread feeder_;
  std::atomic<bool> stop_{true};
  std::atomic<bool> failed_{false};
  long issued_ = 0;  // written by the feeder, read after it joined
};

}  // namespace

Status makeComputeLoad(int device, int n, std::unique_ptr<ComputeLoad>* out) {
  auto load = std::make_unique<CudaComputeLoad>(device, n);
  PERF_TRY(load->init());
  *out = std::move(load);
  return Status::ok();
}

}  // namespace tutti::perf
