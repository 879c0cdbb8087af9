// Host-side entry points of the collective kernels (CUDA builds only). src/gpu chooses the
// algorithm and sizes; these functions only launch.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "device_comm.h"
#include "dtype_dispatch.h"

namespace tutti {

enum class GpuMode : int {
  kAllReduceOneShot,  // push the whole slice to every peer, one barrier, reduce locally
  kAllReduceTwoShot,  // push shards, reduce own shard, push results, two barriers
  kReduceScatter,
  kReduce,
  kAllGather,
  kAllToAll,
  kBroadcast,
};

struct GpuCollArgs {
  const DeviceComm* comm;  // device pointer
  const char* send;
  char* recv;
  size_t count;  // elements: AllReduce/Reduce/Broadcast total, AllGather/RS/AllToAll per rank
  size_t elemSize;
  GpuMode mode;
  int root;
  int divisor;      // tuttiAvg: nranks; else 0
  int premul;       // PreMulSum: this rank's contribution is scaled by `scalar` first
  uint64_t scalar;  // PreMulSum: one element of the dtype, in the low bytes
  int blocks;
  size_t sliceElems;  // elements per block per iteration (per source for one-barrier modes,
                      // whole slice across n shards for two-shot)
};

// Launches a reduction collective for (dtype, combine).
cudaError_t launchReduceKernel(const GpuCollArgs& args, tuttiDataType_t dtype, CombineKind combine,
                               cudaStream_t stream);
// Launches a data-movement collective (AllGather, AllToAll, Broadcast); dtype-agnostic.
cudaError_t launchCopyKernel(const GpuCollArgs& args, cudaStream_t stream);

// Point-to-point: ops to one (peer, direction) form a list run in order by the same blocks.
struct GpuP2pOp {
  char* buf;  // send: source, recv: destination
  size_t bytes;
  int peer;
  int isSend;
};
struct GpuP2pList {
  int firstOp;
  int numOps;
  int firstBlock;
  int numBlocks;
};
struct GpuP2pArgs {
  const DeviceComm* comm;
  int numOps;
  int numLists;
  GpuP2pOp ops[kMaxP2pOps];
  GpuP2pList lists[kMaxP2pOps];
};
cudaError_t launchP2pKernel(const GpuP2pArgs& args, int blocks, cudaStream_t stream);

}  // namespace tutti
