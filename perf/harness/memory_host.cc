// Host memory: plain aligned allocations, host-clock timing; the stubs of the device path when
// the harness is built without CUDA.
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "harness/memory.h"

namespace tutti::perf {
namespace {

class HostMemory : public Memory {
 public:
  MemKind kind() const override { return MemKind::kHost; }
  int device() const override { return -1; }
  std::string describe() const override { return "host memory"; }
  Status activate() override { return Status::ok(); }

  Status alloc(size_t bytes, void** ptr) override {
    void* p = nullptr;
    // 4 KiB alignment, and at least one page so that zero-byte buffers are distinct pointers.
    if (posix_memalign(&p, 4096, bytes ? bytes : 4096) != 0)
      return Status::error("could not allocate %zu bytes of host memory", bytes);
    *ptr = p;
    return Status::ok();
  }
  void release(void* ptr) override { free(ptr); }
  Status upload(void* dst, const void* src, size_t bytes) override {
    if (bytes) memcpy(dst, src, bytes);
    return Status::ok();
  }
  Status download(void* dst, const void* src, size_t bytes) override {
    if (bytes) memcpy(dst, src, bytes);
    return Status::ok();
  }
  void* stream() override { return nullptr; }
  Status synchronize() override { return Status::ok(); }

  Status startTimer() override {
    start_ = std::chrono::steady_clock::now();
    return Status::ok();
  }
  Status stopTimer(double* seconds) override {
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return Status::ok();
  }

  Status beginCapture() override {
    return Status::error("CUDA graphs need device memory (--mem device)");
  }
  Status endCapture() override { return beginCapture(); }
  Status launchGraph() override { return beginCapture(); }
  void releaseGraph() override {}

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

std::unique_ptr<Memory> makeHostMemory() { return std::make_unique<HostMemory>(); }

#ifndef TUTTI_PERF_HAVE_CUDA
Status makeDeviceMemory(int device, std::unique_ptr<Memory>* out) {
  return Status::error("this build of the perf harness has no CUDA support (--mem device)");
}
int cudaDeviceCountOrZero() { return 0; }
bool builtWithCuda() { return false; }
#endif

}  // namespace tutti::perf
