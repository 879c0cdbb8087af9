// Every plan on single- and multi-node layouts, run in-process with tiny FIFOs: results
// match the reference, nothing deadlocks, and the structure holds (double binary trees,
// rail-aligned hierarchical traffic).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "algorithms/builders.h"
#include "algorithms/double_tree.h"
#include "algorithms/rank_layout.h"
#include "unit/plan_sim.h"

namespace tutti::testing {
namespace {

// `nodes` x `perNode` ranks; ranks of a node are contiguous unless `interleaved`; channel c
// rotates the intra-node order by c (as ring search does).
RankLayout layoutOf(int nodes, int perNode, bool interleaved = false, int channels = 3) {
  const int n = nodes * perNode;
  std::vector<int> nodeOf(n);
  std::vector<std::vector<int>> pos(channels, std::vector<int>(n));
  for (int r = 0; r < n; ++r) {
    int node = interleaved ? r % nodes : r / perNode;
    int local = interleaved ? r / nodes : r % perNode;
    nodeOf[r] = node;
    for (int c = 0; c < channels; ++c) pos[c][r] = (local + perNode - c % perNode) % perNode;
  }
  RankLayout l;
  EXPECT_EQ(buildRankLayout(nodeOf, pos, &l), tuttiSuccess) << lastError();
  EXPECT_EQ(l.check(), "");
  return l;
}

struct AlgoCase {
  Collective collective;
  Algorithm algorithm;
};

const std::vector<AlgoCase> kCases = {
    {Collective::kAllReduce, Algorithm::kRing},
    {Collective::kAllReduce, Algorithm::kDirect},
    {Collective::kAllReduce, Algorithm::kTwoShot},
    {Collective::kAllReduce, Algorithm::kTree},
    {Collective::kAllReduce, Algorithm::kHierarchical},
    {Collective::kAllReduce, Algorithm::kRecursiveDoubling},
    {Collective::kAllGather, Algorithm::kRing},
    {Collective::kAllGather, Algorithm::kDirect},
    {Collective::kAllGather, Algorithm::kHierarchical},
    {Collective::kReduceScatter, Algorithm::kRing},
    {Collective::kReduceScatter, Algorithm::kDirect},
    {Collective::kReduceScatter, Algorithm::kHierarchical},
    {Collective::kBroadcast, Algorithm::kChain},
    {Collective::kBroadcast, Algorithm::kTree},
    {Collective::kBroadcast, Algorithm::kHierarchical},
    {Collective::kReduce, Algorithm::kChain},
    {Collective::kReduce, Algorithm::kTree},
    {Collective::kReduce, Algorithm::kHierarchical},
};

void checkLayout(const RankLayout& l, const std::string& name) {
  const int n = l.nranks;
  int failures = 0;
  for (const AlgoCase& ac : kCases) {
    const bool rooted =
        ac.collective == Collective::kBroadcast || ac.collective == Collective::kReduce;
    for (size_t count : {size_t{0}, size_t{1}, size_t{5}, size_t{37}, size_t{300}})
      for (bool inPlace : {false, true})
        for (int channels : {1, 2, 3})
          for (int root : rooted ? std::vector<int>{0, n - 1, n / 2} : std::vector<int>{0}) {
            if (channels > 1 && ac.algorithm != Algorithm::kRing) continue;
            SimResult res = simulateCollective(ac.collective, ac.algorithm, l, count, root, inPlace,
                                               channels, 64);
            std::string where =
                name + " " + collectiveName(ac.collective) + " " + algorithmName(ac.algorithm) +
                " count=" + std::to_string(count) + (inPlace ? " in-place" : "") +
                " channels=" + std::to_string(channels) + " root=" + std::to_string(root);
            if (!res.error.empty()) {
              if (failures++ < 5) ADD_FAILURE() << where << ": " << res.error;
              continue;
            }
            for (int r = 0; r < n; ++r) {
              if (ac.collective == Collective::kReduce && r != root) continue;
              if (res.out[r] != expectedOutput(ac.collective, n, r, count, root) && failures++ < 5)
                ADD_FAILURE() << where << ": wrong result on rank " << r;
            }
          }
  }
}

TEST(PlanLayouts, SingleNode) {
  for (int n : {1, 2, 3, 4, 5, 8}) checkLayout(layoutOf(1, n), "1x" + std::to_string(n));
}

TEST(PlanLayouts, TwoByTwo) { checkLayout(layoutOf(2, 2), "2x2"); }
TEST(PlanLayouts, ThreeByTwo) { checkLayout(layoutOf(3, 2), "3x2"); }
TEST(PlanLayouts, TwoByThree) { checkLayout(layoutOf(2, 3), "2x3"); }
TEST(PlanLayouts, FourByTwoInterleaved) { checkLayout(layoutOf(4, 2, true), "4x2 interleaved"); }
TEST(PlanLayouts, ThreeByThreeInterleaved) { checkLayout(layoutOf(3, 3, true), "3x3 interleaved"); }
TEST(PlanLayouts, OneRankPerNode) { checkLayout(layoutOf(5, 1), "5x1"); }

// `sizes[k]` ranks on node k; ranks of a node contiguous unless `interleaved` (rank r then on
// the next node in turn that still has room).
RankLayout unevenLayout(const std::vector<int>& sizes, bool interleaved = false) {
  std::vector<int> nodeOf, pos, used(sizes.size(), 0);
  const int n = std::accumulate(sizes.begin(), sizes.end(), 0);
  for (int r = 0, k = 0; r < n; ++r) {
    if (interleaved) {
      while (used[k] == sizes[k]) k = (k + 1) % static_cast<int>(sizes.size());
    } else {
      while (used[k] == sizes[k]) ++k;
    }
    nodeOf.push_back(k);
    pos.push_back(used[k]++);
    if (interleaved) k = (k + 1) % static_cast<int>(sizes.size());
  }
  RankLayout l;
  EXPECT_EQ(buildRankLayout(nodeOf, {pos}, &l), tuttiSuccess) << lastError();
  EXPECT_EQ(l.check(), "");
  return l;
}

// Nodes of different sizes: the ranks beyond the smallest node fold into its core
// (hierarchical.cc), one round per core's worth of them.
TEST(PlanLayouts, UnevenNodes) {
  checkLayout(unevenLayout({3, 1}), "3+1");
  checkLayout(unevenLayout({1, 3}), "1+3");
  checkLayout(unevenLayout({2, 3, 2}), "2+3+2");
  checkLayout(unevenLayout({3, 3, 3, 2}), "3+3+3+2");
  checkLayout(unevenLayout({2, 5}), "2+5 (two fold rounds)");
  checkLayout(unevenLayout({4, 2, 3}, true), "4+2+3 interleaved");
  checkLayout(unevenLayout({1, 2, 1}), "1+2+1");
  const RankLayout l = unevenLayout({3, 1});
  EXPECT_EQ(l.localRanks(), 0);
  EXPECT_EQ(l.smallestNode(), 1);
  EXPECT_EQ(l.largestNode(), 3);
  EXPECT_EQ(l.describe().rfind("2 node(s) x 1-3 rank(s)", 0), 0u) << l.describe();
}

TEST(PlanLayouts, LargeCountsWithSmallFifos) {
  // Even nodes, and uneven ones whose folds move whole inputs through the small FIFOs.
  for (const RankLayout& l : {layoutOf(3, 2), unevenLayout({3, 2, 3}), unevenLayout({2, 5})}) {
    for (const AlgoCase& ac : kCases) {
      SimResult res = simulateCollective(ac.collective, ac.algorithm, l, 4099, 1, false, 2, 48);
      ASSERT_EQ(res.error, "") << collectiveName(ac.collective) << " "
                               << algorithmName(ac.algorithm) << " on " << l.describe();
      for (int r = 0; r < l.nranks; ++r) {
        if (ac.collective == Collective::kReduce && r != 1) continue;
        EXPECT_EQ(res.out[r], expectedOutput(ac.collective, l.nranks, r, 4099, 1))
            << collectiveName(ac.collective) << " " << algorithmName(ac.algorithm) << " rank " << r
            << " on " << l.describe();
      }
    }
  }
}

// Every rank is interior in at most one tree; both trees span all ranks without cycles.
TEST(DoubleBinaryTree, EveryRankInteriorInAtMostOneTree) {
  for (int n = 1; n <= 300; ++n) {
    std::vector<int> order(n);
    for (int i = 0; i < n; ++i) order[i] = i;  // identity
    if (n % 3 == 0) std::reverse(order.begin(), order.end());
    auto trees = doubleBinaryTree(order);
    std::vector<int> interior(n, 0);
    for (const TreeShape& t : trees) {
      ASSERT_EQ(static_cast<int>(t.parent.size()), n);
      EXPECT_EQ(t.parent[t.root], -1);
      int edges = 0;
      for (int r = 0; r < n; ++r) {
        EXPECT_LE(t.children[r].size(), 2u) << "n=" << n;
        for (int c : t.children[r]) {
          EXPECT_EQ(t.parent[c], r);
          EXPECT_EQ(t.depth[c], t.depth[r] + 1);
          ++edges;
        }
        if (r != t.root) {
          ASSERT_GE(t.parent[r], 0);
          EXPECT_NE(std::find(t.children[t.parent[r]].begin(), t.children[t.parent[r]].end(), r),
                    t.children[t.parent[r]].end());
        }
        interior[r] += !t.children[r].empty();
      }
      EXPECT_EQ(edges, n - 1);
      // Depth is logarithmic.
      int maxDepth = 0;
      for (int d : t.depth) maxDepth = std::max(maxDepth, d);
      EXPECT_LE(maxDepth, 2 + static_cast<int>(std::log2(std::max(n, 1))) + 1) << "n=" << n;
    }
    for (int r = 0; r < n; ++r) EXPECT_LE(interior[r], 1) << "rank " << r << " of " << n;
  }
}

// Hierarchical plans talk across nodes only between ranks at the same local position, and
// with nodes of different sizes only between the core positions every node has.
TEST(PlanLayouts, HierarchicalTrafficIsRailAligned) {
  for (const RankLayout& l :
       {layoutOf(4, 3, true), unevenLayout({3, 3, 3, 2}), unevenLayout({4, 2, 3}, true)}) {
    for (Collective c :
         {Collective::kAllReduce, Collective::kAllGather, Collective::kReduceScatter}) {
      for (int r = 0; r < l.nranks; ++r) {
        CollArgs a;
        a.collective = c;
        a.elemSize = 4;
        a.count = 1000;
        a.rank = r;
        a.nranks = l.nranks;
        a.layout = &l;
        Plan p;
        ASSERT_EQ(buildPlan(a, Algorithm::kHierarchical, &p), tuttiSuccess);
        for (const PlanOp& op : p.ops) {
          if (op.peer < 0 || l.nodeOf[op.peer] == l.nodeOf[r]) continue;
          EXPECT_EQ(l.localOf[op.peer], l.localOf[r]) << collectiveName(c) << " rank " << r;
          EXPECT_LT(l.localOf[r], l.smallestNode()) << collectiveName(c) << " rank " << r;
        }
      }
    }
  }
}

// Recursive doubling talks to one peer per step, log2(p) + 2 messages at most per rank (p the
// largest power of two <= n), and with 2^k ranks per node its first k steps stay in the node
// while the later ones cross between nodes at the same local position.
TEST(PlanLayouts, RecursiveDoublingStepsStayInTheNodeFirst) {
  for (const auto& shape : {std::pair<int, int>{2, 2}, {4, 2}, {2, 4}, {3, 2}, {5, 1}, {2, 3}}) {
    const RankLayout l = layoutOf(shape.first, shape.second);
    const int n = l.nranks;
    int p = 1;
    while (p * 2 <= n) p *= 2;
    const bool pow2PerNode = (shape.second & (shape.second - 1)) == 0;
    for (int r = 0; r < n; ++r) {
      CollArgs a;
      a.collective = Collective::kAllReduce;
      a.elemSize = 4;
      a.count = 9;
      a.rank = r;
      a.nranks = n;
      a.layout = &l;
      Plan plan;
      ASSERT_EQ(buildPlan(a, Algorithm::kRecursiveDoubling, &plan), tuttiSuccess);
      const std::string where = std::to_string(shape.first) + "x" + std::to_string(shape.second) +
                                " rank " + std::to_string(r) + "\n" + plan.describe();
      int sends = 0;
      bool crossed = false;
      for (const PlanStep& step : plan.steps) {
        std::set<int> peers;
        for (uint32_t i = 0; i < step.numOps; ++i) {
          const PlanOp& op = plan.ops[step.firstOp + i];
          if (op.peer < 0) continue;
          peers.insert(op.peer);
          sends += op.type == OpType::kSend;
        }
        EXPECT_LE(peers.size(), 1u) << where;
        if (peers.empty() || p < n) continue;  // folds of extra ranks may cross anywhere
        const int peer = *peers.begin();
        const bool across = l.nodeOf[peer] != l.nodeOf[r];
        if (pow2PerNode) {
          EXPECT_FALSE(crossed && !across) << "a step inside the node after one across: " << where;
          if (across) {
            EXPECT_EQ(l.localOf[peer], l.localOf[r]) << "off the rail: " << where;
          }
        }
        crossed |= across;
      }
      EXPECT_LE(sends, static_cast<int>(std::log2(p)) + 1) << where;
    }
  }
}

// Rings snake across nodes: consecutive ranks on different nodes hold the same local
// position (except the wrap-around of an odd node count).
TEST(RankLayout, RingsAreRailAlignedAcrossNodes) {
  for (int nodes : {2, 3, 4}) {
    RankLayout l = layoutOf(nodes, 4, false, 4);
    for (int c = 0; c < l.channels(); ++c) {
      int misaligned = 0;
      for (int i = 0; i < l.nranks; ++i) {
        int a = l.rings[c][i], b = l.rings[c][(i + 1) % l.nranks];
        if (l.nodeOf[a] != l.nodeOf[b] && l.localOf[a] != l.localOf[b]) ++misaligned;
      }
      EXPECT_LE(misaligned, nodes % 2) << nodes << " nodes, ring " << c << ": " << l.describe();
    }
  }
}

}  // namespace
}  // namespace tutti::testing
