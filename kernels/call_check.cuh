// Call agreement on the peer-mapped path (issue 13): in every collective kernel, the last thread
// of block 0 publishes the call's signature to each peer, then waits for each peer's signature
// for the same call number and compares it with its own. That thread does this while the rest
// of the kernel moves data (it is idle at small sizes), so the check's remote stores and loads
// overlap the collective's own flag round trip instead of adding to the kernel's start and end.
//
// A mismatch is reported through the host-mapped error word (kKernelCallMismatch) and the
// callMismatch words, which the host turns into an error naming both calls. Every mismatch is
// caught by that thread as soon as the peer's kernel starts; waits elsewhere in the kernel give
// up in their slow path (callMismatchSeen), long before the timeout.
//
// Ordering: a peer's flag for call k (the number and a fold of the signature, one word) is
// written (release) after its whole signature; this rank compares the fold, and reads the whole
// signature after seeing the flag (acquire) when the folds differ or the peer is further on. Slots alternate by call parity: a peer cannot
// start call k + 2 before this rank started call k + 1, which happens after its check of k.
#pragma once

#include "device_channel.cuh"
#include "launch.h"

namespace tutti {

// First thing of every collective kernel (every thread calls it; block 0's last thread acts).
__device__ __forceinline__ void checkCall(const GpuCollArgs& a) {
  if (!a.checkCall || blockIdx.x != 0 || threadIdx.x != blockDim.x - 1) return;
  const DeviceComm& c = *a.comm;
  const uint64_t number = c.counters->callNumber + 1;
  const uint64_t flag = callFlagValue(number, a.callSig);
  c.counters->callSig = a.callSig;
  *reinterpret_cast<volatile uint64_t*>(&c.counters->callNumber) = number;
  for (int p = 0; p < c.nranks; ++p) {
    if (p == c.rank) continue;
    c.flags[p][kCallSigOffset + (number & 1) * kMaxGpuRanks + c.rank] = a.callSig;
    storeRelease(&c.flags[p][kCallFlagOffset + c.rank], flag);
  }
  for (int p = 0; p < c.nranks; ++p) {
    if (p == c.rank) continue;
    const uint64_t* theirFlag = &c.flags[c.rank][kCallFlagOffset + p];
    uint64_t seen = loadAcquire(theirFlag);
    if (seen < (number << kCallHashBits)) {
      if (!waitFlag(c, theirFlag, number << kCallHashBits)) return;
      seen = loadAcquire(theirFlag);
    }
    if (seen == flag) continue;  // the common case: same number, same signature fold
    // A later call of the peer's, or a fold that differs: the slot has the whole signature.
    const uint64_t theirs = peerCallSig(c, p, number);
    if (theirs != a.callSig) {
      recordCallMismatch(c, p, a.callSig, theirs);
      return;
    }
  }
}

}  // namespace tutti
