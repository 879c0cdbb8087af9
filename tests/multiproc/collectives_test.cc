// Every collective x dtype x op x algorithm against the CPU reference on 2, 3, 4 and 7
// ranks: odd counts, counts not divisible by the rank count, count 0, in and out of place.
#include <gtest/gtest.h>

#include <vector>

#include "multiproc/collective_check.h"
#include "testing/random.h"
#include "testing/reference.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

struct Sweep {
  Collective collective;
  std::vector<std::string> algorithms;
  bool reduces;
};

std::vector<size_t> countsFor(tuttiDataType_t dtype) {
  // Small odd counts for every type; one count past the shm FIFO for a few.
  std::vector<size_t> counts = {0, 1, 7, 1001};
  if (dtype == tuttiFloat32 || dtype == tuttiBfloat16 || dtype == tuttiInt64 ||
      dtype == tuttiFp8E4M3)
    counts.push_back(300007);
  return counts;
}

void runSweep(int nranks, const Sweep& s) {
  const uint64_t seed = testSeed();
  runRanks(nranks, [&](tuttiComm_t comm, int rank, int n) {
    int failures = 0;
    for (const std::string& algo : s.algorithms)
      for (tuttiDataType_t dtype : allTypes())
        for (tuttiRedOp_t op : s.reduces ? allOps() : std::vector<tuttiRedOp_t>{tuttiSum})
          for (size_t count : countsFor(dtype))
            for (bool inPlace : {false, true}) {
              if (s.collective == Collective::kAllToAllv && inPlace) continue;
              if (count > 1001 && op != tuttiSum && op != tuttiMax) continue;
              int root =
                  (s.collective == Collective::kBroadcast || s.collective == Collective::kReduce)
                      ? static_cast<int>((count + dtype) % n)
                      : 0;
              CollCase c{s.collective, dtype, op, count, inPlace, root, algo};
              std::string err = runCollectiveCase(comm, rank, n, c, seed);
              if (!err.empty() && failures++ < 5)
                ADD_FAILURE() << "rank " << rank << ": " << describe(c, n) << " seed=" << seed
                              << ": " << err;
            }
  });
}

class CollectivesTest : public ::testing::TestWithParam<int> {};

TEST_P(CollectivesTest, AllReduce) {
  runSweep(GetParam(), {Collective::kAllReduce, {"ring", "direct", "recursive_doubling"}, true});
}
TEST_P(CollectivesTest, AllGather) {
  runSweep(GetParam(), {Collective::kAllGather, {"ring", "direct"}, false});
}
TEST_P(CollectivesTest, ReduceScatter) {
  runSweep(GetParam(), {Collective::kReduceScatter, {"ring", "direct"}, true});
}
TEST_P(CollectivesTest, AllToAll) {
  runSweep(GetParam(), {Collective::kAllToAll, {"pairwise"}, false});
}
TEST_P(CollectivesTest, AllToAllv) {
  runSweep(GetParam(), {Collective::kAllToAllv, {"pairwise"}, false});
}
TEST_P(CollectivesTest, Broadcast) {
  runSweep(GetParam(), {Collective::kBroadcast, {"chain", "tree"}, false});
}
TEST_P(CollectivesTest, Reduce) {
  runSweep(GetParam(), {Collective::kReduce, {"chain", "tree"}, true});
}

INSTANTIATE_TEST_SUITE_P(Ranks, CollectivesTest, ::testing::Values(2, 3, 4, 7),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::to_string(i.param) + "ranks";
                         });

}  // namespace
}  // namespace tutti::testing
