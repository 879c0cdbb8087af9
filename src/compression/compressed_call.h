// One validated compressed collective on its way to the host or device algorithm.
#pragma once

#include <cstddef>

#include "base/error.h"
#include "compression/compress_state.h"
#include "kernels/codecs/codec_layout.h"
#include "tutti/tutti.h"

struct tuttiComm;

namespace tutti {

enum class CompressedKind { kAllReduce, kReduceScatter, kAllGather };

struct CompressedCall {
  CompressedKind kind = CompressedKind::kAllReduce;
  const void* sendbuff = nullptr;
  void* recvbuff = nullptr;
  size_t count =
      0;  // the API's count: AllReduce count, ReduceScatter recvcount, AllGather sendcount
  tuttiDataType_t dtype = tuttiFloat32;
  tuttiRedOp_t op = tuttiSum;
  codec::CodecSpec spec;
  bool interNodeOnly = false;
  CompressState* state = nullptr;  // error feedback, or null
  tuttiStream_t stream = nullptr;
  bool onDevice = false;
};

// Host buffers: runs the whole collective before returning (compressed_host.cc).
Result runCompressedHost(tuttiComm* comm, const CompressedCall& call);
// Device buffers: enqueues encode, exchange and decode steps on call.stream (compressed_device.cc).
Result runCompressedDevice(tuttiComm* comm, const CompressedCall& call);

// Identifies how a call split its elements, for CompressState::shardKey.
uint64_t splitKey(const CompressedCall& call, int nranks, int rank, bool hierarchical);

}  // namespace tutti
