// Every collective x dtype x op across namespace hosts against the CPU reference: 2 hosts x 2
// ranks and 3 hosts x (1, 2, 1) ranks, over sockets (one stream, or striped over three) and
// (when registered) UCX with UCX_TLS=tcp; flat and hierarchical plans forced, and the tuner's
// own choice.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "algorithms/rank_layout.h"
#include "core/comm.h"
#include "multiproc/collective_check.h"
#include "netns/netns_testing.h"
#include "testing/random.h"
#include "testing/reference.h"

namespace tutti::testing {
namespace {

struct Sweep {
  Collective collective;
  std::vector<std::string> algorithms;  // "" = the tuner's choice
  bool reduces;
};

// Flat plans and hierarchical (on uneven hosts the ranks beyond the smallest host fold in).
std::vector<Sweep> sweeps() {
  return {
      {Collective::kAllReduce, {"", "ring", "direct", "recursive_doubling", "hierarchical"}, true},
      {Collective::kAllGather, {"", "ring", "hierarchical"}, false},
      {Collective::kReduceScatter, {"", "ring", "hierarchical"}, true},
      {Collective::kAllToAll, {"", "pairwise"}, false},
      {Collective::kAllToAllv, {"pairwise"}, false},
      {Collective::kBroadcast, {"", "tree", "hierarchical"}, false},
      {Collective::kReduce, {"", "chain", "hierarchical"}, true},
  };
}

// Cross-host pairs use the network transport asked for, same-host pairs shared memory: the
// namespaces really separate the hosts.
void checkTransports(tuttiComm_t comm, int rank, const std::vector<int>& hostOf,
                     const std::string& net) {
  for (int p = 0; p < static_cast<int>(hostOf.size()); ++p) {
    if (p == rank) continue;
    const std::string want = hostOf[p] == hostOf[rank] ? "shm" : netTransport(net);
    EXPECT_EQ(comm->transports.typeName(p), want) << "rank " << rank << " to rank " << p;
  }
}

void runLayout(const NetnsHosts& hosts, const std::vector<int>& ranksPerHost,
               const std::string& net) {
  const uint64_t seed = testSeed();
  const std::vector<int> hostOf = hostOfRanks(ranksPerHost);
  RankOptions opt;
  opt.env = netEnv(net);
  opt.env.push_back({"TUTTI_TIMEOUT_MS", "60000"});
  opt.timeoutSec = 150;
  runRanksOnHosts(
      hosts, ranksPerHost,
      [&](tuttiComm_t comm, int rank, int n) {
        checkTransports(comm, rank, hostOf, net);
        ASSERT_NE(comm->topology.layout, nullptr);
        EXPECT_EQ(comm->topology.layout->nnodes, static_cast<int>(ranksPerHost.size()));
        int failures = 0;
        for (const Sweep& s : sweeps())
          for (const std::string& algo : s.algorithms)
            for (tuttiDataType_t dtype : allTypes())
              for (tuttiRedOp_t op : s.reduces ? allOps() : std::vector<tuttiRedOp_t>{tuttiSum})
                for (size_t count : {size_t{1}, size_t{7}, size_t{1001}, size_t{65537}})
                  for (bool inPlace : {false, true}) {
                    if (s.collective == Collective::kAllToAllv && inPlace) continue;
                    // One count past the staging sizes, for the common type and op only.
                    if (count > 1001 && (dtype != tuttiFloat32 || op != tuttiSum)) continue;
                    const bool rooted = s.collective == Collective::kBroadcast ||
                                        s.collective == Collective::kReduce;
                    int root = rooted ? static_cast<int>((count + dtype) % n) : 0;
                    CollCase c{s.collective, dtype, op, count, inPlace, root, algo};
                    std::string err = runCollectiveCase(comm, rank, n, c, seed);
                    if (!err.empty() && failures++ < 5)
                      ADD_FAILURE() << "rank " << rank << " (" << net << "): " << describe(c, n)
                                    << " seed=" << seed << ": " << err;
                  }
        // Finalize before Destroy: closing sockets while a peer still finishes its last call
        // must not look to it like a failed peer.
        EXPECT_EQ(tuttiCommFinalize(comm), tuttiSuccess) << tuttiGetLastError(comm);
      },
      opt);
}

class NetnsCollectives : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    if (netTransport(GetParam()) == "ucx" && !ucxUsable(&why))
      GTEST_SKIP() << "skipped: no UCX here: " << why;
  }
};

TEST_P(NetnsCollectives, TwoHostsOfTwoRanks) {
  TUTTI_NETNS_HOSTS_OR_SKIP(hosts);
  runLayout(*hosts, {2, 2}, GetParam());
}

TEST_P(NetnsCollectives, ThreeHostsOfOneTwoOneRanks) {
  TUTTI_NETNS_HOSTS_OR_SKIP(hosts);
  runLayout(*hosts, {1, 2, 1}, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Net, NetnsCollectives,
                         ::testing::Values("socket", "socket_striped", "ucx", "ucx_striped"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace tutti::testing
