// Call agreement on the peer-mapped GPU path (issue 13, kernels/call_check.cuh): ranks whose
// collective calls differ in dtype, op, count, root or collective get tuttiInvalidUsage naming
// both calls within a second, from kernels that would otherwise return wrong results silently
// or wait until the timeout (30 s here). Matching calls with the check on stay correct (the
// collective sweeps run with it on by default).
#include <cuda_runtime.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gpu/gpu_testing.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

// One rank's call on device buffers of 1 MiB each.
using Call = std::function<tuttiResult_t(void* in, void* out, tuttiComm_t comm)>;

Call allReduce(size_t count, tuttiDataType_t dt, tuttiRedOp_t op) {
  return [=](void* in, void* out, tuttiComm_t comm) {
    return tuttiAllReduce(in, out, count, dt, op, comm, nullptr);
  };
}
Call broadcast(size_t count, int root) {
  return [=](void* in, void* out, tuttiComm_t comm) {
    return tuttiBroadcast(in, out, count, tuttiFloat32, root, comm, nullptr);
  };
}
Call allGather(size_t count) {
  return [=](void* in, void* out, tuttiComm_t comm) {
    return tuttiAllGather(in, out, count, tuttiFloat32, comm, nullptr);
  };
}

struct Case {
  const char* name;
  Call rank0, others;
  std::vector<std::string> mentions;  // in every rank's error
};

// Every rank runs one matching AllReduce first (so the mismatch is not the first kernel), then
// its own call; the error must come within a second of the launch.
void runMismatch(const Case& k, int nranks) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {
      {"TUTTI_TIMEOUT_MS", "30000"}, {"TUTTI_ALLOW_SHARED_GPU", "1"}, {"TUTTI_CHECK_CALLS", "2"}};
  runRanks(
      nranks,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        void* in = nullptr;
        void* out = nullptr;
        CUDA_OK(cudaMalloc(&in, 1 << 20));
        CUDA_OK(cudaMalloc(&out, 4 << 20));
        CUDA_OK(cudaMemset(in, 1, 1 << 20));
        ASSERT_EQ(tuttiAllReduce(in, out, 4096, tuttiFloat32, tuttiSum, comm, nullptr),
                  tuttiSuccess);
        CUDA_OK(cudaDeviceSynchronize());
        tuttiResult_t async = tuttiSuccess;
        ASSERT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
        ASSERT_EQ(async, tuttiSuccess)
            << k.name << ": matching calls failed: " << tuttiGetLastError(comm);
        const auto t0 = Clock::now();
        tuttiResult_t r = (rank == 0 ? k.rank0 : k.others)(in, out, comm);
        if (r == tuttiSuccess) {
          cudaDeviceSynchronize();
          while (tuttiCommGetAsyncError(comm, &async) == tuttiSuccess && async == tuttiSuccess &&
                 Clock::now() - t0 < std::chrono::seconds(40))
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          r = async;
        }
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        const std::string why = tuttiGetLastError(comm);
        EXPECT_EQ(r, tuttiInvalidUsage) << k.name << ", rank " << rank << ": " << why;
        EXPECT_LT(s, 1.0) << k.name << ", rank " << rank << ": not within a second: " << why;
        EXPECT_NE(why.find("collective calls differ"), std::string::npos) << k.name << ": " << why;
        for (const std::string& m : k.mentions)
          EXPECT_NE(why.find(m), std::string::npos) << k.name << ": " << why;
        printf("%s, rank %d, %.3f s: %s\n", k.name, rank, s, why.c_str());
        tuttiCommAbort(comm);
      },
      opt);
}

TEST(GpuCallCheck, DtypeWithEqualBytes) {
  SKIP_WITHOUT_GPUS(1);
  runMismatch({"float32 vs int32",
               allReduce(1000, tuttiFloat32, tuttiSum),
               allReduce(1000, tuttiInt32, tuttiSum),
               {"AllReduce(float32, sum)", "AllReduce(int32, sum)"}},
              2);
}

TEST(GpuCallCheck, Op) {
  SKIP_WITHOUT_GPUS(1);
  runMismatch({"sum vs max",
               allReduce(777, tuttiFloat32, tuttiSum),
               allReduce(777, tuttiFloat32, tuttiMax),
               {"AllReduce(float32, sum)", "AllReduce(float32, max)"}},
              3);
}

