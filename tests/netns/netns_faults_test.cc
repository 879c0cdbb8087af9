// Failures across namespace hosts: a rank killed on another host, and a host's interface taken
// down in the middle of a run, become errors on every surviving rank within the timeout (plus
// a margin), over sockets and (when registered) UCX; a host whose interface setting matches
// nothing fails every rank's init at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "netns/netns_testing.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Large AllReduces in a bounded loop until one fails; returns the failing result and how long
// that last call took.
tuttiResult_t allReduceUntilError(tuttiComm_t comm, double* lastCallSec) {
  const size_t count = (4 << 20) + 3;  // 16 MiB: data is in flight when the fault hits
  std::vector<float> buf(count, 1.0f);
  tuttiResult_t r = tuttiSuccess;
  auto t0 = Clock::now();
  for (int i = 0; i < 2000 && r == tuttiSuccess; ++i) {
    t0 = Clock::now();
    r = tuttiAllReduce(buf.data(), buf.data(), count, tuttiFloat32, tuttiSum, comm, nullptr);
  }
  *lastCallSec = since(t0);
  return r;
}

void expectFailedComm(tuttiComm_t comm, int rank, tuttiResult_t r) {
  EXPECT_NE(r, tuttiSuccess) << "rank " << rank << " never noticed the fault";
  EXPECT_TRUE(r == tuttiRemoteError || r == tuttiTimeout || r == tuttiSystemError)
      << "rank " << rank << ": " << tuttiGetErrorString(r);
  EXPECT_NE(std::string(tuttiGetLastError(comm)), "") << "rank " << rank;
  tuttiResult_t async;
  EXPECT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
  EXPECT_EQ(async, r) << "rank " << rank;
}

class NetnsFaults : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    if (netTransport(GetParam()) == "ucx" && !ucxUsable(&why))
      GTEST_SKIP() << "skipped: no UCX here: " << why;
  }
};

// Rank 3 lives on host 1 and dies mid-collective; ranks 0 and 1 on host 0 learn it over the
// network, rank 2 (its host-mate) over shared memory.
TEST_P(NetnsFaults, RankKilledOnAnotherHost) {
  TUTTI_NETNS_HOSTS_OR_SKIP(hosts);
  constexpr int kVictim = 3;
  constexpr double kTimeoutSec = 10;
  RankOptions opt;
  opt.env = netEnv(GetParam());
  opt.env.push_back({"TUTTI_TIMEOUT_MS", "10000"});
  opt.expectKilled = {kVictim};
  opt.timeoutSec = 90;
  runRanksOnHosts(
      *hosts, {2, 2},
      [&](tuttiComm_t comm, int rank, int) {
        if (rank == kVictim)
          std::thread([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
            raise(SIGKILL);
          }).detach();
        double last = 0;
        tuttiResult_t r = allReduceUntilError(comm, &last);
        expectFailedComm(comm, rank, r);
        EXPECT_LT(last, kTimeoutSec + 5) << "rank " << rank << " waited past the timeout";
      },
      opt);
}

// Host 0's interface goes down while AllReduces run: nothing crosses any more and no peer can
// say why, so every rank must give up by its own timeout rather than hang in TCP retries.
TEST_P(NetnsFaults, InterfaceDownMidRun) {
  TUTTI_NETNS_HOSTS_OR_SKIP(hosts);
  constexpr double kTimeoutSec = 3;
  RankOptions opt;
  opt.env = netEnv(GetParam());
  opt.env.push_back({"TUTTI_TIMEOUT_MS", "3000"});
  opt.timeoutSec = 90;
  runRanksOnHosts(
      *hosts, {2, 2},
      [&](tuttiComm_t comm, int rank, int) {
        std::thread downer;
        if (rank == 0)
          // This process is inside host 0: the shell it starts takes host 0's link down.
          downer = std::thread([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
            if (system("ip link set tnet0 down") != 0) ADD_FAILURE() << "ip link set down failed";
          });
        double last = 0;
        tuttiResult_t r = allReduceUntilError(comm, &last);
        if (downer.joinable()) downer.join();
        expectFailedComm(comm, rank, r);
        EXPECT_LT(last, kTimeoutSec + 5) << "rank " << rank << " waited past the timeout";
      },
      opt);
  EXPECT_TRUE(hosts->setLinkUp(0, true)) << "could not bring host 0's link back up";
}

