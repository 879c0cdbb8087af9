// Communicator semantics through libnccl.so.2 across forked ranks: split (NOCOLOR, keys,
// inherited config), shrink, non-blocking init, finalize, abort, revoke, PreMulSum scalars
// read at launch, grouped simulation, and InitRankScalable.
#include <gtest/gtest.h>
#include <nccl.h>

#include <cstring>
#include <vector>

#include "nccl_ranks.h"
#include "nccl_reference.h"

using namespace shimtest;

namespace {

#define SHIM_OK(call, comm) \
  ASSERT_EQ((call), ncclSuccess) << #call << ": " << ncclGetLastError(comm)

// Sum-AllReduce of each rank's (rank + 1) over `comm`: checks the communicator works.
void expectWorks(ncclComm_t comm) {
  int n = 0, rank = 0;
  SHIM_OK(ncclCommCount(comm, &n), comm);
  SHIM_OK(ncclCommUserRank(comm, &rank), comm);
  std::vector<int32_t> v(257, rank + 1);
  SHIM_OK(ncclAllReduce(v.data(), v.data(), v.size(), ncclInt32, ncclSum, comm, nullptr), comm);
  EXPECT_EQ(v[0], n * (n + 1) / 2);
  EXPECT_EQ(v[256], n * (n + 1) / 2);
}

ncclResult_t pollUntilDone(ncclComm_t comm) {
  ncclResult_t state = ncclInProgress;
  for (int i = 0; i < 60000 && state == ncclInProgress; ++i) {
    if (ncclCommGetAsyncError(comm, &state) != ncclSuccess) return ncclInternalError;
    if (state == ncclInProgress) sleepMs(1);
  }
  return state;
}

TEST(ShimComm, SplitWithKeysAndNoColor) {
  runNcclRanks(3, [](ncclComm_t comm, int rank, int n) {
    // Ranks 0 and 2 form one communicator in reverse order; rank 1 stays out.
    const int color = rank == 1 ? NCCL_SPLIT_NOCOLOR : 7;
    ncclComm_t sub = reinterpret_cast<ncclComm_t>(0x1);
    SHIM_OK(ncclCommSplit(comm, color, -rank, &sub, nullptr), comm);
    if (rank == 1) {
      EXPECT_EQ(sub, nullptr);
      expectWorks(comm);  // the parent is unaffected
      return;
    }
    ASSERT_NE(sub, nullptr);
    int count = 0, subRank = -1;
    SHIM_OK(ncclCommCount(sub, &count), sub);
    SHIM_OK(ncclCommUserRank(sub, &subRank), sub);
    EXPECT_EQ(count, 2);
    EXPECT_EQ(subRank, rank == 2 ? 0 : 1);
    expectWorks(sub);
    SHIM_OK(ncclCommDestroy(sub), sub);
    expectWorks(comm);  // the parent is unaffected
  });
}

TEST(ShimComm, SplitWithConfigAndNegativeColorRejected) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    ncclComm_t sub = nullptr;
    EXPECT_EQ(ncclCommSplit(comm, -5, 0, &sub, nullptr), ncclInvalidArgument);
    EXPECT_NE(std::string(ncclGetLastError(comm)).find("color"), std::string::npos);
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    config.commName = "split-nonblocking";
    config.maxCTAs = 4;
    ncclResult_t r = ncclCommSplit(comm, 0, rank, &sub, &config);
    ASSERT_TRUE(r == ncclSuccess || r == ncclInProgress) << ncclGetLastError(comm);
    ASSERT_NE(sub, nullptr);
    EXPECT_EQ(pollUntilDone(sub), ncclSuccess);
    expectWorks(sub);
    SHIM_OK(ncclCommDestroy(sub), sub);
  });
}

