// Call agreement on the peer-mapped path (issue 13): every collective kernel's block 0 publishes
// the call's signature to each peer when it starts and, when it ends, compares the peers'
// signatures for the same call number with its own. Nothing waits at the start, so a matching
// call costs a few remote stores and, at the end, loads of flags that are already set.
//
// A mismatch is reported through the host-mapped error word (kKernelCallMismatch) and the
// callMismatch words, which the host turns into an error naming both calls. Calls that differ in
// dtype or op with equal bytes run to the end and are caught there; calls whose kernels would
// wait for each other forever (another collective, count or root) are caught in the slow path
// of every wait (callMismatchSeen), long before the timeout.
//
// Ordering: a peer's flag for call k is written (release) after its signature; this rank reads
// the signature after seeing the flag (acquire). Slots alternate by call parity: a peer cannot
// start call k + 2 before this rank started call k + 1, which happens after its end check of k.
#pragma once

#include "device_channel.cuh"
#include "launch.h"

namespace tutti {

// First thing of every collective kernel (every thread calls it; block 0's thread 0 acts).
__device__ __forceinline__ void publishCall(const GpuCollArgs& a) {
  if (!a.checkCall || blockIdx.x != 0 || threadIdx.x != 0) return;
  const DeviceComm& c = *a.comm;
  const uint64_t number = c.counters->callNumber + 1;
  c.counters->callSig = a.callSig;
  *reinterpret_cast<volatile uint64_t*>(&c.counters->callNumber) = number;
  for (int p = 0; p < c.nranks; ++p) {
    if (p == c.rank) continue;
    c.flags[p][kCallSigOffset + (number & 1) * kMaxGpuRanks + c.rank] = a.callSig;
    storeRelease(&c.flags[p][kCallFlagOffset + c.rank], number);
  }
}

// Last thing of every collective kernel that ran to its end (after its final __syncthreads).
__device__ __forceinline__ void checkCallAtEnd(const GpuCollArgs& a) {
  if (!a.checkCall || blockIdx.x != 0 || threadIdx.x != 0) return;
  const DeviceComm& c = *a.comm;
  const uint64_t number = c.counters->callNumber;
  for (int p = 0; p < c.nranks; ++p) {
    if (p == c.rank) continue;
    if (!waitFlag(c, &c.flags[c.rank][kCallFlagOffset + p], number)) return;
    const uint64_t theirs = peerCallSig(c, p, number);
    if (theirs != a.callSig) {
      recordCallMismatch(c, p, a.callSig, theirs);
      return;
    }
  }
}

}  // namespace tutti
