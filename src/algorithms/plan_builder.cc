// Maps (collective, algorithm) to its plan builder: one line per pair the CPU executor runs.
#include "algorithms/builders.h"
#include "algorithms/rank_layout.h"

namespace tutti {

namespace {

using Builder = void (*)(const CollArgs&, Plan*);

struct Entry {
  Collective collective;
  Algorithm algorithm;
  Builder build;
};

constexpr Entry kBuilders[] = {
    {Collective::kAllReduce, Algorithm::kRing, buildRingAllReduce},
    {Collective::kAllReduce, Algorithm::kDirect, buildDirectAllReduce},
    {Collective::kAllReduce, Algorithm::kTwoShot, buildTwoShotAllReduce},
    {Collective::kAllReduce, Algorithm::kTree, buildTreeAllReduce},
    {Collective::kAllReduce, Algorithm::kRecursiveDoubling, buildRecursiveDoublingAllReduce},
    {Collective::kAllReduce, Algorithm::kHierarchical, buildHierarchicalAllReduce},
    {Collective::kAllGather, Algorithm::kRing, buildRingAllGather},
    {Collective::kAllGather, Algorithm::kDirect, buildDirectAllGather},
    {Collective::kAllGather, Algorithm::kHierarchical, buildHierarchicalAllGather},
    {Collective::kReduceScatter, Algorithm::kRing, buildRingReduceScatter},
    {Collective::kReduceScatter, Algorithm::kDirect, buildDirectReduceScatter},
    {Collective::kReduceScatter, Algorithm::kHierarchical, buildHierarchicalReduceScatter},
    {Collective::kAllToAll, Algorithm::kPairwise, buildPairwiseAllToAll},
    {Collective::kAllToAllv, Algorithm::kPairwise, buildPairwiseAllToAll},
    {Collective::kBroadcast, Algorithm::kChain, buildChainBroadcast},
    {Collective::kBroadcast, Algorithm::kTree, buildTreeBroadcast},
    {Collective::kBroadcast, Algorithm::kHierarchical, buildHierarchicalBroadcast},
    {Collective::kReduce, Algorithm::kChain, buildChainReduce},
    {Collective::kReduce, Algorithm::kTree, buildTreeReduce},
    {Collective::kReduce, Algorithm::kHierarchical, buildHierarchicalReduce},
};

Builder builderFor(Collective c, Algorithm algo) {
  if (c == Collective::kSend || c == Collective::kRecv) return buildP2p;
  for (const Entry& e : kBuilders)
    if (e.collective == c && e.algorithm == algo) return e.build;
  return nullptr;
}

}  // namespace

bool cpuImplements(Collective c, Algorithm algo) { return builderFor(c, algo) != nullptr; }

Result buildPlan(const CollArgs& a, Algorithm algo, Plan* plan) {
  *plan = Plan();
  const Collective c = a.collective;
  Builder build = builderFor(c, algo);
  if (!build)
    return setError(tuttiInvalidArgument,
                    "algorithm '%s' does not implement %s on the CPU executor", algorithmName(algo),
                    collectiveName(c));
  if (a.layout && a.layout->nranks != a.nranks)
    return setError(tuttiInternalError, "rank layout of %d ranks used for a call over %d",
                    a.layout->nranks, a.nranks);
  build(a, plan);
  return tuttiSuccess;
}

}  // namespace tutti
