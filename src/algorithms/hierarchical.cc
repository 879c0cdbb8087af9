// Two-level plans for multi-node layouts: work inside each node over its fast links, and
// across nodes only between ranks at the same local position (one ring or tree per rail).
// AllReduce = intra-node reduce-scatter, inter-node all-reduce of each shard, intra-node
// all-gather.
//
// Nodes may differ in size. The first S positions of every node (S = the smallest node's size)
// form the core that the two levels run on; a rank at position q >= S folds into the core rank
// at q mod S before (its whole input, one round per S such ranks) and gets its result from it
// after. With even nodes there is nothing to fold and the plans are the plain two-level ones.
#include <algorithm>
#include <vector>

#include "algorithms/builders.h"
#include "algorithms/timed_plan.h"

namespace tutti {
namespace {

inline int mod(int x, int n) { return ((x % n) + n) % n; }

// This rank's place in the two levels.
struct Levels {
  int S, N;  // core ranks per node (the smallest node's size), nodes
  int p, k;  // local position, node
  int F;     // fold rounds: the largest node's ranks beyond the core, S per round
  const RankLayout* l;
  int local(int pos) const { return l->nodeRanks[k][mod(pos, S)]; }   // core rank at a position
  int rail(int node) const { return l->nodeRanks[mod(node, N)][p]; }  // my rail on a node
  int rankAt(int node, int pos) const { return l->nodeRanks[node][pos]; }
  int size(int node) const { return static_cast<int>(l->nodeRanks[mod(node, N)].size()); }
  // Broadcast's and Reduce's node leader: the rank at the root's position, wrapped.
  int leader(int node, int rootPos) const {
    return l->nodeRanks[mod(node, N)][rootPos % size(node)];
  }
  bool folds() const { return p >= S; }
  int partner() const { return l->nodeRanks[k][p % S]; }  // the core rank I fold into
  int foldRound() const { return p / S - 1; }             // the round (time) I fold in
  // The ranks a core rank carries through the levels: its own, then those folding into it in
  // round order (time j for the j-th of them).
  std::vector<int> group(int node, int pos) const {
    std::vector<int> g;
    const auto& ranks = l->nodeRanks[node];
    for (size_t q = static_cast<size_t>(pos); q < ranks.size(); q += static_cast<size_t>(S))
      g.push_back(ranks[q]);
    return g;
  }
};

Levels levelsOf(const RankLayout& l, int rank) {
  const int S = l.smallestNode();
  return Levels{S, l.nnodes, l.localOf[rank], l.nodeOf[rank], (l.largestNode() - 1) / S, &l};
}

// A rank beyond the core: its input goes to its core rank in its fold round, and its result
// comes back that many rounds after `end`, when the core is done.
void planFoldedRank(const Levels& v, size_t inBytes, size_t outBytes, int end, TimedPlan* tp) {
  tp->comm(v.foldRound(), sendOp(v.partner(), at(BufferId::kSend, 0), inBytes));
  tp->comm(end + v.foldRound(), recvOp(v.partner(), at(BufferId::kRecv, 0), outBytes));
}

// Binomial tree rounds over `size` members rooted at relative index 0: calls
// send(toRel) / recv(fromRel) with the round number.
template <typename Send, typename Recv>
void binomialBroadcast(int rel, int size, Send send, Recv recv) {
  int round = 0;
  for (int span = 1; span < size; span *= 2, ++round) {
    if (rel < span && rel + span < size) send(rel + span, round);
    if (rel >= span && rel < 2 * span) recv(rel - span, round);
  }
}

int rounds(int size) {
  int r = 0;
  for (int span = 1; span < size; span *= 2) ++r;
  return r;
}

}  // namespace

void buildHierarchicalAllReduce(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const Levels v = levelsOf(l, a.rank);
  const size_t es = a.elemSize, total = a.count * es;
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int S = v.S, N = v.N, f = v.F;
  const int end = f + 2 * (S - 1) + 2 * (N - 1);  // when the core holds the result
  if (v.folds()) {
    planFoldedRank(v, total, total, end, &tp);
    tp.emit(plan);
    return;
  }
  // Fold: the node's ranks beyond the core add their inputs into mine.
  const std::vector<int> group = v.group(v.k, v.p);
  for (size_t j = 1; j < group.size(); ++j)
    tp.comm(static_cast<int>(j) - 1,
            recvReduceOp(group[j], at(j == 1 ? BufferId::kSend : BufferId::kRecv, 0),
                         at(BufferId::kRecv, 0), total));
  const BufferId mine = group.size() > 1 ? BufferId::kRecv : BufferId::kSend;
  auto shardOff = [&](int j) { return blockStart(a.count, S, mod(j, S)); };
  auto shardCnt = [&](int j) { return blockCount(a.count, S, mod(j, S)); };
  auto shard = [&](int j) { return std::make_pair(shardOff(j) * es, shardCnt(j) * es); };
  if (S == 1 && !a.inPlace && mine == BufferId::kSend)
    tp.local(-1, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), total));
  // Phase 1: ring reduce-scatter inside the node's core; position p ends with shard p+1.
  const int nextL = v.local(v.p + 1), prevL = v.local(v.p - 1);
  for (int s = 0; s < S - 1; ++s) {
    auto [so, sl] = shard(v.p - s);
    auto [ro, rl] = shard(v.p - s - 1);
    tp.comm(f + s, sendOp(nextL, at(s == 0 ? mine : BufferId::kRecv, so), sl));
    tp.comm(f + s, recvReduceOp(prevL, at(mine, ro), at(BufferId::kRecv, ro), rl));
  }
  // Phase 2: the ranks at position p of every node all-reduce shard p+1 over a ring.
  const int owned = v.p + 1;
  const size_t base = shardOff(owned), cnt = shardCnt(owned);
  auto sub = [&](int b) {
    return std::make_pair((base + blockStart(cnt, N, mod(b, N))) * es,
                          blockCount(cnt, N, mod(b, N)) * es);
  };
  const int t1 = f + S - 1, t2 = t1 + N - 1, t3 = t2 + N - 1;
  const int nextR = v.rail(v.k + 1), prevR = v.rail(v.k - 1);
  for (int s = 0; s < N - 1; ++s) {
    auto [so, sl] = sub(v.k - s);
    auto [ro, rl] = sub(v.k - s - 1);
    tp.comm(t1 + s, sendOp(nextR, at(BufferId::kRecv, so), sl));
    tp.comm(t1 + s, recvReduceOp(prevR, at(BufferId::kRecv, ro), at(BufferId::kRecv, ro), rl));
  }
  if (a.average) {
    auto [o, len] = N > 1 ? sub(v.k + 1) : shard(owned);
    tp.local(t2 - 1, divideOp(at(BufferId::kRecv, o), len));
  }
  for (int s = 0; s < N - 1; ++s) {
    auto [so, sl] = sub(v.k + 1 - s);
    auto [ro, rl] = sub(v.k - s);
    tp.comm(t2 + s, sendOp(nextR, at(BufferId::kRecv, so), sl));
    tp.comm(t2 + s, recvOp(prevR, at(BufferId::kRecv, ro), rl));
  }
  // Phase 3: ring all-gather of the shards inside the node's core.
  for (int s = 0; s < S - 1; ++s) {
    auto [so, sl] = shard(v.p + 1 - s);
    auto [ro, rl] = shard(v.p - s);
    tp.comm(t3 + s, sendOp(nextL, at(BufferId::kRecv, so), sl));
    tp.comm(t3 + s, recvOp(prevL, at(BufferId::kRecv, ro), rl));
  }
  // Unfold: the ranks that folded into mine get the result.
  for (size_t j = 1; j < group.size(); ++j)
    tp.comm(end + static_cast<int>(j) - 1, sendOp(group[j], at(BufferId::kRecv, 0), total));
  tp.emit(plan);
}

