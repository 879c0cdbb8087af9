// One validated API call on its way to an executor.
#pragma once

#include <cstdint>
#include <vector>

#include "algorithms/plan.h"
#include "tutti/tutti.h"

namespace tutti {

struct CollCall {
  Collective collective;
  const void* sendbuff = nullptr;
  void* recvbuff = nullptr;
  size_t count = 0;
  tuttiDataType_t dtype = tuttiFloat32;
  tuttiRedOp_t op = tuttiSum;
  int root = 0;
  int peer = -1;
  std::vector<size_t> sendCounts, sendDispls, recvCounts, recvDispls;  // AllToAllv copies
  uint64_t premulScalar = 0;    // PreMulSum: the scalar, copied when the call is made
  bool premulResolved = false;  // the caller set premulScalar (the shim's operators)
  tuttiStream_t stream = nullptr;
  bool onDevice = false;
  uint64_t flightId = 0;  // the call's flight recorder entry (0: none)
  uint32_t seq = 0;       // per-communicator collective sequence (call_signature.h)
};

// Message size the tuner sees, as nccl-tests reports it (total bytes of the larger buffer).
size_t tunerBytes(const CollCall& c, int nranks);

}  // namespace tutti
