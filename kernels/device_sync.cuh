// Cross-GPU synchronisation: flags carry a monotonically growing value (no reset between
// calls or graph replays), written with system-scope release and read with acquire. Every
// wait polls the abort word and gives up after the communicator's timeout.
#pragma once

#include <cstdint>

#include "device_comm.h"

namespace tutti {

__device__ __forceinline__ void storeRelease(uint64_t* p, uint64_t v) {
  asm volatile("st.release.sys.global.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

__device__ __forceinline__ uint64_t loadAcquire(const uint64_t* p) {
  uint64_t v;
  asm volatile("ld.acquire.sys.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ uint64_t globalTimerNs() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Spins until *flag >= value. Returns false (after recording why) on abort or timeout.
__device__ __forceinline__ bool waitFlag(const DeviceComm& c, const uint64_t* flag,
                                         uint64_t value) {
  if (loadAcquire(flag) >= value) return true;
  const uint64_t start = globalTimerNs();
  for (uint32_t spin = 1;; ++spin) {
    if (loadAcquire(flag) >= value) return true;
    if ((spin & 1023) == 0) {
      if (*c.abortFlag) {
        atomicCAS(c.errorFlag, 0, kKernelAborted);
        return false;
      }
      if (globalTimerNs() - start > c.timeoutNs) {
        atomicCAS(c.errorFlag, 0, kKernelTimeout);
        return false;
      }
    }
  }
}

// Block-level barrier with the same block of every peer. All threads call it; returns false
// in every thread when the wait was abandoned (abort/timeout): the caller must return.
__device__ __forceinline__ bool blockBarrier(const DeviceComm& c, int block) {
  __shared__ int failed;
  __syncthreads();  // this block's stores are done before any thread signals
  const int t = threadIdx.x;
  uint64_t value = 0;
  if (t == 0) failed = 0;
  value = c.counters->barrier[block] + 1;
  __syncthreads();
  if (t < c.nranks && t != c.rank) {
    storeRelease(c.flags[t] + kCollFlagOffset + block * kMaxGpuRanks + c.rank, value);
    if (!waitFlag(c, c.flags[c.rank] + kCollFlagOffset + block * kMaxGpuRanks + t, value))
      failed = 1;
  }
  __syncthreads();
  if (t == 0) c.counters->barrier[block] = value;
  return !failed;
}

}  // namespace tutti
