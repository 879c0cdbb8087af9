// Host-side entry points of the collective kernels (CUDA builds only), one per algorithm, each
// in its own file. src/gpu/direct_executor.cc chooses the algorithm (the tuner's choice) and
// sizes; these functions only launch.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "device_comm.h"
#include "dtype_dispatch.h"

namespace tutti {

// GpuCollArgs::checkCall (TUTTI_CHECK_CALLS): compare the peers' calls at the kernel's start
// (block 0's last thread, beside the data path) or after its last barrier (block 0's thread 0).
constexpr int kCallCheckAtStart = 1;
constexpr int kCallCheckAtEnd = 2;

struct GpuCollArgs {
  const DeviceComm* comm;  // device pointer
  const char* send;
  char* recv;
  size_t count;  // elements: AllReduce/Reduce/Broadcast total, AllGather/RS/AllToAll per rank
  size_t elemSize;
  int root;
  int divisor;      // tuttiAvg: nranks; else 0
  int premul;       // PreMulSum: this rank's contribution is scaled by `scalar` first
  uint64_t scalar;  // PreMulSum: one element of the dtype, in the low bytes
  int blocks;
  size_t sliceElems;  // elements per block per iteration (per source for one-barrier kernels,
                      // the whole slice across n shards for two-shot)
  int checkCall;      // 0, or how every rank compares callSig with its peers' (call_check.cuh)
  uint64_t callSig;   // packCallSignature of the call (core/call_signature.h)
};

// Reductions, for (dtype, combine). Instantiated per dtype family in reduce_kernels_*.cu.
cudaError_t launchOneShotAllReduce(const GpuCollArgs& a, tuttiDataType_t dtype, CombineKind k,
                                   cudaStream_t stream);  // one_shot_allreduce.cuh
cudaError_t launchTwoShotAllReduce(const GpuCollArgs& a, tuttiDataType_t dtype, CombineKind k,
                                   cudaStream_t stream);  // two_shot_allreduce.cuh
cudaError_t launchReduceScatter(const GpuCollArgs& a, tuttiDataType_t dtype, CombineKind k,
                                cudaStream_t stream);  // reduce_scatter.cuh
cudaError_t launchReduce(const GpuCollArgs& a, tuttiDataType_t dtype, CombineKind k,
                         cudaStream_t stream);  // reduce.cuh
// Loads every kernel above (and the point-to-point one) so no later launch waits for module
// loading; once per process before the first collective (gpu_state.cc).
cudaError_t preloadCollectiveKernels();
// Data movement; dtype-agnostic.
cudaError_t launchAllGather(const GpuCollArgs& a, cudaStream_t stream);  // all_gather.cu
cudaError_t launchAllToAll(const GpuCollArgs& a, cudaStream_t stream);   // all_to_all.cu
cudaError_t launchBroadcast(const GpuCollArgs& a, cudaStream_t stream);  // broadcast.cu

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
cudaError_t launchP2pKernel(const GpuP2pArgs& args, int blocks,
                            cudaStream_t stream);  // point_to_point.cu

}  // namespace tutti
