// GPU soak (issue 13): the random collective sequence of tests/soak on device buffers, in the
// two layouts of a one-GPU machine: one process driving 4 ranks (tuttiCommInitAll, a thread
// per rank, the ranks' GPUs from gpuForRank) and 4 processes sharing the GPU(s)
// (TUTTI_ALLOW_SHARED_GPU). Skips without a GPU. TUTTI_SOAK_CALLS (default 2000) and
// TUTTI_SOAK_SEED as for the CPU soak.
#include <cuda_runtime.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "gpu/gpu_testing.h"
#include "soak/soak.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

// Stream-ordered memory on the rank's own stream: cudaFree would wait for the whole device, and
// in one process that drives several ranks a peer's kernel may be waiting for this rank's next
// launch (a deadlock until the kernel timeout).
thread_local cudaStream_t tlsStream = nullptr;
void* deviceAlloc(size_t bytes) {
  void* p = nullptr;
  if (cudaMallocAsync(&p, bytes ? bytes : 1, tlsStream) != cudaSuccess) return nullptr;
  return cudaStreamSynchronize(tlsStream) == cudaSuccess ? p : nullptr;
}
void deviceFree(void* p) { cudaFreeAsync(p, tlsStream); }
void toDevice(void* dst, const void* src, size_t bytes) {
  cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, tlsStream);
  cudaStreamSynchronize(tlsStream);
}
void toHost(void* dst, const void* src, size_t bytes) {
  cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, tlsStream);
  cudaStreamSynchronize(tlsStream);
}
void syncStream(tuttiStream_t s) { cudaStreamSynchronize(static_cast<cudaStream_t>(s)); }
const SoakMemoryOps kCudaMemory = {deviceAlloc, deviceFree, toDevice, toHost, syncStream};

// The rank threads of one process meet here around communicator changes (SoakOptions). Bounded:
// a rank that stopped on an error must not hang the others.
class ThreadBarrier {
 public:
  explicit ThreadBarrier(int n) : n_(n) {}
  void arrive() {
    std::unique_lock<std::mutex> lock(m_);
    const long gen = generation_;
    if (++waiting_ == n_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait_for(lock, std::chrono::seconds(120), [&] { return generation_ != gen; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int n_, waiting_ = 0;
  long generation_ = 0;
};

constexpr int kRanks = 4;

void report(int rank, const SoakStats& st, uint64_t seed) {
  printf("gpu soak rank %d: %ld collectives checked (%ld groups), %ld wrong, %ld comms made\n",
         rank, st.calls, st.groups, st.wrong, st.comms);
  EXPECT_EQ(st.firstError, "") << "rank " << rank;
  EXPECT_EQ(st.wrong, 0) << "rank " << rank << ", seed " << seed;
}

// First: its ranks are forked children, and a parent that has used CUDA (the test below) cannot
// hand CUDA to them.
TEST(GpuSoak, FourProcessesSharingGpus) {
  SKIP_WITHOUT_GPUS(kRanks);
  const uint64_t seed = soakSeed();
  const long calls = soakCalls(2000);
  printf("gpu soak: %ld collectives, %d processes, seed %llu\n", calls, kRanks,
         (unsigned long long)seed);
  RankOptions opt;
  opt.createComm = false;
  opt.timeoutSec = 3600;
  opt.env = {{"TUTTI_TIMEOUT_MS", "60000"}};
  runRanks(
      kRanks,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        cudaStream_t stream;
        CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        tlsStream = stream;
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        SoakOptions o;
        o.seed = seed;
        o.calls = calls;
        o.memory = &kCudaMemory;
        o.stream = stream;
        report(rank, runSoak(comm, o), seed);
        tuttiCommDestroy(comm);
        cudaStreamDestroy(stream);
      },
      opt);
}

TEST(GpuSoak, OneProcessFourRanks) {
  SKIP_WITHOUT_GPUS(kRanks);
  const uint64_t seed = soakSeed();
  const long calls = soakCalls(2000);
  printf("gpu soak: %ld collectives, %d ranks in one process, seed %llu\n", calls, kRanks,
         (unsigned long long)seed);
  std::vector<tuttiComm_t> comms(kRanks);
  std::vector<int> devs(kRanks);
  for (int r = 0; r < kRanks; ++r) devs[r] = gpuForRank(r);
  ASSERT_EQ(tuttiCommInitAll(comms.data(), kRanks, devs.data()), tuttiSuccess)
      << tuttiGetLastError(nullptr);
  std::vector<SoakStats> stats(kRanks);
  ThreadBarrier barrier(kRanks);
  std::vector<std::thread> threads;
  for (int r = 0; r < kRanks; ++r)
    threads.emplace_back([&, r] {
      cudaSetDevice(devs[r]);
      cudaStream_t stream;
      cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
      tlsStream = stream;
      SoakOptions o;
      o.seed = seed;
      o.calls = calls;
      o.memory = &kCudaMemory;
      o.stream = stream;
      o.commBarrier = [&barrier] { barrier.arrive(); };
      stats[r] = runSoak(comms[r], o);
      cudaStreamDestroy(stream);
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < kRanks; ++r) report(r, stats[r], seed);
  for (auto c : comms) tuttiCommDestroy(c);
}

}  // namespace
}  // namespace tutti::testing
