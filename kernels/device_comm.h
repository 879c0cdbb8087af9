// What a collective kernel knows about its communicator: every peer's mapped scratch and flag
// buffers, this rank's private counters, and the host-mapped abort and error words. Built by
// src/gpu/gpu_comm.cc at init and kept in device memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "host_device.h"

namespace tutti {

constexpr int kMaxGpuRanks = 16;  // ranks of one node reachable by direct kernels
constexpr int kMaxBlocks = 64;    // collective blocks (channels) per launch
constexpr int kMaxP2pBlocks = 8;  // blocks per point-to-point message
constexpr int kMaxP2pOps = 64;    // sends + receives fused into one launch
constexpr int kThreads = 512;

// Flag words in each rank's flag buffer (uint64 each), written by peers.
constexpr int kCollFlagOffset = 0;                          // [block][src rank]
constexpr int kP2pReadyOffset = kMaxBlocks * kMaxGpuRanks;  // [src rank][p2p block]
constexpr int kP2pFreedOffset = kP2pReadyOffset + kMaxGpuRanks * kMaxP2pBlocks;  // [dst][blk]
// Call agreement (call_check.cuh): the number of the last collective kernel each source rank
// started, and its call signature in two slots by the parity of that number.
constexpr int kCallFlagOffset = kP2pFreedOffset + kMaxGpuRanks * kMaxP2pBlocks;  // [src rank]
constexpr int kCallSigOffset = kCallFlagOffset + kMaxGpuRanks;                   // [par][src]
constexpr int kFlagWords = kCallSigOffset + 2 * kMaxGpuRanks;

// Private per-rank counters (never read by peers). Equal on every rank by construction:
// each rank runs the same sequence of collectives with the same block counts.
struct DeviceCounters {
  uint64_t barrier[kMaxBlocks];  // barriers passed by block b
  uint64_t iter[kMaxBlocks];     // chunk iterations of block b (scratch parity)
  uint64_t p2pSent[kMaxGpuRanks][kMaxP2pBlocks];
  uint64_t p2pRecvd[kMaxGpuRanks][kMaxP2pBlocks];
  uint64_t callNumber;  // collective kernels started with the call check on (0: none yet)
  uint64_t callSig;     // the signature of call callNumber
};

struct DeviceComm {
  int rank;
  int nranks;
  char* scratch[kMaxGpuRanks];    // each rank's scratch, mapped into this process
  uint64_t* flags[kMaxGpuRanks];  // each rank's flag words, mapped
  DeviceCounters* counters;       // this rank's
  volatile int* abortFlag;        // host-mapped; set by tuttiCommAbort
  int* errorFlag;                 // host-mapped; kernels report a timeout here
  // Host-mapped: the first call mismatch a kernel found: [0] peer rank + 1 (0: none), [1] this
  // rank's call signature, [2] the peer's.
  unsigned long long* callMismatch;
  uint64_t timeoutNs;
  size_t regionBytes;    // collective scratch per block (two parities)
  size_t p2pOffset;      // start of the point-to-point area in scratch
  size_t p2pChunkBytes;  // one buffer of [src][block][2] in the p2p area
};

// Scratch layout shared by the kernels and the launcher that sizes their slices: block b owns
// regionBytes at b * regionBytes, split in two parities, each split in `slots` 16-byte-aligned
// slots.
TUTTI_HD size_t scratchSlotBytes(size_t regionBytes, int slots) {
  return ((regionBytes / 2) / slots) & ~size_t(15);
}

// Error codes a kernel leaves in *errorFlag.
constexpr int kKernelTimeout = 1;
constexpr int kKernelAborted = 2;
constexpr int kKernelCallMismatch = 3;

}  // namespace tutti
