// Dead and slow peers: a rank killed in the middle of a collective, or one that never arrives,
// makes every other rank return an error within the timeout instead of hanging.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Rank `victim` dies in the middle of a loop of large AllReduces; the others must fail fast.
void killMidCollective(const char* transport, int victim) {
  RankOptions opt;
  opt.env = {{"TUTTI_TIMEOUT_MS", "20000"}, {"TUTTI_TRANSPORT", transport}};
  opt.expectKilled = {victim};
  runRanks(
      4,
      [victim](tuttiComm_t comm, int rank, int) {
        const size_t count = 4 << 20;  // 16 MiB: the victim dies while data is in flight
        std::vector<float> buf(count, 1.0f);
        if (rank == victim) {
          std::thread([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            raise(SIGKILL);
          }).detach();
        }
        tuttiResult_t r = tuttiSuccess;
        auto t0 = Clock::now();
        for (int i = 0; i < 1000 && r == tuttiSuccess; ++i) {
          t0 = Clock::now();
          r = tuttiAllReduce(buf.data(), buf.data(), count, tuttiFloat32, tuttiSum, comm, nullptr);
        }
        EXPECT_NE(r, tuttiSuccess) << "rank " << rank << " never noticed the dead peer";
        // The dead peer must be seen well before the timeout: a rank that only gives up at the
        // timeout missed it (as the socket transport did when the victim died in the middle of an
        // element and left a partial one behind).
        EXPECT_LT(since(t0), 20.0) << "rank " << rank << " waited past the timeout";
        EXPECT_TRUE(r == tuttiRemoteError || r == tuttiTimeout) << tuttiGetErrorString(r);
        tuttiResult_t async;
        EXPECT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
        EXPECT_EQ(async, r);
        // The communicator stays failed: the next call errors at once.
        EXPECT_NE(tuttiAllReduce(buf.data(), buf.data(), 1, tuttiFloat32, tuttiSum, comm, nullptr),
                  tuttiSuccess);
      },
      opt);
}

TEST(Faults, KilledRankOverSharedMemory) { killMidCollective("auto", 2); }
TEST(Faults, KilledRankOverSockets) { killMidCollective("socket", 1); }

TEST(Faults, SlowPeerTimesOutOnEveryRank) {
  RankOptions opt;
  opt.env = {{"TUTTI_TIMEOUT_MS", "1500"}};
  runRanks(
      3,
      [](tuttiComm_t comm, int rank, int) {
        std::vector<float> buf(1000, 1.0f);
        if (rank == 2) sleep(4);  // far past the others' timeout
        auto t0 = Clock::now();
        tuttiResult_t r =
            tuttiAllReduce(buf.data(), buf.data(), 1000, tuttiFloat32, tuttiSum, comm, nullptr);
        if (rank != 2) {
          // The first rank to give up times out; a neighbour may hear of it first and report
          // the peer's failure instead. Either way, no later than the timeout.
          EXPECT_TRUE(r == tuttiTimeout || r == tuttiRemoteError) << tuttiGetLastError(comm);
          EXPECT_GE(since(t0), 1.4);
          EXPECT_LT(since(t0), 6.0);
          EXPECT_NE(std::string(tuttiGetLastError(comm)).find("rank"), std::string::npos);
        } else if (r == tuttiSuccess) {
          // The late rank may still find all its peers' data; its next call learns at once
          // that they gave up.
          auto t1 = Clock::now();
          EXPECT_NE(
              tuttiAllReduce(buf.data(), buf.data(), 1000, tuttiFloat32, tuttiSum, comm, nullptr),
              tuttiSuccess);
          EXPECT_LT(since(t1), 1.0) << tuttiGetLastError(comm);
        }
      },
      opt);
}

TEST(Faults, AbortUnblocksAWaitingCall) {
  runRanks(2, [](tuttiComm_t comm, int rank, int) {
    if (rank == 1) {
      sleep(3);
      return;
    }
    std::vector<float> buf(1000, 1.0f);
    tuttiResult_t r = tuttiSuccess;
    std::thread waiter([&] {
      r = tuttiAllReduce(buf.data(), buf.data(), 1000, tuttiFloat32, tuttiSum, comm, nullptr);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto t0 = Clock::now();
    tuttiComm_t c = comm;
    EXPECT_EQ(tuttiCommAbort(c), tuttiSuccess);
    waiter.join();
    EXPECT_LT(since(t0), 2.0);
    EXPECT_EQ(r, tuttiAborted);
    _exit(::testing::Test::HasFailure() ? 1 : 0);  // the fixture would destroy the freed comm
  });
}

}  // namespace
}  // namespace tutti::testing