TEST(ShimComm, ShrinkExcludesRanksWithoutThem) {
  runNcclRanks(3, [](ncclComm_t comm, int rank, int n) {
    int exclude[] = {1};
    ncclComm_t small = reinterpret_cast<ncclComm_t>(0x1);
    // The excluded rank may call too; it gets no communicator and takes no part.
    SHIM_OK(ncclCommShrink(comm, exclude, 1, &small, nullptr, NCCL_SHRINK_DEFAULT), comm);
    if (rank == 1) {
      EXPECT_EQ(small, nullptr);
      return;
    }
    ASSERT_NE(small, nullptr);
    int count = 0, newRank = -1;
    SHIM_OK(ncclCommCount(small, &count), small);
    SHIM_OK(ncclCommUserRank(small, &newRank), small);
    EXPECT_EQ(count, 2);
    EXPECT_EQ(newRank, rank == 0 ? 0 : 1);
    expectWorks(small);
    SHIM_OK(ncclCommDestroy(small), small);
  });
}

TEST(ShimComm, ShrinkArgumentErrors) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    ncclComm_t out = nullptr;
    int bad[] = {5};
    EXPECT_EQ(ncclCommShrink(comm, bad, 1, &out, nullptr, 0), ncclInvalidArgument);
    int twice[] = {0, 0};
    EXPECT_EQ(ncclCommShrink(comm, twice, 2, &out, nullptr, 0), ncclInvalidArgument);
    int all[] = {0, 1};
    EXPECT_EQ(ncclCommShrink(comm, all, 2, &out, nullptr, 0), ncclInvalidArgument);
    EXPECT_EQ(ncclCommShrink(comm, nullptr, 1, &out, nullptr, 0), ncclInvalidArgument);
    EXPECT_EQ(ncclCommShrink(comm, nullptr, 0, &out, nullptr, 0x10), ncclInvalidArgument);
    EXPECT_EQ(ncclCommShrink(comm, nullptr, 0, nullptr, nullptr, 0), ncclInvalidArgument);
    expectWorks(comm);
  });
}

TEST(ShimComm, NonBlockingInitIsPolled) {
  RankOptions options;
  options.createComm = false;
  runNcclRanks(
      3,
      [](ncclComm_t, int rank, int n) {
        ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
        config.blocking = 0;
        ncclComm_t comm = nullptr;
        ncclResult_t r = ncclCommInitRankConfig(&comm, n, currentUniqueId(), rank, &config);
        ASSERT_TRUE(r == ncclInProgress || r == ncclSuccess) << ncclGetLastError(nullptr);
        ASSERT_NE(comm, nullptr);
        int count = 0;
        SHIM_OK(ncclCommCount(comm, &count), comm);  // known before init completes
        EXPECT_EQ(count, n);
        EXPECT_EQ(pollUntilDone(comm), ncclSuccess) << ncclGetLastError(comm);
        expectWorks(comm);
        SHIM_OK(ncclCommFinalize(comm), comm);
        SHIM_OK(ncclCommDestroy(comm), comm);
      },
      options);
}

TEST(ShimComm, InitRankScalableUsesTheFirstId) {
  RankOptions options;
  options.createComm = false;
  runNcclRanks(
      2,
      [](ncclComm_t, int rank, int n) {
        ncclUniqueId ids[2] = {currentUniqueId(), currentUniqueId()};
        ncclComm_t comm = nullptr;
        SHIM_OK(ncclCommInitRankScalable(&comm, n, rank, 2, ids, nullptr), nullptr);
        expectWorks(comm);
        SHIM_OK(ncclCommDestroy(comm), comm);
      },
      options);
}

TEST(ShimComm, FinalizeThenDestroy) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    expectWorks(comm);
    SHIM_OK(ncclCommFinalize(comm), comm);
    std::vector<float> v(8, 1.0f);
    EXPECT_NE(ncclAllReduce(v.data(), v.data(), 8, ncclFloat32, ncclSum, comm, nullptr),
              ncclSuccess);
    EXPECT_NE(std::string(ncclGetLastError(comm)), "");
    SHIM_OK(ncclCommDestroy(comm), comm);
    // The handle is gone: refused, not dereferenced.
    int count = 0;
    EXPECT_EQ(ncclCommCount(comm, &count), ncclInvalidArgument);
  });
}

