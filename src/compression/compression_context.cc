// Per-communicator compression workspaces (see compression_context.h).
#include "compression/compression_context.h"

#include "compression/device_memory.h"
#include "core/comm.h"

namespace tutti {

DeviceWorkspace::~DeviceWorkspace() {
  deviceFree(device, bytes);
  deviceFree(device, floats);
  deviceFree(device, raw);
}

namespace {

// Grows *buf to hold `want` elements (a quarter more, so that slowly growing calls do not
// reallocate every time). Stream-ordered: the old buffer is released after the calls already on
// the stream.
template <typename T>
Result grow(T** buf, size_t* cap, size_t want, tuttiStream_t stream) {
  if (want <= *cap) return tuttiSuccess;
  deviceFreeAsync(*buf, stream);
  *buf = nullptr;
  *cap = 0;
  void* p = nullptr;
  const size_t n = want + want / 4;
  TUTTI_TRY(deviceAllocAsync(n * sizeof(T), stream, &p));
  *buf = static_cast<T*>(p);
  *cap = n;
  return tuttiSuccess;
}

}  // namespace

Result DeviceWorkspace::reserve(size_t wantBytes, size_t wantFloats, tuttiStream_t stream,
                                size_t wantRaw) {
  TUTTI_TRY(grow(&bytes, &byteCap, wantBytes, stream));
  TUTTI_TRY(grow(&floats, &floatCap, wantFloats, stream));
  return grow(&raw, &rawCap, wantRaw, stream);
}

CompressionContext::~CompressionContext() {
  for (auto& e : shimStates) destroyCompressState(e.second.first);
}

CompressionContext& compressionContext(tuttiComm* comm) {
  if (!comm->compression) comm->compression = std::make_shared<CompressionContext>();
  return *comm->compression;
}

}  // namespace tutti
