// Eleven ranks over sockets and over UCX, against the CPU reference, every collective as the
// tuner chooses it and with each plan forced. Two layouts: each rank its own "host"
// (TUTTI_RANKS_PER_NODE=1: more peers on other hosts than the transports give threads to,
// kMaxThreadedPeers, and one UCX worker moving ten connections), and hosts of 3, 3, 3 and 2
// ranks (uneven nodes: the hierarchical plans fold the third rank of a host into the core of
// two; shared memory beside the network). The
// other network tests run on 2 and 3 hosts.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "multiproc/collective_check.h"
#include "testing/random.h"
#include "testing/reference.h"
#include "testing/run_ranks.h"
#include "testing/ucx_loads.h"
#include "transport/peer_threads.h"

namespace tutti::testing {
namespace {

constexpr int kRanks = 11;
static_assert(kRanks - 1 > kMaxThreadedPeers, "more remote peers than the threaded rule serves");

struct Plans {
  Collective collective;
  std::vector<std::string> algorithms;  // "" is the tuner's choice
  bool reduces;
};

const Plans kPlans[] = {
    {Collective::kAllReduce,
     {"", "ring", "direct", "recursive_doubling", "tree", "hierarchical"},
     true},
    {Collective::kAllGather, {"", "ring", "hierarchical"}, false},
    {Collective::kReduceScatter, {"", "ring", "hierarchical"}, true},
    {Collective::kAllToAll, {"", "pairwise"}, false},
    {Collective::kAllToAllv, {"pairwise"}, false},
    {Collective::kBroadcast, {"", "tree", "chain", "hierarchical"}, false},
    {Collective::kReduce, {"", "chain", "hierarchical"}, true},
};

// The network, and ranks per host.
using Layout = std::tuple<std::string, int>;
class ManyHosts : public ::testing::TestWithParam<Layout> {};

TEST_P(ManyHosts, EveryCollectiveOnElevenRanks) {
  const std::string net = std::get<0>(GetParam());
  const std::string perHost = std::to_string(std::get<1>(GetParam()));
  if (std::string whyNot; net == "ucx" && !ucxLoads(&whyNot))
    GTEST_SKIP() << "libucp.so.0 cannot be loaded here: " << whyNot;
  RankOptions opt;
  opt.env = {{"TUTTI_NET", net},
             {"TUTTI_RANKS_PER_NODE", perHost},
             {"UCX_TLS", "tcp"},
             {"TUTTI_TIMEOUT_MS", "60000"}};
  const uint64_t seed = testSeed();
  runRanks(
      kRanks,
      [&](tuttiComm_t comm, int rank, int n) {
        int failures = 0;
        int k = 0;
        for (const Plans& p : kPlans)
          for (const std::string& algo : p.algorithms)
            for (tuttiDataType_t dtype : {tuttiFloat32, tuttiInt64, tuttiBfloat16})
              for (tuttiRedOp_t op : p.reduces ? std::vector<tuttiRedOp_t>{tuttiSum, tuttiMax}
                                               : std::vector<tuttiRedOp_t>{tuttiSum})
                for (size_t count : {size_t{1}, size_t{1001}, size_t{65537}}) {
                  ++k;
                  const bool inPlace = k % 2 == 1 && p.collective != Collective::kAllToAllv;
                  CollCase c{p.collective, dtype, op, count, inPlace, k % n, algo};
                  const std::string err = runCollectiveCase(comm, rank, n, c, seed);
                  if (!err.empty() && failures++ < 5)
                    ADD_FAILURE() << net << " " << perHost << " per host, rank " << rank << ": "
                                  << describe(c, n) << " seed=" << seed << ": " << err;
                }
      },
      opt);
}

INSTANTIATE_TEST_SUITE_P(
    Net, ManyHosts, ::testing::Combine(::testing::Values("socket", "ucx"), ::testing::Values(1, 3)),
    [](const ::testing::TestParamInfo<Layout>& i) {
      return std::get<0>(i.param) + "_" + std::to_string(std::get<1>(i.param)) + "_per_host";
    });

}  // namespace
}  // namespace tutti::testing
