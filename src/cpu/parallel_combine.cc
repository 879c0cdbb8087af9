// The process-wide reduction pool: workers sleep on a condition variable between jobs, one job
// runs at a time, and a forked child builds its own pool instead of waiting on its parent's.
#include "cpu/parallel_combine.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/logging.h"
#include "base/per_process.h"
#include "base/thread_name.h"

namespace tutti {
namespace {

// Runs the parts of one job on the caller and the workers. The caller does part 0 and then
// every part no worker has claimed yet, so it only ever waits for parts that a running worker
// is inside: a worker the scheduler is slow to wake costs time, never a hang.
class CombinePool {
 public:
  explicit CombinePool(pid_t pid) : pid_(pid) {}
  pid_t pid() const { return pid_; }

  // Runs fn(ctx, p) for every p in [0, parts). False, having run nothing, when another thread's
  // job holds the pool or the pool has stopped: the caller then runs the job itself.
  bool run(int parts, void (*fn)(void*, int), void* ctx) {
    std::unique_lock<std::mutex> job(jobMutex_, std::try_to_lock);
    if (!job.owns_lock()) return false;
    int workers;
    {
      std::lock_guard<std::mutex> lock(m_);
      if (stop_) return false;
      grow(parts - 1);
      workers = static_cast<int>(workers_.size());
      fn_ = fn;
      ctx_ = ctx;
      parts_ = parts;
      next_ = 1;
      unfinished_ = parts - 1;
    }
    for (int i = 0; i < std::min(workers, parts - 1); ++i) wake_.notify_one();
    fn(ctx, 0);
    std::unique_lock<std::mutex> lock(m_);
    while (next_ < parts_) {
      const int p = next_++;
      lock.unlock();
      fn(ctx, p);
      lock.lock();
      --unfinished_;
    }
    done_.wait(lock, [&] { return unfinished_ == 0; });
    parts_ = 0;
    fn_ = nullptr;
    ctx_ = nullptr;
    return true;
  }

  // At exit, in the process that owns the workers: later jobs run serially.
  void stop() {
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
      workers.swap(workers_);
    }
    wake_.notify_all();
    for (std::thread& t : workers) t.join();
  }

 private:
  // Under m_. Workers are made on first need and kept; a failure to make one leaves the job to
  // the threads that exist.
  void grow(int want) {
    want = std::min(want, kMaxReduceThreads - 1);
    while (!growFailed_ && static_cast<int>(workers_.size()) < want) {
      try {
        workers_.emplace_back([this] {
          nameThisThread("combine");
          work();
        });
      } catch (const std::system_error& e) {
        growFailed_ = true;
        TUTTI_WARN("host reductions: cannot start a worker thread (%s), using %zu", e.what(),
                   workers_.size());
      }
    }
  }

  void work() {
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || next_ < parts_; });
      if (stop_) return;  // the caller runs any part still unclaimed
      const int p = next_++;
      void (*fn)(void*, int) = fn_;
      void* ctx = ctx_;
      lock.unlock();
      fn(ctx, p);
      lock.lock();
      if (--unfinished_ == 0) done_.notify_one();
    }
  }

  const pid_t pid_;
  std::mutex jobMutex_;  // held by the thread whose job runs; others run serially
  std::mutex m_;         // guards everything below
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
  bool growFailed_ = false;
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  int parts_ = 0;       // parts of the job in flight (0: none)
  int next_ = 0;        // the next part nobody has claimed
  int unfinished_ = 0;  // parts 1.. not finished yet
};

// One per process (base/per_process.h): a forked child leaves its parent's pool, whose threads
// it does not have, and makes its own. Never deleted: a pool that lives on after stop() lets
// exit-time callers run serially instead of using a dead object.
std::atomic<CombinePool*> gPool{nullptr};
std::atomic<uint64_t> gJobs{0};

// Joins the workers at exit (and at dlclose of libtutti.so: detached workers would be left
// running code that is unmapped). Only in the process that started them.
struct PoolJoiner {
  ~PoolJoiner() {
    CombinePool* p = gPool.load(std::memory_order_acquire);
    if (p && p->pid() == getpid()) p->stop();
  }
} gJoiner;

CombinePool& pool() { return perProcess(gPool); }

// Part k of [0, count) starts at element boundary(k). Parts have about equal bytes and start on
// a 64-byte line of dst, so no two threads write one cache line.
struct Split {
  uintptr_t dst;
  size_t count, elem;
  int parts;
  size_t boundary(int k) const {
    if (k <= 0) return 0;
    if (k >= parts) return count;
    const size_t ideal = count * elem / parts * k;
    size_t off = ((dst + ideal + 63) & ~uintptr_t{63}) - dst;
    if (off % elem != 0) off = ideal - ideal % elem;  // dst not element-aligned
    return std::min(off / elem, count);
  }
};

