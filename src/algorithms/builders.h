// Plan builders, one per algorithm family. Each fills `plan` for one rank of one call; the
// builders never touch memory or peers, so tests can check plans directly.
#pragma once

#include "algorithms/plan.h"
#include "base/error.h"

namespace tutti {

void buildRingAllReduce(const CollArgs& a, Plan* plan);
void buildRingAllGather(const CollArgs& a, Plan* plan);
void buildRingReduceScatter(const CollArgs& a, Plan* plan);

void buildDirectAllReduce(const CollArgs& a, Plan* plan);
void buildTwoShotAllReduce(const CollArgs& a, Plan* plan);
void buildDirectAllGather(const CollArgs& a, Plan* plan);
void buildDirectReduceScatter(const CollArgs& a, Plan* plan);

void buildPairwiseAllToAll(const CollArgs& a, Plan* plan);  // AllToAll and AllToAllv

void buildChainBroadcast(const CollArgs& a, Plan* plan);
void buildChainReduce(const CollArgs& a, Plan* plan);
void buildTreeBroadcast(const CollArgs& a, Plan* plan);
void buildTreeReduce(const CollArgs& a, Plan* plan);

void buildTreeAllReduce(const CollArgs& a, Plan* plan);  // double binary tree
void buildRecursiveDoublingAllReduce(const CollArgs& a, Plan* plan);

// Two-level plans (nodes of any sizes: ranks beyond the smallest node fold into its core).
void buildHierarchicalAllReduce(const CollArgs& a, Plan* plan);
void buildHierarchicalAllGather(const CollArgs& a, Plan* plan);
void buildHierarchicalReduceScatter(const CollArgs& a, Plan* plan);
void buildHierarchicalBroadcast(const CollArgs& a, Plan* plan);
void buildHierarchicalReduce(const CollArgs& a, Plan* plan);

void buildP2p(const CollArgs& a, Plan* plan);

// Builds the plan of `algo` for `a`; tuttiInvalidArgument when the algorithm does not
// implement that collective (e.g. TUTTI_ALGO=pairwise for AllReduce).
Result buildPlan(const CollArgs& a, Algorithm algo, Plan* plan);

// True when the CPU executor has a builder for (collective, algorithm).
bool cpuImplements(Collective c, Algorithm algo);

// Small helpers shared by the builders.
inline BufRef at(BufferId b, size_t offset) { return BufRef{b, offset}; }
inline PlanOp sendOp(int peer, BufRef src, size_t bytes) {
  return PlanOp{OpType::kSend, peer, src, src, bytes};
}
inline PlanOp recvOp(int peer, BufRef dst, size_t bytes) {
  return PlanOp{OpType::kRecv, peer, dst, dst, bytes};
}
inline PlanOp recvReduceOp(int peer, BufRef src, BufRef dst, size_t bytes) {
  return PlanOp{OpType::kRecvReduce, peer, src, dst, bytes};
}
inline PlanOp copyOp(BufRef src, BufRef dst, size_t bytes) {
  return PlanOp{OpType::kCopy, -1, src, dst, bytes};
}
inline PlanOp divideOp(BufRef dst, size_t bytes) {
  return PlanOp{OpType::kDivide, -1, dst, dst, bytes};
}

}  // namespace tutti