// The last host's only rank names an interface that does not exist there: it fails listing that
// host's interfaces, and the ranks on the other hosts fail at once with its sentence, through
// the rendezvous root on host 0, instead of waiting for it until the timeout.
TEST(NetnsInterfaces, UnmatchedInterfaceOnOneHostFailsEveryRankAtOnce) {
  TUTTI_NETNS_HOSTS_OR_SKIP(hosts);
  constexpr int kLost = 3, kTimeoutMs = 30000;
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)}};
  opt.beforeInit = [](int rank) {
    if (rank == kLost) setenv("TUTTI_SOCKET_IFNAME", "=eth9", 1);
  };
  opt.timeoutSec = 90;
  runRanksOnHosts(
      *hosts, {1, 2, 1},
      [&](tuttiComm_t, int rank, int n) {
        tuttiUniqueId id;
        ASSERT_EQ(tuttiGetUniqueId(&id), tuttiSuccess);  // from TUTTI_COMM_ID: root on rank 0
        const auto t0 = Clock::now();
        tuttiComm_t comm = nullptr;
        const tuttiResult_t r = tuttiCommInitRank(&comm, n, id, rank);
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_EQ(comm, nullptr);
        EXPECT_EQ(r, rank == kLost ? tuttiInvalidArgument : tuttiRemoteError)
            << "rank " << rank << ": " << msg;
        EXPECT_LT(since(t0), kTimeoutMs / 3000.0) << "rank " << rank << " waited: " << msg;
        // The lost rank's host has lo and the test link, and every rank reads that list.
        const std::string list = std::string("interfaces here: lo (127.0.0.1, up, loopback), ") +
                                 NetnsHosts::ifname() + " (" + hosts->address(2);
        EXPECT_NE(msg.find("matches TUTTI_SOCKET_IFNAME==eth9"), std::string::npos) << msg;
        EXPECT_NE(msg.find(list), std::string::npos) << "rank " << rank << ": " << msg;
        if (rank != kLost) {
          EXPECT_NE(msg.find("rank 3 could not join"), std::string::npos) << msg;
        }
      },
      opt);
}

// Every host has an interface with the same address (as docker0 has 172.17.0.1 everywhere),
// and TUTTI_SOCKET_IFNAME names it: each rank announces an address that, from its ring
// predecessor's host, is that host's own, where nothing listens. The ring connect is refused,
// and a refusal is final once the table is out (every rank listens before it announces itself),
// so every rank fails at once: those refused say that the address is their own host's too, and
// the root tells the others (whose predecessor shares their host and reached them).
class NetnsSameAddress : public ::testing::TestWithParam<std::vector<int>> {};

TEST_P(NetnsSameAddress, EveryRankFailsAtOnceSayingSo) {
  TUTTI_NETNS_HOSTS_OR_SKIP(hosts);
  constexpr int kTimeoutMs = 30000;
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)}};
  opt.beforeInit = [](int) {
    // Inside the rank's host: a link of the test's own, the same address on every host.
    if (system("ip link add tdup0 type bridge 2>/dev/null; ip addr add 10.99.0.1/24 dev tdup0 "
               "2>/dev/null; ip link set tdup0 up") != 0)
      _exit(5);
    setenv("TUTTI_SOCKET_IFNAME", "=tdup0", 1);
  };
  opt.timeoutSec = 90;
  const std::vector<int> hostOf = hostOfRanks(GetParam());
  runRanksOnHosts(
      *hosts, GetParam(),
      [&](tuttiComm_t, int rank, int n) {
        tuttiUniqueId id;
        ASSERT_EQ(tuttiGetUniqueId(&id), tuttiSuccess);  // TUTTI_COMM_ID: host 0's tnet0
        const auto t0 = Clock::now();
        tuttiComm_t comm = nullptr;
        const tuttiResult_t r = tuttiCommInitRank(&comm, n, id, rank);
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_NE(r, tuttiSuccess) << "rank " << rank;
        EXPECT_LT(since(t0), kTimeoutMs / 3000.0) << "rank " << rank << " waited: " << msg;
        EXPECT_NE(msg.find("nothing listens at 10.99.0.1:"), std::string::npos) << msg;
        EXPECT_NE(msg.find("10.99.0.1 is an address of this host too (tdup0)"), std::string::npos)
            << "rank " << rank << ": " << msg;
        // A rank whose successor shares its host connects to it, and hears from the root that
        // its predecessor could not connect.
        if (hostOf[(rank + 1) % n] == hostOf[rank]) {
          EXPECT_NE(msg.find("could not connect the bootstrap ring"), std::string::npos) << msg;
        }
      },
      opt);
  for (int h = 0; h < hosts->size(); ++h) hosts->run(h, "ip link del tdup0 2>/dev/null");
}

// One rank per host: every ring connection is refused. Two per host: a rank whose predecessor
// is on its own host is connected to, and learns of the failure from the root.
INSTANTIATE_TEST_SUITE_P(Layouts, NetnsSameAddress,
                         ::testing::Values(std::vector<int>{1, 1, 1}, std::vector<int>{2, 2}),
                         [](const ::testing::TestParamInfo<std::vector<int>>& i) {
                           return i.param.size() == 3 ? std::string("ThreeHostsOfOne")
                                                      : std::string("TwoHostsOfTwo");
                         });

INSTANTIATE_TEST_SUITE_P(Net, NetnsFaults,
                         ::testing::Values("socket", "socket_striped", "ucx", "ucx_striped"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace tutti::testing
