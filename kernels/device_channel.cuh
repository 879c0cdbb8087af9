// The device-side channel handle: how a block of one rank reaches the same block of every
// peer on the node. Kernels read as put / signal / wait.
//
// Memory-ordering contract (the only one the collective kernels rely on):
//  - put(): ordinary (weak) stores from every thread of the block into a slot of a peer's
//    scratch, mapped into this process (CUDA IPC or peer access).
//  - signal(peer, v): called by every thread of the block. After __syncthreads(), one thread
//    issues a system-scope release store of v into the flag `peer` keeps for (block, this rank).
//    Every store the block made before the call happens-before every load the peer's block
//    makes after its wait(this rank, v) returned.
//  - wait(peer, v): called by every thread. One thread spins with system-scope acquire loads
//    until the flag this rank keeps for (block, peer) is >= v, then __syncthreads(). On abort
//    (host-mapped abort word) or timeout (%globaltimer) it records why in the host-mapped error
//    word and returns false in every thread: the kernel must return.
//  - barrier(): signal every peer and wait for every peer with the block's next barrier value.
// Flag values only grow (per-block counters kept in device memory, advanced by the kernels), so
// nothing is reset between calls or CUDA-graph replays. Scratch slots alternate between two
// parities per iteration, so one barrier per iteration is enough: a peer cannot overwrite a
// slot before this rank passed the barrier that follows its read of it.
#pragma once

#include <cstdint>

#include "device_comm.h"
#include "device_copy.cuh"

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

// A call flag holds the call number above a 20-bit fold of the call's signature, so the check
// reads one word per peer in the common case (call_check.cuh). 44 bits of call number last
// 2^44 kernels (half a year at one per microsecond).
constexpr int kCallHashBits = 20;
__device__ __forceinline__ uint64_t callFlagValue(uint64_t number, uint64_t sig) {
  const uint64_t folded = sig ^ (sig >> 20) ^ (sig >> 40) ^ (sig >> 60);
  return (number << kCallHashBits) | (folded & ((1ull << kCallHashBits) - 1));
}

// The signature `peer` published for call `number` (call_check.cuh): valid once the peer's call
// flag reached `number` and until this rank starts call number + 1.
__device__ __forceinline__ uint64_t peerCallSig(const DeviceComm& c, int peer, uint64_t number) {
  return *reinterpret_cast<volatile const uint64_t*>(
      &c.flags[c.rank][kCallSigOffset + (number & 1) * kMaxGpuRanks + peer]);
}

// Records the first call mismatch found (any thread, any block) for the host's message.
__device__ __forceinline__ void recordCallMismatch(const DeviceComm& c, int peer, uint64_t mine,
                                                   uint64_t theirs) {
  if (atomicCAS(&c.callMismatch[0], 0ull, static_cast<unsigned long long>(peer + 1)) == 0ull) {
    c.callMismatch[1] = mine;
    c.callMismatch[2] = theirs;
    __threadfence_system();
    atomicCAS(c.errorFlag, 0, kKernelCallMismatch);
  }
}

// Slow path of a wait: a peer that started the same call number with another signature will
// never send what this rank waits for (a different collective, count or root). False when the
// call check is off (callNumber stays 0) or no peer at this call disagrees.
__device__ __forceinline__ bool callMismatchSeen(const DeviceComm& c) {
  const uint64_t number = *reinterpret_cast<volatile const uint64_t*>(&c.counters->callNumber);
  if (number == 0) return false;
  const uint64_t mine = *reinterpret_cast<volatile const uint64_t*>(&c.counters->callSig);
  for (int p = 0; p < c.nranks; ++p) {
    if (p == c.rank ||
        loadAcquire(&c.flags[c.rank][kCallFlagOffset + p]) >> kCallHashBits != number)
      continue;
    const uint64_t theirs = peerCallSig(c, p, number);
    if (theirs != mine) {
      recordCallMismatch(c, p, mine, theirs);
      return true;
    }
  }
  return false;
}

// One thread: spins until *flag >= value. False (after recording why) on abort, timeout, a call
// mismatch, or an error another block of this rank recorded.
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
      if (*reinterpret_cast<volatile int*>(c.errorFlag) != 0) return false;
      if (callMismatchSeen(c)) return false;
      if (globalTimerNs() - start > c.timeoutNs) {
        atomicCAS(c.errorFlag, 0, kKernelTimeout);
        return false;
      }
    }
  }
}

// Slot `slot` of block `b`, parity `par`, in rank `owner`'s scratch (see scratchSlotBytes).
__device__ __forceinline__ char* slotPtr(const DeviceComm& c, int owner, int b, int par, int slot,
                                         size_t slotBytes) {
  return c.scratch[owner] + b * c.regionBytes + par * (c.regionBytes / 2) + slot * slotBytes;
}

// Block `block`'s channels for one iteration (`parity`) with scratch cut into slots of
// `slotBytes` (scratchSlotBytes of the kernel's slot count).
struct BlockChannels {
  const DeviceComm& c;
  int block;
  int parity;
  size_t slotBytes;

  __device__ int rank() const { return c.rank; }
  __device__ int nranks() const { return c.nranks; }
  // Slot `slot` in `peer`'s scratch: where put() stores data for it.
  __device__ char* peerSlot(int peer, int slot) const {
    return slotPtr(c, peer, block, parity, slot, slotBytes);
  }
  // Slot `slot` in this rank's scratch: where peers' puts arrive.
  __device__ char* ownSlot(int slot) const { return peerSlot(c.rank, slot); }

  // Block-wide copies into slots (or any memory): the data half of the contract above.
  __device__ void put(char* dst, const char* src, size_t bytes) const {
    blockCopy(dst, src, bytes);
  }
  // The same bytes into each of dsts[0..n) (dsts in shared memory).
  __device__ void putMulti(char* const* dsts, int n, const char* src, size_t bytes) const {
    blockCopyMulti(dsts, n, src, bytes);
  }

  __device__ void signal(int peer, uint64_t value) const {
    __syncthreads();
    if (threadIdx.x == 0) storeRelease(flag(peer, c.rank), value);
  }
  __device__ bool wait(int peer, uint64_t value) const {
    __shared__ int failed;
    if (threadIdx.x == 0) failed = !waitFlag(c, flag(c.rank, peer), value);
    __syncthreads();
    return !failed;
  }
  // Every peer, in parallel (thread t handles peer t): the next value of this block's barrier
  // counter. Returns false in every thread when a wait was abandoned.
  __device__ bool barrier() const {
    __shared__ int failed;
    __syncthreads();  // this block's stores are done before any thread signals
    const int t = threadIdx.x;
    const uint64_t value = c.counters->barrier[block] + 1;
    if (t == 0) failed = 0;
    __syncthreads();
    if (t < c.nranks && t != c.rank) {
      storeRelease(flag(t, c.rank), value);
      if (!waitFlag(c, flag(c.rank, t), value)) failed = 1;
    }
    __syncthreads();
    if (t == 0) c.counters->barrier[block] = value;
    return !failed;
  }

 private:
  // The flag `owner` keeps for (block, from).
  __device__ uint64_t* flag(int owner, int from) const {
    return c.flags[owner] + kCollFlagOffset + block * kMaxGpuRanks + from;
  }
};

}  // namespace tutti