void buildHierarchicalAllGather(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const Levels v = levelsOf(l, a.rank);
  const size_t bytes = a.count * a.elemSize, total = a.nranks * bytes;
  plan->collective = Collective::kAllGather;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int S = v.S, N = v.N, f = v.F, end = f + (N - 1) + (S - 1);
  if (v.folds()) {
    planFoldedRank(v, bytes, total, end, &tp);
    tp.emit(plan);
    return;
  }
  if (!a.inPlace)
    tp.local(-1, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, a.rank * bytes), bytes));
  // Fold: the blocks of the node's ranks beyond the core come to the core rank they fold into.
  const std::vector<int> mine = v.group(v.k, v.p);
  for (size_t j = 1; j < mine.size(); ++j)
    tp.comm(static_cast<int>(j) - 1, recvOp(mine[j], at(BufferId::kRecv, mine[j] * bytes), bytes));
  // Phase 1: ring all-gather along my rail: I collect the blocks of position p's group on
  // every node.
  const int nextR = v.rail(v.k + 1), prevR = v.rail(v.k - 1);
  for (int s = 0; s < N - 1; ++s) {
    for (int r : v.group(mod(v.k - s, N), v.p)) {
      const BufRef src =
          s == 0 && r == a.rank ? at(BufferId::kSend, 0) : at(BufferId::kRecv, r * bytes);
      tp.comm(f + s, sendOp(nextR, src, bytes));
    }
    for (int r : v.group(mod(v.k - s - 1, N), v.p))
      tp.comm(f + s, recvOp(prevR, at(BufferId::kRecv, r * bytes), bytes));
  }
  // Phase 2: ring all-gather inside the node's core; each step forwards one position's groups.
  const int nextL = v.local(v.p + 1), prevL = v.local(v.p - 1), t = f + N - 1;
  for (int s = 0; s < S - 1; ++s) {
    const int sendPos = mod(v.p - s, S), recvPos = mod(v.p - s - 1, S);
    for (int node = 0; node < N; ++node) {
      for (int r : v.group(node, sendPos))
        tp.comm(t + s, sendOp(nextL, at(BufferId::kRecv, r * bytes), bytes));
      for (int r : v.group(node, recvPos))
        tp.comm(t + s, recvOp(prevL, at(BufferId::kRecv, r * bytes), bytes));
    }
  }
  // Unfold: the ranks that folded into mine get everything.
  for (size_t j = 1; j < mine.size(); ++j)
    tp.comm(end + static_cast<int>(j) - 1, sendOp(mine[j], at(BufferId::kRecv, 0), total));
  tp.emit(plan);
}

