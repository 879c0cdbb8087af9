// Maps (collective, algorithm) to its plan builder.
#include "algorithms/builders.h"

namespace tutti {

namespace {

using Builder = void (*)(const CollArgs&, Plan*);

Builder builderFor(Collective c, Algorithm algo) {
  using C = Collective;
  using A = Algorithm;
  void (*build)(const CollArgs&, Plan*) = nullptr;
  switch (c) {
    case C::kAllReduce:
      build = algo == A::kRing ? buildRingAllReduce : algo == A::kDirect ? buildDirectAllReduce : nullptr;
      break;
    case C::kAllGather:
      build = algo == A::kRing ? buildRingAllGather : algo == A::kDirect ? buildDirectAllGather : nullptr;
      break;
    case C::kReduceScatter:
      build = algo == A::kRing ? buildRingReduceScatter
                               : algo == A::kDirect ? buildDirectReduceScatter : nullptr;
      break;
    case C::kAllToAll:
    case C::kAllToAllv:
      build = algo == A::kPairwise ? buildPairwiseAllToAll : nullptr;
      break;
    case C::kBroadcast:
      build = algo == A::kChain ? buildChainBroadcast : algo == A::kTree ? buildTreeBroadcast : nullptr;
      break;
    case C::kReduce:
      build = algo == A::kChain ? buildChainReduce : algo == A::kTree ? buildTreeReduce : nullptr;
      break;
    case C::kSend:
    case C::kRecv:
      build = buildP2p;
      break;
    default:
      break;
  }
  return build;
}

}  // namespace

bool cpuImplements(Collective c, Algorithm algo) { return builderFor(c, algo) != nullptr; }

Result buildPlan(const CollArgs& a, Algorithm algo, Plan* plan) {
  *plan = Plan();
  const Collective c = a.collective;
  Builder build = builderFor(c, algo);
  if (!build)
    return setError(tuttiInvalidArgument, "algorithm '%s' does not implement %s on the CPU executor",
                    algorithmName(algo), collectiveName(c));
  build(a, plan);
  return tuttiSuccess;
}

}  // namespace tutti
