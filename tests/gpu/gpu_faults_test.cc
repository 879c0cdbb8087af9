// Failure paths on the GPU: a peer that never joins makes the kernel give up at the timeout
// (reported by tuttiCommGetAsyncError), tuttiCommAbort frees a stuck kernel at once, two ranks
// on one GPU are refused on both ranks unless TUTTI_ALLOW_SHARED_GPU allows it, and every
// TUTTI_FAULT kind at the GPU hook (where=gpu) is an error on every rank within the timeout plus
// one second (a delay: the right result). A process that exits without destroying its
// communicator stops the watchdog first.
#include <cuda_runtime.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gpu/gpu_testing.h"
#include "testing/param_name.h"
#include "testing/random.h"
#include "testing/run_ranks.h"
#include "testing/thread_names.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

TEST(GpuFaults, MissingPeerTimesOut) {
  SKIP_WITHOUT_GPUS(2);
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", "3000"}};
  runRanks(
      2,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        float* buf;
        CUDA_OK(cudaMalloc(&buf, 1 << 20));
        if (rank == 0) {  // rank 1 never calls: our kernel must give up, not hang
          auto t0 = Clock::now();
          ASSERT_EQ(tuttiAllReduce(buf, buf, 1024, tuttiFloat32, tuttiSum, comm, nullptr),
                    tuttiSuccess);
          cudaDeviceSynchronize();
          double s = secondsSince(t0);
          tuttiResult_t async = tuttiSuccess;
          ASSERT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
          EXPECT_EQ(async, tuttiTimeout) << tuttiGetLastError(comm);
          EXPECT_GE(s, 2.5);
          EXPECT_LT(s, 20.0) << "kernel did not respect the 3 s timeout";
        } else {
          sleep(8);
        }
        tuttiCommDestroy(comm);
      },
      opt);
}

TEST(GpuFaults, TwoRanksOnOneGpuAreRefusedUnlessAllowed) {
  SKIP_WITHOUT_GPUS(1);
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_ALLOW_SHARED_GPU", "0"}};
  runRanks(
      2,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(0));  // both ranks: a device-selection bug in the caller
        tuttiComm_t comm = nullptr;
        EXPECT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiInvalidUsage);
        std::string why = tuttiGetLastError(nullptr);
        EXPECT_NE(why.find("ranks 0 and 1 both use GPU 0"), std::string::npos) << why;
        EXPECT_NE(why.find("TUTTI_ALLOW_SHARED_GPU"), std::string::npos) << why;
        EXPECT_EQ(comm, nullptr);
      },
      opt);
}

TEST(GpuFaults, KilledPeerBecomesErrorQuickly) {
  SKIP_WITHOUT_GPUS(2);
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", "60000"}};
  opt.expectKilled = {1};
  runRanks(
      2,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        float* buf;
        CUDA_OK(cudaMalloc(&buf, 1 << 20));
        for (int i = 0; i < 3; ++i)
          ASSERT_EQ(tuttiAllReduce(buf, buf, 1024, tuttiFloat32, tuttiSum, comm, nullptr),
                    tuttiSuccess);
        CUDA_OK(cudaDeviceSynchronize());
        if (rank == 1) raise(SIGKILL);  // dies between collectives; rank 0 goes on
        auto t0 = Clock::now();
        for (int i = 0; i < 3; ++i)
          tuttiAllReduce(buf, buf, 1024, tuttiFloat32, tuttiSum, comm, nullptr);
        cudaDeviceSynchronize();
        tuttiResult_t async = tuttiSuccess;
        ASSERT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
        EXPECT_EQ(async, tuttiRemoteError) << tuttiGetLastError(comm);
        EXPECT_LT(secondsSince(t0), 10.0) << "a dead peer must not cost the whole timeout";
        tuttiCommAbort(comm);
      },
      opt);
}

TEST(GpuFaults, AbortFreesStuckKernel) {
  SKIP_WITHOUT_GPUS(2);
  RankOptions opt;
  opt.createComm = false;
  runRanks(
      2,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        float* buf;
        CUDA_OK(cudaMalloc(&buf, 1 << 20));
        if (rank == 0) {
          ASSERT_EQ(tuttiAllReduce(buf, buf, 1024, tuttiFloat32, tuttiSum, comm, nullptr),
                    tuttiSuccess);
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
          auto t0 = Clock::now();
          EXPECT_EQ(tuttiCommAbort(comm), tuttiSuccess);
          cudaDeviceSynchronize();
          EXPECT_LT(secondsSince(t0), 5.0) << "abort did not free the stuck kernel";
        } else {
          sleep(3);
          tuttiCommDestroy(comm);
        }
      },
      opt);
}

// Registered before the communicator exists, so it runs after what the communicator
// registered at exit: by then the watchdog, which writes into pinned memory that CUDA frees as
// it tears down, must be gone.
void failIfTheWatchdogOutlivesExit() {
  const std::string alive = threadsNamed("tutti-watchdog") + threadsNamed("tutti-proxy");
  if (!alive.empty()) {
    fprintf(stderr, "threads still running at exit:\n%s", alive.c_str());
    _exit(9);
  }
}

