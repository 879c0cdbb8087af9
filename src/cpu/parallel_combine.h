// Large host reductions (and staging copies) split over a few threads: the caller and a
// process-wide pool of sleeping workers. Same bits as the serial hostCombine (the math is
// element-wise).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cpu/host_reduce.h"

namespace tutti {

constexpr int kMaxReduceThreads = 16;
// Smallest part worth a thread: waking a sleeping worker costs ~5-50 us (futex, scheduler,
// idle-state exit), and one core combines 256 KiB of floats (768 KiB of traffic) in ~50-100
// us, so smaller parts would spend as long waking as working.
constexpr size_t kParallelCombinePartBytes = 256u << 10;

// True when `bytes` of output would be split at all for `threads`: callers skip the call.
inline bool parallelCombineSplits(size_t bytes, int threads) {
  return threads > 1 && bytes >= 2 * kParallelCombinePartBytes;
}

// hostCombine over [0, count) split into up to `threads` contiguous parts (boundaries on cache
// lines of dst), the calling thread doing one. Serial when the parts would be under
// kParallelCombinePartBytes, when another thread's job holds the pool (nobody waits for it),
// and after the pool stopped at exit. dst may alias a or b.
void hostCombineParallelSplit(const ReduceSpec& spec, void* dst, const void* a, const void* b,
                              size_t count, int threads);
inline void hostCombineParallel(const ReduceSpec& spec, void* dst, const void* a, const void* b,
                                size_t count, int threads) {
  if (!parallelCombineSplits(count * dtypeSize(spec.dtype), threads))
    hostCombine(spec, dst, a, b, count);  // small or off: no pool, no lock, no syscall
  else
    hostCombineParallelSplit(spec, dst, a, b, count, threads);
}
// hostCombineMany split the same way (each part rounds once, as the serial call does).
void hostCombineManyParallel(const ReduceSpec& spec, void* dst, const void* const* srcs, int n,
                             size_t count, int threads);

// memcpy split the same way (disjoint buffers): the staging copies of a large message, which
// on a fast network cost the executor thread as much as a reduction.
void hostCopyParallelSplit(void* dst, const void* src, size_t bytes, int threads);
inline void hostCopyParallel(void* dst, const void* src, size_t bytes, int threads) {
  if (!parallelCombineSplits(bytes, threads))
    memcpy(dst, src, bytes);
  else
    hostCopyParallelSplit(dst, src, bytes, threads);
}

// The CPU executor's thread count. `setting` is TUTTI_REDUCE_THREADS: N > 0 uses up to N
// (capped at kMaxReduceThreads; 1 is off); 0 (auto) gives each of the host's `localRanks`
// ranks an equal share of the `cpus` it may run on, at least 1 and at most:
// - kAutoReduceThreads (8) for a rank whose peers are all on its host;
// - kAutoReduceThreadsNet (4) for one with peers on other hosts, whose share also feeds the
//   network transport's threads (a stream or stripe worker per two CPUs of it).
// Negative settings mean auto.
//
// Why: on the 16-CPU box the copy rate still grows from 4 threads to 8 (29 to 44 GB/s). A 64
// MiB AllReduce of two ranks on one host ran 1.1-1.7x faster with 8 than with 4 (four calls).
// Between namespace hosts, 8 ran 0.83-1.0x of 4, next to the stream threads
// (perf/results/2026-12-04-h200x1-shm-fifo.md).
constexpr int kAutoReduceThreads = 8;
constexpr int kAutoReduceThreadsNet = 4;
int chooseReduceThreads(int64_t setting, int cpus, int localRanks, bool remotePeers);
// chooseReduceThreads with TUTTI_REDUCE_THREADS and allowedCpus(); a value that is not a
// non-negative integer is logged and auto used.
int reduceThreadsFor(int localRanks, bool remotePeers);
// Jobs this process has run split over the pool, for tests and diagnostics.
uint64_t parallelCombineJobs();
// CPUs this process may run on (sched_getaffinity, else hardware_concurrency), at least 1.
int allowedCpus();

}  // namespace tutti
