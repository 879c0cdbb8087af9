// A rank that fails before it can join (no interface matches TUTTI_SOCKET_IFNAME, a bad
// TUTTI_FAULT) withdraws at the rendezvous root: every rank's init fails at once with its
// reason, whether it joined before or after the withdrawal, and whichever rank hosts the root.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kRanks = 3;
constexpr int kTimeoutMs = 30000;
// Every rank must be done well inside the timeout: the failing rank's peers are told, not
// left to give up.
constexpr double kPromptSec = kTimeoutMs / 3000.0;

struct Case {
  int failing;       // the rank that cannot join
  bool failsFirst;   // it withdraws before the others announce themselves (else after)
  bool rootInRank0;  // TUTTI_COMM_ID: rank 0 hosts the root (else the test's parent does)
};

std::string caseName(const ::testing::TestParamInfo<Case>& info) {
  return "rank" + std::to_string(info.param.failing) + (info.param.failsFirst ? "First" : "Last") +
         (info.param.rootInRank0 ? "RootInRank0" : "RootInParent");
}

// Runs kRanks ranks where `c.failing` sets `var=value`, which fails its init before the
// rendezvous with a message holding `failingPhrase`. The others must fail too, promptly, with
// tuttiRemoteError naming the failing rank and quoting its reason.
void expectEveryRankFails(const Case& c, const char* var, const char* value,
                          const std::string& failingPhrase, int port) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)}};
  if (c.rootInRank0) {
    opt.env.push_back({"TUTTI_COMM_ID", "127.0.0.1:" + std::to_string(port)});
    opt.env.push_back({"TUTTI_COMM_SECRET", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"});
  }
  runRanks(
      kRanks,
      [&](tuttiComm_t, int rank, int n) {
        tuttiUniqueId id = currentUniqueId();
        if (c.rootInRank0) {
          ASSERT_EQ(tuttiGetUniqueId(&id), tuttiSuccess);
        }
        const bool failing = rank == c.failing;
        if (failing) setenv(var, value, 1);
        // The order: the failing rank withdraws first, or the others are already waiting. Late
        // ranks come in rank order, so that a rank 0 hosting the root is told before rank 1
        // arrives (its process must stay until the root has answered rank 1 too).
        if (failing != c.failsFirst)
          std::this_thread::sleep_for(std::chrono::milliseconds(500 + 300 * rank));
        const auto t0 = Clock::now();
        tuttiComm_t comm = nullptr;
        const tuttiResult_t r = tuttiCommInitRank(&comm, n, id, rank);
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_EQ(comm, nullptr);
        EXPECT_LT(secs, kPromptSec) << "rank " << rank << " waited for the timeout: " << msg;
        EXPECT_NE(msg.find(failingPhrase), std::string::npos) << "rank " << rank << ": " << msg;
        if (failing) {
          EXPECT_EQ(r, tuttiInvalidArgument) << msg;
          return;
        }
        EXPECT_EQ(r, tuttiRemoteError) << "rank " << rank << ": " << msg;
        const std::string who = "rank " + std::to_string(c.failing) + " could not join";
        EXPECT_NE(msg.find(who), std::string::npos) << "rank " << rank << ": " << msg;
      },
      opt);
}

class RendezvousWithdraw : public ::testing::TestWithParam<Case> {};

// Fails inside the bootstrap, after rank 0 has started its root.
TEST_P(RendezvousWithdraw, UnmatchedInterfaceFailsEveryRankAtOnce) {
  const Case c = GetParam();
  expectEveryRankFails(c, "TUTTI_SOCKET_IFNAME", "=tutti-no-such-if0",
                       "no usable network interface matches TUTTI_SOCKET_IFNAME==tutti-no-such-if0",
                       29611 + c.failing * 4 + c.failsFirst * 2 + c.rootInRank0);
}

// Fails before the bootstrap starts: a rank 0 that hosts the root starts it to withdraw.
TEST_P(RendezvousWithdraw, BadFaultSpecFailsEveryRankAtOnce) {
  const Case c = GetParam();
  expectEveryRankFails(c, "TUTTI_FAULT", "rank=0,kind=nosuchkind", "TUTTI_FAULT",
                       29631 + c.failing * 4 + c.failsFirst * 2 + c.rootInRank0);
}

// Two ranks withdraw: the root keeps the first one's reason and still ends once every rank has
// joined or withdrawn, so nobody waits.
TEST(RendezvousWithdrawTwice, EveryRankFailsAtOnceNamingTheFirst) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)}};
  runRanks(
      kRanks,
      [&](tuttiComm_t, int rank, int n) {
        if (rank > 0) setenv("TUTTI_SOCKET_IFNAME", "=tutti-no-such-if0", 1);
        if (rank == 2) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const auto t0 = Clock::now();
        tuttiComm_t comm = nullptr;
        const tuttiResult_t r = tuttiCommInitRank(&comm, n, currentUniqueId(), rank);
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_NE(r, tuttiSuccess);
        EXPECT_LT(secs, kPromptSec) << "rank " << rank << " waited for the timeout: " << msg;
        if (rank == 0) {
          EXPECT_NE(msg.find("rank 1 could not join"), std::string::npos) << msg;
        }
        EXPECT_NE(msg.find("TUTTI_SOCKET_IFNAME==tutti-no-such-if0"), std::string::npos) << msg;
      },
      opt);
}

INSTANTIATE_TEST_SUITE_P(Cases, RendezvousWithdraw,
                         ::testing::Values(Case{0, true, false}, Case{0, false, true},
                                           Case{0, true, true}, Case{2, true, false},
                                           Case{2, false, false}, Case{1, false, true},
                                           Case{2, true, true}),
                         caseName);

}  // namespace
}  // namespace tutti::testing