TEST(ShimComm, AbortDropsPendingGroupedWork) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    std::vector<float> v(64, 1.0f);
    SHIM_OK(ncclGroupStart(), comm);
    SHIM_OK(ncclAllReduce(v.data(), v.data(), v.size(), ncclFloat32, ncclSum, comm, nullptr), comm);
    SHIM_OK(ncclCommAbort(comm), comm);
    // The pending AllReduce went with the communicator: nothing is launched or changed.
    SHIM_OK(ncclGroupEnd(), nullptr);
    EXPECT_EQ(v[0], 1.0f);
    EXPECT_EQ(ncclAllReduce(v.data(), v.data(), 1, ncclFloat32, ncclSum, comm, nullptr),
              ncclInvalidArgument);
  });
}

TEST(ShimComm, AbortedPeerTurnsIntoAnErrorNotAHang) {
  RankOptions options;
  options.env = {{"TUTTI_TIMEOUT_MS", "8000"}};
  runNcclRanks(
      2,
      [](ncclComm_t comm, int rank, int n) {
        expectWorks(comm);
        // Rank 0 aborts only once rank 1 has left that AllReduce (rank 1 says so).
        int done = 1;
        if (rank == 0) {
          SHIM_OK(ncclRecv(&done, 1, ncclInt32, 1, comm, nullptr), comm);
          SHIM_OK(ncclCommAbort(comm), comm);
          return;
        }
        SHIM_OK(ncclSend(&done, 1, ncclInt32, 0, comm, nullptr), comm);
        std::vector<float> v(1 << 16, 1.0f);
        ncclResult_t r =
            ncclAllReduce(v.data(), v.data(), v.size(), ncclFloat32, ncclSum, comm, nullptr);
        EXPECT_TRUE(r == ncclRemoteError || r == ncclSystemError) << ncclGetErrorString(r);
        EXPECT_NE(std::string(ncclGetLastError(comm)), "");
        ncclResult_t async = ncclSuccess;
        SHIM_OK(ncclCommGetAsyncError(comm, &async), comm);
        EXPECT_NE(async, ncclSuccess);
      },
      options);
}

TEST(ShimComm, RevokeRefusesWorkButAllowsSplit) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    EXPECT_EQ(ncclCommRevoke(comm, 1), ncclInvalidArgument);
    SHIM_OK(ncclCommRevoke(comm, NCCL_REVOKE_DEFAULT), comm);
    ncclResult_t state = ncclInProgress;
    SHIM_OK(ncclCommGetAsyncError(comm, &state), comm);
    EXPECT_EQ(state, ncclSuccess);
    std::vector<float> v(8, 1.0f);
    EXPECT_EQ(ncclAllReduce(v.data(), v.data(), 8, ncclFloat32, ncclSum, comm, nullptr),
              ncclInvalidUsage);
    EXPECT_NE(std::string(ncclGetLastError(comm)).find("revoked"), std::string::npos);
    EXPECT_EQ(ncclCommFinalize(comm), ncclInvalidUsage);
    ncclComm_t fresh = nullptr;
    SHIM_OK(ncclCommSplit(comm, 0, rank, &fresh, nullptr), comm);
    expectWorks(fresh);
    SHIM_OK(ncclCommDestroy(fresh), fresh);
  });
}