int partsFor(size_t bytes, int threads) {
  const size_t byBytes = bytes / kParallelCombinePartBytes;
  return static_cast<int>(std::min<size_t>(std::min(threads, kMaxReduceThreads), byBytes));
}

struct CombineJob {
  Split split;
  const ReduceSpec* spec;
  char* dst;
  const char* a;
  const char* b;
};

void combinePart(void* ctx, int k) {
  const CombineJob& j = *static_cast<const CombineJob*>(ctx);
  const size_t lo = j.split.boundary(k), hi = j.split.boundary(k + 1);
  const size_t off = lo * j.split.elem;
  if (hi > lo) hostCombine(*j.spec, j.dst + off, j.a + off, j.b + off, hi - lo);
}

struct CombineManyJob {
  Split split;
  const ReduceSpec* spec;
  char* dst;
  const void* const* srcs;
  int n;
};

void combineManyPart(void* ctx, int k) {
  const CombineManyJob& j = *static_cast<const CombineManyJob*>(ctx);
  const size_t lo = j.split.boundary(k), hi = j.split.boundary(k + 1);
  if (hi <= lo) return;
  const size_t off = lo * j.split.elem;
  std::vector<const void*> srcs(static_cast<size_t>(j.n));
  for (int i = 0; i < j.n; ++i) srcs[i] = static_cast<const char*>(j.srcs[i]) + off;
  hostCombineMany(*j.spec, j.dst + off, srcs.data(), j.n, hi - lo);
}

struct CopyJob {
  Split split;
  char* dst;
  const char* src;
};

void copyPart(void* ctx, int k) {
  const CopyJob& j = *static_cast<const CopyJob*>(ctx);
  const size_t lo = j.split.boundary(k), hi = j.split.boundary(k + 1);
  if (hi > lo) memcpy(j.dst + lo, j.src + lo, hi - lo);
}

bool runParts(int parts, void (*fn)(void*, int), void* ctx) {
  if (!pool().run(parts, fn, ctx)) return false;
  gJobs.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace

void hostCombineParallelSplit(const ReduceSpec& spec, void* dst, const void* a, const void* b,
                              size_t count, int threads) {
  const size_t elem = dtypeSize(spec.dtype);
  const int parts = partsFor(count * elem, threads);
  CombineJob job{Split{reinterpret_cast<uintptr_t>(dst), count, elem, parts}, &spec,
                 static_cast<char*>(dst), static_cast<const char*>(a), static_cast<const char*>(b)};
  if (parts <= 1 || !runParts(parts, combinePart, &job)) hostCombine(spec, dst, a, b, count);
}

void hostCombineManyParallel(const ReduceSpec& spec, void* dst, const void* const* srcs, int n,
                             size_t count, int threads) {
  const size_t elem = dtypeSize(spec.dtype);
  if (!parallelCombineSplits(count * elem, threads)) {
    hostCombineMany(spec, dst, srcs, n, count);
    return;
  }
  const int parts = partsFor(count * elem, threads);
  CombineManyJob job{Split{reinterpret_cast<uintptr_t>(dst), count, elem, parts}, &spec,
                     static_cast<char*>(dst), srcs, n};
  if (parts <= 1 || !runParts(parts, combineManyPart, &job))
    hostCombineMany(spec, dst, srcs, n, count);
}

void hostCopyParallelSplit(void* dst, const void* src, size_t bytes, int threads) {
  const int parts = partsFor(bytes, threads);
  CopyJob job{Split{reinterpret_cast<uintptr_t>(dst), bytes, 1, parts}, static_cast<char*>(dst),
              static_cast<const char*>(src)};
  if (parts <= 1 || !runParts(parts, copyPart, &job)) memcpy(dst, src, bytes);
}

int chooseReduceThreads(int64_t setting, int cpus, int localRanks, bool remotePeers) {
  if (setting > 0) return static_cast<int>(std::min<int64_t>(setting, kMaxReduceThreads));
  const int share = std::max(cpus, 1) / std::max(localRanks, 1);
  return std::max(1, std::min(remotePeers ? kAutoReduceThreadsNet : kAutoReduceThreads, share));
}

int reduceThreadsFor(int localRanks, bool remotePeers) {
  int64_t setting = envInt("TUTTI_REDUCE_THREADS", 0);  // garbage: envInt warns, gives 0
  if (setting < 0) {
    TUTTI_WARN(
        "ignoring TUTTI_REDUCE_THREADS=%lld: expected 0 (auto) or a thread count, "
        "using auto",
        static_cast<long long>(setting));
    setting = 0;
  }
  return chooseReduceThreads(setting, allowedCpus(), localRanks, remotePeers);
}

uint64_t parallelCombineJobs() { return gJobs.load(std::memory_order_relaxed); }

int allowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

}  // namespace tutti