void buildHierarchicalReduceScatter(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const Levels v = levelsOf(l, a.rank);
  const size_t bytes = a.count * a.elemSize, total = a.nranks * bytes;
  plan->collective = Collective::kReduceScatter;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int S = v.S, N = v.N, f = v.F, end = f + (S - 1) + (N - 1);
  if (v.folds()) {
    planFoldedRank(v, total, bytes, end, &tp);
    if (a.average) tp.local(end + v.foldRound(), divideOp(at(BufferId::kRecv, 0), bytes));
    tp.emit(plan);
    return;
  }
  // Partial sums live in scratch at each block's own offset.
  const std::vector<int> group = v.group(v.k, v.p);
  const bool folded = group.size() > 1, staged = S > 1 || N > 1 || folded;
  if (staged) plan->scratchBytes = total;
  // Fold: the node's ranks beyond the core add their inputs into mine.
  for (size_t j = 1; j < group.size(); ++j)
    tp.comm(static_cast<int>(j) - 1,
            recvReduceOp(group[j], at(j == 1 ? BufferId::kSend : BufferId::kScratch, 0),
                         at(BufferId::kScratch, 0), total));
  const BufferId mine = folded ? BufferId::kScratch : BufferId::kSend;
  // Phase 1: ring reduce-scatter inside the node's core over position groups (the blocks of
  // every node's ranks that a position carries); position p ends with group p summed over the
  // node.
  const int nextL = v.local(v.p + 1), prevL = v.local(v.p - 1);
  for (int s = 0; s < S - 1; ++s) {
    const int sendPos = mod(v.p - 1 - s, S), recvPos = mod(v.p - 2 - s, S);
    for (int node = 0; node < N; ++node) {
      for (int r : v.group(node, sendPos))
        tp.comm(f + s, sendOp(nextL, at(s == 0 ? mine : BufferId::kScratch, r * bytes), bytes));
      for (int r : v.group(node, recvPos))
        tp.comm(f + s,
                recvReduceOp(prevL, at(mine, r * bytes), at(BufferId::kScratch, r * bytes), bytes));
    }
  }
  // Phase 2: ring reduce-scatter of my group along my rail; node k ends with its blocks.
  const BufferId partial = S > 1 || folded ? BufferId::kScratch : BufferId::kSend;
  const int nextR = v.rail(v.k + 1), prevR = v.rail(v.k - 1), t = f + S - 1;
  for (int s = 0; s < N - 1; ++s) {
    for (int r : v.group(mod(v.k - 1 - s, N), v.p))
      tp.comm(t + s, sendOp(nextR, at(s == 0 ? partial : BufferId::kScratch, r * bytes), bytes));
    for (int r : v.group(mod(v.k - 2 - s, N), v.p))
      tp.comm(t + s, recvReduceOp(prevR, at(partial, r * bytes), at(BufferId::kScratch, r * bytes),
                                  bytes));
  }
  if (staged)
    tp.local(end, copyOp(at(BufferId::kScratch, a.rank * bytes), at(BufferId::kRecv, 0), bytes));
  else if (!a.inPlace)
    tp.local(end, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  if (a.average) tp.local(end, divideOp(at(BufferId::kRecv, 0), bytes));
  // Unfold: the ranks that folded into mine get their blocks.
  for (size_t j = 1; j < group.size(); ++j)
    tp.comm(end + static_cast<int>(j) - 1,
            sendOp(group[j], at(BufferId::kScratch, group[j] * bytes), bytes));
  tp.emit(plan);
}

// Broadcast and Reduce need no core: each node's leader is the rank at the root's position
// (wrapped on a smaller node), the levels a binomial tree across the leaders and one inside
// each node.
void buildHierarchicalBroadcast(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const Levels v = levelsOf(l, a.rank);
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kBroadcast;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int rootPos = l.localOf[a.root], rootNode = l.nodeOf[a.root];
  const bool isRoot = a.rank == a.root;
  if (isRoot && !a.inPlace)
    tp.local(-1, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  const BufRef data = at(isRoot ? BufferId::kSend : BufferId::kRecv, 0);
  // Phase 1: binomial tree across the nodes' leaders.
  const int L = v.size(v.k), leaderPos = rootPos % L;
  auto leader = [&](int rel) { return v.leader(rootNode + rel, rootPos); };
  if (v.p == leaderPos) {
    const int rel = mod(v.k - rootNode, v.N);
    binomialBroadcast(
        rel, v.N, [&](int to, int r) { tp.comm(r, sendOp(leader(to), data, bytes)); },
        [&](int from, int r) { tp.comm(r, recvOp(leader(from), at(BufferId::kRecv, 0), bytes)); });
  }
  // Phase 2: binomial tree inside each node from its leader.
  auto localAt = [&](int rel) { return v.rankAt(v.k, (leaderPos + rel) % L); };
  const int t = rounds(v.N);
  binomialBroadcast(
      mod(v.p - leaderPos, L), L,
      [&](int to, int r) { tp.comm(t + r, sendOp(localAt(to), data, bytes)); },
      [&](int from, int r) {
        tp.comm(t + r, recvOp(localAt(from), at(BufferId::kRecv, 0), bytes));
      });
  tp.emit(plan);
}

void buildHierarchicalReduce(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const Levels v = levelsOf(l, a.rank);
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kReduce;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int rootPos = l.localOf[a.root], rootNode = l.nodeOf[a.root];
  const int L = v.size(v.k), leaderPos = rootPos % L;
  const bool isRoot = a.rank == a.root;
  const BufferId acc = isRoot ? BufferId::kRecv : BufferId::kScratch;
  BufferId partial = BufferId::kSend;  // until a child's data arrives
  bool sent = false;
  // Binomial reduce over `size` members (relative index 0 is the target) starting at `t0`.
  auto reduceLevel = [&](int rel, int members, int t0, auto rankOfRel) {
    int round = 0;
    for (int span = 1; span < members && !sent; span *= 2, ++round) {
      if (rel % (2 * span) == span) {
        tp.comm(t0 + round, sendOp(rankOfRel(rel - span), at(partial, 0), bytes));
        sent = true;
      } else if (rel % (2 * span) == 0 && rel + span < members) {
        tp.comm(t0 + round, recvReduceOp(rankOfRel(rel + span), at(partial, 0), at(acc, 0), bytes));
        partial = acc;
      }
    }
  };
  // Phase 1 inside the node towards its leader, phase 2 across the leaders; phase 2 starts when
  // the largest node is done, so that both ends of a message place it at the same time.
  const int t = rounds(l.largestNode());
  reduceLevel(mod(v.p - leaderPos, L), L, 0,
              [&](int rel) { return v.rankAt(v.k, (leaderPos + rel) % L); });
  if (v.p == leaderPos && !sent)
    reduceLevel(mod(v.k - rootNode, v.N), v.N, t,
                [&](int rel) { return v.leader(rootNode + rel, rootPos); });
  if (partial == BufferId::kScratch) plan->scratchBytes = bytes;
  const int end = t + rounds(v.N);
  if (isRoot && partial == BufferId::kSend && !a.inPlace)
    tp.local(end, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  if (isRoot && a.average) tp.local(end, divideOp(at(BufferId::kRecv, 0), bytes));
  tp.emit(plan);
}

}  // namespace tutti
