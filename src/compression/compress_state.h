// The error-feedback state behind tuttiCompressState_t: fp32 residuals of one gradient buffer,
// in host or device memory, kept across calls.
//
// Two residuals are kept (docs/compression.md, "Error feedback"):
//  - `residual` (count elements, input positions): what encoding this rank's contribution lost,
//    input + previous residual - decode(encode(input + previous residual)). Added to the next
//    call's input before encoding.
//  - `shardResidual` (the shard this rank owns in a compressed AllReduce): what the second
//    encoding, of the reduced shard before the all-gather, lost. Added to the next reduced
//    shard before it is encoded. It depends on how the count was split into shards and on the
//    op (avg's residual is in units of the average), so a call with another split (block
//    size, inter-node flag) or op starts it again from zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/error.h"
#include "tutti/tutti.h"

struct tuttiComm;

struct tuttiCompressState {
  static constexpr uint32_t kMagic = 0x54434546u;  // "TCEF"
  uint32_t magic = kMagic;
  tuttiComm* comm = nullptr;  // identity only: never dereferenced after creation
  size_t count = 0;
  tuttiDataType_t dtype = tuttiFloat32;
  bool onDevice = false;
  int device = -1;

  float* residual = nullptr;  // count floats
  float* shardResidual = nullptr;
  size_t shardLen = 0;
  uint64_t shardKey = 0;  // identifies the split shardResidual belongs to (0: none yet)

  std::vector<float> hostResidual, hostShard;  // storage of host states
};

namespace tutti {

using CompressState = ::tuttiCompressState;

Result checkCompressState(const CompressState* s);
// Makes shardResidual hold `len` floats for the split `key`, zeroed when the key changes
// (device states: stream-ordered on `stream`).
Result prepareShardResidual(CompressState* s, uint64_t key, size_t len, tuttiStream_t stream);
// Frees a state's memory (also used for states the shim keeps per buffer).
void destroyCompressState(CompressState* s);

}  // namespace tutti