// A device-resident scalar (here host memory the caller may write) is read when the
// collective launches: at the call outside a group, at ncclGroupEnd inside one.
TEST(ShimComm, PreMulSumScalarIsReadAtLaunch) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    float scalar = 100.0f;
    ncclRedOp_t op;
    SHIM_OK(ncclRedOpCreatePreMulSum(&op, &scalar, ncclFloat32, ncclScalarDevice, comm), comm);
    std::vector<float> v(33, 1.0f);
    scalar = 2.0f;  // after creation, before the call
    SHIM_OK(ncclAllReduce(v.data(), v.data(), v.size(), ncclFloat32, op, comm, nullptr), comm);
    EXPECT_EQ(v[0], 4.0f);
    std::vector<float> w(33, 1.0f);
    SHIM_OK(ncclGroupStart(), comm);
    SHIM_OK(ncclAllReduce(w.data(), w.data(), w.size(), ncclFloat32, op, comm, nullptr), comm);
    scalar = 3.0f;  // before the launch
    // NCCL allows destroying the op once the last call using it has returned.
    SHIM_OK(ncclRedOpDestroy(op, comm), comm);
    SHIM_OK(ncclGroupEnd(), comm);
    EXPECT_EQ(w[32], 6.0f);
    // A host-immediate scalar is copied at creation.
    double h = 0.25;
    SHIM_OK(ncclRedOpCreatePreMulSum(&op, &h, ncclFloat64, ncclScalarHostImmediate, comm), comm);
    h = 10;
    std::vector<double> d(5, 4.0);
    SHIM_OK(ncclAllReduce(d.data(), d.data(), d.size(), ncclFloat64, op, comm, nullptr), comm);
    EXPECT_EQ(d[4], 2.0);
    // The op belongs to float64: another datatype is refused.
    EXPECT_EQ(ncclAllReduce(v.data(), v.data(), 1, ncclFloat32, op, comm, nullptr),
              ncclInvalidArgument);
    SHIM_OK(ncclRedOpDestroy(op, comm), comm);
    EXPECT_EQ(ncclRedOpDestroy(op, comm), ncclInvalidArgument);
    EXPECT_EQ(ncclAllReduce(d.data(), d.data(), 1, ncclFloat64, op, comm, nullptr),
              ncclInvalidArgument);
  });
}

TEST(ShimComm, SimulatedGroupLaunchesNothing) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    std::vector<float> v(1 << 14, 1.0f);
    ncclSimInfo_t sim = NCCL_SIM_INFO_INITIALIZER;
    SHIM_OK(ncclGroupStart(), comm);
    SHIM_OK(ncclAllReduce(v.data(), v.data(), v.size(), ncclFloat32, ncclSum, comm, nullptr), comm);
    SHIM_OK(ncclAllGather(v.data(), v.data(), 0, ncclFloat32, comm, nullptr), comm);
    SHIM_OK(ncclGroupSimulateEnd(&sim), comm);
    EXPECT_GT(sim.estimatedTime, 0.0f);
    EXPECT_EQ(v[0], 1.0f) << "a simulated group must not run";
    // The ranks are still in step: a real collective works.
    expectWorks(comm);
  });
}

TEST(ShimComm, FailedCallDropsTheGroupOnEveryRank) {
  runNcclRanks(2, [](ncclComm_t comm, int rank, int n) {
    std::vector<float> v(16, 1.0f);
    SHIM_OK(ncclGroupStart(), comm);
    SHIM_OK(ncclAllReduce(v.data(), v.data(), v.size(), ncclFloat32, ncclSum, comm, nullptr), comm);
    // Every rank makes the same mistake: the group is dropped everywhere, nothing hangs.
    EXPECT_EQ(ncclBroadcast(v.data(), v.data(), v.size(), ncclFloat32, 9, comm, nullptr),
              ncclInvalidArgument);
    EXPECT_EQ(ncclGroupEnd(), ncclInvalidArgument);
    EXPECT_NE(std::string(ncclGetLastError(nullptr)).find("root 9"), std::string::npos)
        << ncclGetLastError(nullptr);
    EXPECT_EQ(v[0], 1.0f);
    expectWorks(comm);
  });
}

}  // namespace
