// Error-feedback states: creation, reset, destruction and the shard residual's (re)sizing.
#include "compression/compress_state.h"

#include <algorithm>

#include "compression/device_memory.h"

namespace tutti {

Result checkCompressState(const CompressState* s) {
  if (s->magic != CompressState::kMagic)
    return setError(tuttiInvalidArgument,
                    "state is not a live tuttiCompressState_t (destroyed or never created?)");
  return tuttiSuccess;
}

Result prepareShardResidual(CompressState* s, uint64_t key, size_t len, tuttiStream_t stream) {
  if (s->shardKey == key && s->shardLen == len) return tuttiSuccess;
  if (s->onDevice) {
    deviceFreeAsync(s->shardResidual, stream);
    s->shardResidual = nullptr;
    s->shardLen = 0;
    s->shardKey = 0;
    if (len) {
      void* p = nullptr;
      TUTTI_TRY(deviceAllocAsync(len * sizeof(float), stream, &p));
      s->shardResidual = static_cast<float*>(p);
      TUTTI_TRY(deviceZeroAsync(p, len * sizeof(float), stream));
    }
  } else {
    s->hostShard.assign(len, 0.0f);
    s->shardResidual = s->hostShard.data();
  }
  s->shardLen = len;
  s->shardKey = key;
  return tuttiSuccess;
}

void destroyCompressState(CompressState* s) {
  if (!s) return;
  if (s->onDevice) {
    deviceFree(s->device, s->residual);
    deviceFree(s->device, s->shardResidual);
  }
  s->magic = 0;
  delete s;
}

}  // namespace tutti
