// Per-communicator compression workspaces (see compression_context.h).
#include "compression/compression_context.h"

#include "compression/device_memory.h"
#include "core/comm.h"

namespace tutti {

DeviceWorkspace::~DeviceWorkspace() {
  deviceFree(device, bytes);
  deviceFree(device, floats);
}

Result DeviceWorkspace::reserve(size_t wantBytes, size_t wantFloats, tuttiStream_t stream) {
  // Stream-ordered: the old buffer is released after the calls already on the stream.
  if (wantBytes > byteCap) {
    deviceFreeAsync(bytes, stream);
    bytes = nullptr;
    byteCap = 0;
    void* p = nullptr;
    const size_t cap = wantBytes + wantBytes / 4;
    TUTTI_TRY(deviceAllocAsync(cap, stream, &p));
    bytes = static_cast<uint8_t*>(p);
    byteCap = cap;
  }
  if (wantFloats > floatCap) {
    deviceFreeAsync(floats, stream);
    floats = nullptr;
    floatCap = 0;
    void* p = nullptr;
    const size_t cap = wantFloats + wantFloats / 4;
    TUTTI_TRY(deviceAllocAsync(cap * sizeof(float), stream, &p));
    floats = static_cast<float*>(p);
    floatCap = cap;
  }
  return tuttiSuccess;
}

CompressionContext::~CompressionContext() {
  for (auto& e : shimStates) destroyCompressState(e.second.first);
}

CompressionContext& compressionContext(tuttiComm* comm) {
  if (!comm->compression) comm->compression = std::make_shared<CompressionContext>();
  return *comm->compression;
}

}  // namespace tutti
