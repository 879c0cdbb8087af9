// Communicator lifecycle: split (with NOCOLOR), finalize, non-blocking init, PreMulSum, avg,
// queries, and several communicators used alternately.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "core/comm.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

TEST(Lifecycle, SplitByParityWithNoColor) {
  runRanks(5, [](tuttiComm_t comm, int rank, int) {
    int color = rank == 4 ? TUTTI_SPLIT_NOCOLOR : rank % 2;
    tuttiComm_t sub = nullptr;
    ASSERT_EQ(tuttiCommSplit(comm, color, -rank, &sub, nullptr), tuttiSuccess)
        << tuttiGetLastError(comm);
    int v = rank, sum = 0;
    if (rank == 4) {
      EXPECT_EQ(sub, nullptr);
      ASSERT_EQ(tuttiAllReduce(&v, &sum, 1, tuttiInt32, tuttiSum, comm, nullptr), tuttiSuccess);
      return;
    }
    ASSERT_NE(sub, nullptr);
    int n = 0, r = -1;
    tuttiCommCount(sub, &n);
    tuttiCommUserRank(sub, &r);
    EXPECT_EQ(n, 2);
    EXPECT_EQ(r, rank < 2 ? 1 : 0);  // key = -rank reverses the order
    ASSERT_EQ(tuttiAllReduce(&v, &sum, 1, tuttiInt32, tuttiSum, sub, nullptr), tuttiSuccess);
    EXPECT_EQ(sum, rank % 2 == 0 ? 0 + 2 : 1 + 3);
    // The parent still works alongside the child.
    ASSERT_EQ(tuttiAllReduce(&v, &sum, 1, tuttiInt32, tuttiSum, comm, nullptr), tuttiSuccess);
    EXPECT_EQ(sum, 0 + 1 + 2 + 3 + 4);
    EXPECT_EQ(tuttiCommFinalize(sub), tuttiSuccess);
    EXPECT_EQ(tuttiAllReduce(&v, &sum, 1, tuttiInt32, tuttiSum, sub, nullptr), tuttiInvalidUsage);
    EXPECT_EQ(tuttiCommDestroy(sub), tuttiSuccess);
  });
}

// A split keeps its parent's nodes: with emulated nodes of 2 ranks (0,1 | 2,3), the child
// {0, 2} spans two nodes and the child {0, 1} one, whatever TUTTI_RANKS_PER_NODE would say of
// the child's own rank numbers.
TEST(Lifecycle, SplitKeepsTheParentsNodes) {
  RankOptions opt;
  opt.env.push_back({"TUTTI_RANKS_PER_NODE", "2"});
  runRanks(
      4,
      [](tuttiComm_t comm, int rank, int) {
        auto nodesOf = [](tuttiComm_t c) {
          std::vector<uint64_t> hosts;
          for (const PeerInfo& p : c->peers)
            if (std::find(hosts.begin(), hosts.end(), p.hostHash) == hosts.end())
              hosts.push_back(p.hostHash);
          return hosts.size();
        };
        EXPECT_EQ(nodesOf(comm), 2u);
        tuttiComm_t rail = nullptr, node = nullptr;
        ASSERT_EQ(tuttiCommSplit(comm, rank % 2, rank, &rail, nullptr), tuttiSuccess);
        ASSERT_EQ(tuttiCommSplit(comm, rank / 2, rank, &node, nullptr), tuttiSuccess);
        EXPECT_EQ(nodesOf(rail), 2u) << "ranks " << rank % 2 << " and " << rank % 2 + 2;
        EXPECT_EQ(nodesOf(node), 1u);
        int v = rank + 1, sum = 0;
        ASSERT_EQ(tuttiAllReduce(&v, &sum, 1, tuttiInt32, tuttiSum, rail, nullptr), tuttiSuccess);
        EXPECT_EQ(sum, rank % 2 == 0 ? 1 + 3 : 2 + 4);
        tuttiCommDestroy(rail);
        tuttiCommDestroy(node);
      },
      opt);
}

TEST(Lifecycle, NonBlockingInit) {
  RankOptions opt;
  opt.createComm = false;
  runRanks(
      3,
      [](tuttiComm_t, int rank, int n) {
        tuttiConfig_t cfg = TUTTI_CONFIG_INITIALIZER;
        cfg.blocking = 0;
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRankConfig(&comm, n, currentUniqueId(), rank, &cfg),
                  tuttiInProgress);
        ASSERT_NE(comm, nullptr);
        tuttiResult_t state = tuttiInProgress;
        for (int i = 0; i < 2000 && state == tuttiInProgress; ++i) {
          ASSERT_EQ(tuttiCommGetAsyncError(comm, &state), tuttiSuccess);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        ASSERT_EQ(state, tuttiSuccess) << tuttiGetLastError(comm);
        double v = 1.5, out = 0;
        ASSERT_EQ(tuttiAllReduce(&v, &out, 1, tuttiFloat64, tuttiSum, comm, nullptr), tuttiSuccess);
        EXPECT_EQ(out, 4.5);
        tuttiCommDestroy(comm);
      },
      opt);
}

TEST(Lifecycle, PreMulSumAndAvg) {
  runRanks(4, [](tuttiComm_t comm, int rank, int n) {
    float scalar = 0.5f;
    tuttiRedOp_t op;
    ASSERT_EQ(tuttiRedOpCreatePreMulSum(&op, &scalar, tuttiFloat32, comm), tuttiSuccess);
    std::vector<float> in(1001, static_cast<float>(rank + 1)), out(1001);
    ASSERT_EQ(tuttiAllReduce(in.data(), out.data(), 1001, tuttiFloat32, op, comm, nullptr),
              tuttiSuccess)
        << tuttiGetLastError(comm);
    EXPECT_EQ(out[1000], 0.5f * (1 + 2 + 3 + 4));
    ASSERT_EQ(tuttiRedOpDestroy(op, comm), tuttiSuccess);
    EXPECT_EQ(tuttiAllReduce(in.data(), out.data(), 1001, tuttiFloat32, op, comm, nullptr),
              tuttiInvalidArgument);
    std::vector<int32_t> iv(7, rank * 3), iout(7);
    ASSERT_EQ(tuttiAllReduce(iv.data(), iout.data(), 7, tuttiInt32, tuttiAvg, comm, nullptr),
              tuttiSuccess);
    EXPECT_EQ(iout[6], (0 + 3 + 6 + 9) / n);
  });
}

TEST(Lifecycle, QueriesAndVersion) {
  runRanks(2, [](tuttiComm_t comm, int rank, int n) {
    int v = 0, dev = 5, r = -1, count = 0;
    EXPECT_EQ(tuttiGetVersion(&v), tuttiSuccess);
    EXPECT_EQ(v, TUTTI_VERSION_CODE);
    EXPECT_EQ(tuttiCommCuDevice(comm, &dev), tuttiSuccess);
    if (access("/proc/driver/nvidia/gpus", F_OK) != 0) {
      EXPECT_EQ(dev, -1);  // host-only ranks
    }
    EXPECT_EQ(tuttiCommUserRank(comm, &r), tuttiSuccess);
    EXPECT_EQ(r, rank);
    EXPECT_EQ(tuttiCommCount(comm, &count), tuttiSuccess);
    EXPECT_EQ(count, n);
    EXPECT_EQ(tuttiCommFinalize(comm), tuttiSuccess);
  });
}

}  // namespace
}  // namespace tutti::testing
