// Device memory: cudaMalloc'ed buffers, a created stream, CUDA-event timing and graph replay.
// Compiled only when the harness is built with CUDA (TUTTI_PERF_HAVE_CUDA).
#include <cuda_runtime.h>

#include <cstdio>

#include "harness/memory.h"

namespace tutti::perf {
namespace {

#define PERF_CUDA(call, what)                                           \
  do {                                                                  \
    cudaError_t perfErr_ = (call);                                      \
    if (perfErr_ != cudaSuccess)                                        \
      return Status::error("%s on device %d failed: %s", what, device_, \
                           cudaGetErrorString(perfErr_));               \
  } while (0)

class DeviceMemory : public Memory {
 public:
  explicit DeviceMemory(int device) : device_(device) {}
  ~DeviceMemory() override {
    cudaSetDevice(device_);
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
    if (start_) cudaEventDestroy(start_);
    if (stop_) cudaEventDestroy(stop_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  Status init() {
    PERF_CUDA(cudaSetDevice(device_), "cudaSetDevice");
    PERF_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    PERF_CUDA(cudaEventCreate(&start_), "cudaEventCreate");
    PERF_CUDA(cudaEventCreate(&stop_), "cudaEventCreate");
    cudaDeviceProp prop;
    PERF_CUDA(cudaGetDeviceProperties(&prop, device_), "cudaGetDeviceProperties");
    char buf[320];
    snprintf(buf, sizeof(buf), "device %2d [%04x:%02x:%02x.0] %s", device_, prop.pciDomainID,
             prop.pciBusID, prop.pciDeviceID, prop.name);
    description_ = buf;
    return Status::ok();
  }

  MemKind kind() const override { return MemKind::kDevice; }
  int device() const override { return device_; }
  std::string describe() const override { return description_; }
  Status activate() override {
    PERF_CUDA(cudaSetDevice(device_), "cudaSetDevice");
    return Status::ok();
  }

  Status alloc(size_t bytes, void** ptr) override {
    PERF_CUDA(cudaMalloc(ptr, bytes ? bytes : 256), "cudaMalloc");
    return Status::ok();
  }
  void release(void* ptr) override { cudaFree(ptr); }
  Status upload(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return Status::ok();
    PERF_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_), "upload");
    PERF_CUDA(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    return Status::ok();
  }
  Status download(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return Status::ok();
    PERF_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "download");
    PERF_CUDA(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    return Status::ok();
  }
  void* stream() override { return stream_; }
  Status synchronize() override {
    PERF_CUDA(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    return Status::ok();
  }

  Status startTimer() override {
    PERF_CUDA(cudaEventRecord(start_, stream_), "cudaEventRecord");
    return Status::ok();
  }
  Status stopTimer(double* seconds) override {
    PERF_CUDA(cudaEventRecord(stop_, stream_), "cudaEventRecord");
    PERF_CUDA(cudaEventSynchronize(stop_), "cudaEventSynchronize");
    float ms = 0;
    PERF_CUDA(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    *seconds = ms * 1e-3;
    return Status::ok();
  }

  Status beginCapture() override {
    if (exec_) {
      cudaGraphExecDestroy(exec_);
      exec_ = nullptr;
    }
    PERF_CUDA(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
              "cudaStreamBeginCapture");
    return Status::ok();
  }
  Status endCapture() override {
    PERF_CUDA(cudaStreamEndCapture(stream_, &graph_), "cudaStreamEndCapture");
    return Status::ok();
  }
  Status instantiateGraph() override {
    if (!graph_) return Status::error("no captured graph to instantiate");
    cudaError_t err = cudaGraphInstantiate(&exec_, graph_, 0);
    cudaGraphDestroy(graph_);
    graph_ = nullptr;
    PERF_CUDA(err, "cudaGraphInstantiate");
    return Status::ok();
  }
  void releaseGraph() override {
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
    exec_ = nullptr;
    graph_ = nullptr;
  }
  Status launchGraph() override {
    if (!exec_) return Status::error("no captured graph to launch");
    PERF_CUDA(cudaGraphLaunch(exec_, stream_), "cudaGraphLaunch");
    return Status::ok();
  }

 private:
  int device_;
  std::string description_;
  cudaStream_t stream_ = nullptr;
  cudaGraph_t graph_ = nullptr;  // captured, not yet instantiated
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace

Status makeDeviceMemory(int device, std::unique_ptr<Memory>* out) {
  auto mem = std::make_unique<DeviceMemory>(device);
  PERF_TRY(mem->init());
  *out = std::move(mem);
  return Status::ok();
}

int cudaDeviceCountOrZero() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
  return n;
}

bool builtWithCuda() { return true; }

}  // namespace tutti::perf
