// StreamOps with streams emulated by host threads: each stream runs its operations in order on
// its own thread, and "device memory" is ordinary host memory. CI has no GPU; this lets it run
// the proxy executor's real pipeline (chunking, flags, double buffering, several streams,
// failures) over real transports.
#pragma once

#include <memory>
#include <vector>

#include "proxy/stream_ops.h"

namespace tutti::testing {

class HostStreamOps : public StreamOps {
 public:
  HostStreamOps();
  ~HostStreamOps() override;

  // A new stream (owned by this object).
  StreamHandle newStream();
  // Waits until every operation enqueued on `s` so far has run.
  void sync(StreamHandle s);
  // Makes isCapturing() report `s` as capturing a graph.
  void setCapturing(StreamHandle s, bool capturing);

  Result allocPinned(size_t bytes, void** out) override;
  void freePinned(void* p) override;
  Result copy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                size_t height, bool toHost, StreamHandle s) override;
  Result copyDevice(void* dst, const void* src, size_t bytes, StreamHandle s) override;
  Result writeFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) override;
  Result waitFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) override;
  Result join(StreamHandle after, StreamHandle before) override;
  Result isCapturing(StreamHandle s, bool* capturing) override;
  Result setDevice() override { return tuttiSuccess; }
  Result synchronize() override;

  struct Stream;  // host_stream_ops.cc

 private:
  std::vector<std::unique_ptr<Stream>> streams_;
};

}  // namespace tutti::testing
