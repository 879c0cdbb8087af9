// Failure paths on the GPU: a peer that never joins makes the kernel give up at the timeout
// (reported by tuttiCommGetAsyncError), tuttiCommAbort frees a stuck kernel at once, and two
// ranks on one GPU are refused on both ranks unless TUTTI_ALLOW_SHARED_GPU allows it.
#include <cuda_runtime.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "gpu/gpu_testing.h"
#include "testing/run_ranks.h"

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

}  // namespace
}  // namespace tutti::testing
