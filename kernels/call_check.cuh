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
// signature after seeing the flag (acquire) when the folds differ or the peer is further on. Slots
// alternate by call parity: a peer cannot start call k + 2 before this rank started call k + 1,
// which happens after its check of k.
#pragma once

#include "device_channel.cuh"
#include "launch.h"

namespace tutti {

// Compares peer p's flag for call `number` with this rank's: true when they agree or after
// recording a mismatch; false when a wait gave up (abort, timeout, error elsewhere).
__device__ __forceinline__ bool comparePeerCall(const GpuCollArgs& a, int p, uint64_t number,
                                                uint64_t flag) {
  const DeviceComm& c = *a.comm;
  const uint64_t* theirFlag = &c.flags[c.rank][kCallFlagOffset + p];
  uint64_t seen = loadAcquire(theirFlag);
  if (seen < (number << kCallHashBits)) {
    if (!waitFlag(c, theirFlag, number << kCallHashBits)) return false;
    seen = loadAcquire(theirFlag);
  }
  if (seen == flag) return true;  // the common case: same number, same signature fold
  // A later call of the peer's, or a fold that differs: the slot has the whole signature.
  const uint64_t theirs = peerCallSig(c, p, number);
  if (theirs != a.callSig) {
    recordCallMismatch(c, p, a.callSig, theirs);
    return false;
  }
  return true;
}

// First thing of every collective kernel (every thread calls it; block 0's last thread acts):
// publish the call to every peer and, in kCallCheckAtStart mode, compare theirs right away.
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
  if (a.checkCall != kCallCheckAtStart) return;
  for (int p = 0; p < c.nranks; ++p)
    if (p != c.rank && !comparePeerCall(a, p, number, flag)) return;
}

// Last thing of every collective kernel that ran to its end (after its final __syncthreads):
// in kCallCheckAtEnd mode, block 0's thread 0 compares the peers' flags, set by then.
__device__ __forceinline__ void checkCallAtEnd(const GpuCollArgs& a) {
  if (a.checkCall != kCallCheckAtEnd || blockIdx.x != 0 || threadIdx.x != 0) return;
  const DeviceComm& c = *a.comm;
  const uint64_t number = c.counters->callNumber;
  const uint64_t flag = callFlagValue(number, a.callSig);
  for (int p = 0; p < c.nranks; ++p)
    if (p != c.rank && !comparePeerCall(a, p, number, flag)) return;
}

}  // namespace tutti