// A process that exits without destroying its communicator (rank 1, after its kernels are done)
// stops the watchdog first; rank 0 goes on to destroy its own.
TEST(GpuFaults, ExitWithoutDestroyStopsTheWatchdogFirst) {
  SKIP_WITHOUT_GPUS(2);
  RankOptions opt;
  opt.createComm = false;
  opt.beforeInit = [](int rank) {
    if (rank == 1) {
      ASSERT_EQ(atexit(failIfTheWatchdogOutlivesExit), 0);
    }
  };
  runRanks(
      2,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        float* buf;
        CUDA_OK(cudaMalloc(&buf, 1 << 20));
        ASSERT_EQ(tuttiAllReduce(buf, buf, 1024, tuttiFloat32, tuttiSum, comm, nullptr),
                  tuttiSuccess);
        CUDA_OK(cudaDeviceSynchronize());
        if (rank == 1) {
          ASSERT_FALSE(threadsNamed("tutti-watchdog").empty()) << "the test needs a watchdog";
          fflush(nullptr);
          exit(0);  // no tuttiCommDestroy
        }
        tuttiCommDestroy(comm);
      },
      opt);
}

// TUTTI_FAULT where=gpu: rank 1 of 3 processes sharing the GPU(s) fails at its third collective
// (kill: dies; hang: leaves the kernel out; close: fails its communicator; delay: launches late).
class GpuFaultInjection : public ::testing::TestWithParam<std::string> {};

TEST_P(GpuFaultInjection, EveryRankErrorsInTimeOrIsRight) {
  SKIP_WITHOUT_GPUS(3);
  constexpr int kRanks = 3, kVictim = 1, kCalls = 4, kTimeoutMs = 3000;
  constexpr size_t kCount = 5003;
  const std::string kind = GetParam();
  const bool kill = kind == "kill", delay = kind.rfind("delay", 0) == 0;
  RankOptions opt;
  opt.createComm = false;
  opt.env = {
      {"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)},
      {"TUTTI_FLIGHT_RECORDER", "0"},
      {"TUTTI_CHECK_CALLS", "2"},  // a hung rank's late kernel must not pair with a later call
      {"TUTTI_FAULT", "rank=" + std::to_string(kVictim) + ",call=2,kind=" + kind + ",where=gpu"}};
  if (kill) opt.expectKilled = {kVictim};
  runRanks(
      kRanks,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        const uint64_t seed = testSeed();
        std::vector<int32_t> host(kCount);
        std::vector<int32_t*> bufs(kCalls);
        for (int k = 0; k < kCalls; ++k) {
          CUDA_OK(cudaMalloc(&bufs[k], kCount * sizeof(int32_t)));
          fillInput(host.data(), kCount, seed + k, rank, tuttiInt32, tuttiSum, n);
          CUDA_OK(
              cudaMemcpy(bufs[k], host.data(), kCount * sizeof(int32_t), cudaMemcpyHostToDevice));
        }
        const auto t0 = Clock::now();
        tuttiResult_t r = tuttiSuccess;
        for (int k = 0; k < kCalls && r == tuttiSuccess; ++k)
          r = tuttiAllReduce(bufs[k], bufs[k], kCount, tuttiInt32, tuttiSum, comm, nullptr);
        cudaDeviceSynchronize();
        tuttiResult_t async = tuttiSuccess;
        ASSERT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
        const double secs = secondsSince(t0);
        if (!delay) {
          EXPECT_TRUE(r != tuttiSuccess || async != tuttiSuccess) << "rank " << rank;
          EXPECT_LT(secs, kTimeoutMs / 1000.0 + 1.0)
              << "rank " << rank << ": " << tuttiGetLastError(comm);
          printf("%s: rank %d errs after %.2f s: %s\n", kind.c_str(), rank, secs,
                 tuttiGetLastError(comm));
          tuttiCommAbort(comm);
          return;
        }
        EXPECT_EQ(r, tuttiSuccess) << "rank " << rank << ": " << tuttiGetLastError(comm);
        EXPECT_EQ(async, tuttiSuccess) << "rank " << rank << ": " << tuttiGetLastError(comm);
        size_t wrong = 0;
        for (int k = 0; k < kCalls; ++k) {
          CUDA_OK(
              cudaMemcpy(host.data(), bufs[k], kCount * sizeof(int32_t), cudaMemcpyDeviceToHost));
          for (size_t e = 0; e < kCount; ++e) {
            int64_t sum = 0;
            for (int q = 0; q < n; ++q)
              sum += static_cast<int64_t>(inputValue(seed + k, q, e, tuttiInt32, tuttiSum, n));
            wrong += host[e] != static_cast<int32_t>(sum);
          }
        }
        EXPECT_EQ(wrong, 0u) << "rank " << rank << " (seed " << seed << ")";
        tuttiCommDestroy(comm);
      },
      opt);
}

INSTANTIATE_TEST_SUITE_P(Kinds, GpuFaultInjection,
                         ::testing::Values("kill", "hang", "close", "delay:300ms"),
                         [](const auto& info) { return paramName(info.param); });

}  // namespace
}  // namespace tutti::testing
