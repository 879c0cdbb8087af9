// Per-communicator compression state: host workspaces of the compressed collectives, device
// workspaces per stream, and the error-feedback states the NCCL shim keeps per buffer. Hangs
// off tuttiComm::compression and dies with the communicator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "base/error.h"
#include "compression/compress_state.h"
#include "tutti/tutti.h"

struct tuttiComm;

namespace tutti {

// Device buffers of compressed calls on one stream (stream order keeps their uses apart).
struct DeviceWorkspace {
  int device = -1;
  uint8_t* bytes = nullptr;  // encoded segments: send | recv | gather
  size_t byteCap = 0;
  float* floats = nullptr;  // reduced shard in fp32, top-k sums, a node's sum
  size_t floatCap = 0;
  uint8_t* raw = nullptr;  // exact values moved between ranks of one node (inter-node-only mode)
  size_t rawCap = 0;
  ~DeviceWorkspace();
  // Grows the buffers to `bytes` bytes, `floats` floats and `raw` bytes, stream-ordered on
  // `stream` (no host wait).
  Result reserve(size_t bytes, size_t floats, tuttiStream_t stream, size_t raw = 0);
};

struct CompressionContext {
  ~CompressionContext();

  // Host workspaces, grown on demand.
  std::vector<uint8_t> send, recv, gather;
  std::vector<float> work, decoded, acc;
  std::vector<char> stage;  // raw input or output bytes moved between ranks of one node

  std::map<tuttiStream_t, std::unique_ptr<DeviceWorkspace>> device;

  // Shim: one state per (buffer, count, dtype, memory kind), oldest dropped past a cap.
  using ShimKey = std::tuple<const void*, size_t, int, bool>;
  std::map<ShimKey, std::pair<CompressState*, uint64_t>> shimStates;  // state, last use
  uint64_t shimClock = 0;
};

// The communicator's context, created on first use.
CompressionContext& compressionContext(tuttiComm* comm);

}  // namespace tutti
