// What the proxy executor needs from a device and its streams: pinned host memory, copies
// between device and pinned memory in stream order, and 32-bit flags in pinned memory that a
// stream writes and waits on. The CUDA implementation (src/gpu/cuda_stream_ops.cc) uses
// cudaMemcpy2DAsync and cuStreamWriteValue32 / cuStreamWaitValue32; tests drive the same proxy
// code with streams emulated by host threads. Nothing here blocks the calling thread except
// synchronize().
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/error.h"

namespace tutti {

using StreamHandle = void*;  // cudaStream_t in CUDA builds

class StreamOps {
 public:
  virtual ~StreamOps() = default;
  // Pinned host memory the device reads and writes (staging, flags), zeroed.
  virtual Result allocPinned(size_t bytes, void** out) = 0;
  virtual void freePinned(void* p) = 0;
  // `height` rows of `width` bytes, row starts `dpitch` / `spitch` apart; one side is device
  // memory and the other pinned memory (toHost says which way).
  virtual Result copy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                        size_t height, bool toHost, StreamHandle s) = 0;
  // Device to device (a rank's messages to itself).
  virtual Result copyDevice(void* dst, const void* src, size_t bytes, StreamHandle s) = 0;
  // *flag = value once everything before it on the stream has completed, with its writes
  // visible to the host before the flag.
  virtual Result writeFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) = 0;
  // Work after it on the stream waits until (int32_t)(*flag - value) >= 0 (a cyclic >=).
  virtual Result waitFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) = 0;
  // `after` waits for everything enqueued on `before` so far.
  virtual Result join(StreamHandle after, StreamHandle before) = 0;
  // Whether `s` is capturing a CUDA graph (the proxy cannot be captured).
  virtual Result isCapturing(StreamHandle s, bool* capturing) = 0;
  // Makes this thread's device the executor's (the enqueue path's stream calls need it).
  virtual Result setDevice() = 0;
  // Waits for every stream of the device (tuttiCommFinalize).
  virtual Result synchronize() = 0;
};

}  // namespace tutti
