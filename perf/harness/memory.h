// Memory: where one rank's buffers live (host, or one CUDA device with its stream) and how the
// harness times operations there (host clock, or CUDA events; CUDA graph capture/replay).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "harness/status.h"

namespace tutti::perf {

enum class MemKind { kHost, kDevice };

class Memory {
 public:
  virtual ~Memory() = default;
  virtual MemKind kind() const = 0;
  virtual int device() const = 0;            // -1 for host memory
  virtual std::string describe() const = 0;  // "host" or "[0000:07:00.0] NVIDIA H200"
  virtual Status activate() = 0;             // makes the device current on this thread

  virtual Status alloc(size_t bytes, void** ptr) = 0;
  virtual void release(void* ptr) = 0;
  virtual Status upload(void* dst, const void* hostSrc, size_t bytes) = 0;
  virtual Status download(void* hostDst, const void* src, size_t bytes) = 0;

  virtual void* stream() = 0;  // nullptr for host memory
  virtual Status synchronize() = 0;

  // Marks the start of a timed region on the stream, then its end: *seconds is the time between.
  virtual Status startTimer() = 0;
  virtual Status stopTimer(double* seconds) = 0;

  // CUDA graphs (device memory only): capture what is issued on stream() between the two calls,
  // then replay it.
  virtual Status beginCapture() = 0;
  virtual Status endCapture() = 0;
  // After every local rank's endCapture: one thread that captured several ranks' streams
  // cannot instantiate a graph while another of its streams is still capturing.
  virtual Status instantiateGraph() { return Status::ok(); }
  virtual Status launchGraph() = 0;
  // Frees the captured graph (before the communicator goes away).
  virtual void releaseGraph() = 0;
};

std::unique_ptr<Memory> makeHostMemory();
// Device `device`, with a created stream. Fails when the harness was built without CUDA.
Status makeDeviceMemory(int device, std::unique_ptr<Memory>* out);
// Usable CUDA devices (0 without CUDA or GPU). Initialises CUDA: never call before fork().
int cudaDeviceCountOrZero();
bool builtWithCuda();

}  // namespace tutti::perf
