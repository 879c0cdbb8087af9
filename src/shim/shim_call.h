// One NCCL collective or point-to-point call on its way to Tutti: checked when the caller
// makes it, launched at once or at the enclosing ncclGroupEnd.
#pragma once

#include <nccl.h>

#include <cstddef>
#include <vector>

#include "core/coll_call.h"
#include "shim/shim_comm.h"

namespace tutti::shim {

enum class CallKind {
  kAllReduce,
  kBroadcast,
  kReduce,
  kAllGather,
  kReduceScatter,
  kAllToAll,
  kGather,
  kScatter,
  kSend,
  kRecv,
};

struct ShimCall {
  CallKind kind = CallKind::kAllReduce;
  CommRef comm;
  const void* sendbuff = nullptr;
  void* recvbuff = nullptr;
  size_t count = 0;
  ncclDataType_t dtype = ncclFloat32;
  ncclRedOp_t op = ncclSum;
  bool premul = false;    // op is a PreMulSum created on comm: premulSpec is its copy
  PreMulSpec premulSpec;  // copied at call time: the op may be destroyed before launch
  int root = 0;           // root, or the peer of Send/Recv
  cudaStream_t stream = nullptr;
  // The Tutti calls this becomes (Gather and Scatter: sends and receives), checked by Tutti's
  // own rules (core/call_checks.h) as soon as the communicator exists.
  std::vector<tutti::CollCall> prepared;
  bool checked = false;
};

// Element size of an NCCL data type; 0 when `dtype` is not one.
size_t dtypeBytes(ncclDataType_t dtype);

// Checks the call at call time, as NCCL does even inside a group: what only the shim knows
// (its PreMulSum operators, Gather and Scatter roots) here, everything else by Tutti's checks on
// the calls it lowers to (deferred to launch when the communicator is still being created).
ncclResult_t prepareCall(ShimCall* call, const char* fn);

// Launches `calls` through Tutti's internal entry point, inside one Tutti group when `grouped`:
// device-resident PreMulSum scalars are read now (in stream order) into the prepared calls,
// which carry the scalar itself (no Tutti operator). A failure before submitting launches
// nothing.
ncclResult_t launchCalls(std::vector<ShimCall>& calls, bool grouped, const char* fn);

// Rough duration of `calls` in microseconds, for ncclGroupSimulateEnd.
float estimateMicroseconds(const std::vector<ShimCall>& calls);

}  // namespace tutti::shim