TEST(GpuCallCheck, Count) {
  SKIP_WITHOUT_GPUS(1);
  // 1 KiB against 1 MiB: one kernel ends after one slice while its peer waits for more.
  runMismatch({"count 256 vs 262144",
               allReduce(256, tuttiFloat32, tuttiSum),
               allReduce(262144, tuttiFloat32, tuttiSum),
               {"counts or their number of earlier collectives differ"}},
              2);
}

TEST(GpuCallCheck, BroadcastRoot) {
  SKIP_WITHOUT_GPUS(1);
  runMismatch({"root 0 vs root 1", broadcast(4096, 0), broadcast(4096, 1), {"root 0", "root 1"}},
              2);
}

TEST(GpuCallCheck, Collective) {
  SKIP_WITHOUT_GPUS(1);
  runMismatch({"AllReduce vs AllGather",
               allReduce(65536, tuttiFloat32, tuttiSum),
               allGather(65536),
               {"AllReduce(float32, sum)", "AllGather(float32)"}},
              2);
}

// Matching calls of every kernel with the check on, and off, in one process (the -g layout):
// no error, results checked by the sweeps elsewhere; here, that nothing is flagged.
TEST(GpuCallCheck, MatchingCallsPassInOneProcess) {
  SKIP_WITHOUT_GPUS(1);
  for (const char* on : {"1", "2", "0"}) {
    setenv("TUTTI_CHECK_CALLS", on, 1);
    setenv("TUTTI_ALLOW_SHARED_GPU", "1", 1);
    constexpr int kRanks = 3;
    std::vector<tuttiComm_t> comms(kRanks);
    std::vector<int> devs(kRanks);
    for (int r = 0; r < kRanks; ++r) devs[r] = gpuForRank(r);
    ASSERT_EQ(tuttiCommInitAll(comms.data(), kRanks, devs.data()), tuttiSuccess)
        << tuttiGetLastError(nullptr);
    std::vector<std::thread> threads;
    std::vector<std::string> errors(kRanks);
    for (int r = 0; r < kRanks; ++r)
      threads.emplace_back([&, r] {
        cudaSetDevice(devs[r]);
        cudaStream_t s;
        cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
        void* in = nullptr;
        void* out = nullptr;
        cudaMalloc(&in, 8 << 20);
        cudaMalloc(&out, 24 << 20);
        cudaMemset(in, 0, 8 << 20);
        for (int i = 0; i < 60 && errors[r].empty(); ++i) {
          const size_t count = size_t{1} << (i % 20);
          tuttiResult_t e = tuttiSuccess;
          switch (i % 5) {
            case 0: e = tuttiAllReduce(in, out, count, tuttiFloat32, tuttiSum, comms[r], s); break;
            case 1: e = tuttiAllGather(in, out, count, tuttiFloat32, comms[r], s); break;
            case 2:
              e = tuttiReduceScatter(in, out, count, tuttiFloat32, tuttiMax, comms[r], s);
              break;
            case 3:
              e = tuttiBroadcast(in, out, count, tuttiFloat32, i % kRanks, comms[r], s);
              break;
            default:
              e = tuttiReduce(in, out, count, tuttiBfloat16, tuttiSum, i % kRanks, comms[r], s);
          }
          cudaStreamSynchronize(s);
          tuttiResult_t async = tuttiSuccess;
          tuttiCommGetAsyncError(comms[r], &async);
          if (e != tuttiSuccess || async != tuttiSuccess)
            errors[r] =
                std::string("call ") + std::to_string(i) + ": " + tuttiGetLastError(comms[r]);
        }
        cudaFree(in);
        cudaFree(out);
        cudaStreamDestroy(s);
      });
    for (auto& t : threads) t.join();
    for (int r = 0; r < kRanks; ++r) EXPECT_EQ(errors[r], "") << "TUTTI_CHECK_CALLS=" << on;
    for (auto c : comms) tuttiCommDestroy(c);
  }
  unsetenv("TUTTI_CHECK_CALLS");
}

}  // namespace
}  // namespace tutti::testing
