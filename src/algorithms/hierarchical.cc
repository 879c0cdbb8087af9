// Two-level plans for multi-node layouts: work inside each node over its fast links, and
// across nodes only between ranks at the same local position (one ring or tree per rail).
// AllReduce = intra-node reduce-scatter, inter-node all-reduce of each shard, intra-node
// all-gather. Every node must hold the same number of ranks (buildPlan checks).
#include <algorithm>

#include "algorithms/builders.h"
#include "algorithms/timed_plan.h"

namespace tutti {
namespace {

inline int mod(int x, int n) { return ((x % n) + n) % n; }

// This rank's place in the two levels.
struct Levels {
  int L, N;  // ranks per node, nodes
  int p, k;  // local position, node
  const RankLayout* l;
  int local(int pos) const { return l->nodeRanks[k][mod(pos, L)]; }   // rank at a local position
  int rail(int node) const { return l->nodeRanks[mod(node, N)][p]; }  // my rail on a node
  int rankAt(int node, int pos) const { return l->nodeRanks[node][pos]; }
};

Levels levelsOf(const RankLayout& l, int rank) {
  return Levels{l.localRanks(), l.nnodes, l.localOf[rank], l.nodeOf[rank], &l};
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
  const size_t es = a.elemSize;
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int L = v.L, N = v.N;
  auto shardOff = [&](int j) { return blockStart(a.count, L, mod(j, L)); };
  auto shardCnt = [&](int j) { return blockCount(a.count, L, mod(j, L)); };
  auto shard = [&](int j) { return std::make_pair(shardOff(j) * es, shardCnt(j) * es); };
  if (L == 1 && !a.inPlace)
    tp.local(-1, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), a.count * es));
  // Phase 1: ring reduce-scatter inside the node; position p ends with shard p+1.
  const int nextL = v.local(v.p + 1), prevL = v.local(v.p - 1);
  for (int s = 0; s < L - 1; ++s) {
    auto [so, sl] = shard(v.p - s);
    auto [ro, rl] = shard(v.p - s - 1);
    tp.comm(s, sendOp(nextL, at(s == 0 ? BufferId::kSend : BufferId::kRecv, so), sl));
    tp.comm(s, recvReduceOp(prevL, at(BufferId::kSend, ro), at(BufferId::kRecv, ro), rl));
  }
  // Phase 2: the ranks at position p of every node all-reduce shard p+1 over a ring.
  const int owned = v.p + 1;
  const size_t base = shardOff(owned), cnt = shardCnt(owned);
  auto sub = [&](int b) {
    return std::make_pair((base + blockStart(cnt, N, mod(b, N))) * es,
                          blockCount(cnt, N, mod(b, N)) * es);
  };
  const int t1 = L - 1, t2 = t1 + N - 1, t3 = t2 + N - 1;
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
  // Phase 3: ring all-gather of the shards inside the node.
  for (int s = 0; s < L - 1; ++s) {
    auto [so, sl] = shard(v.p + 1 - s);
    auto [ro, rl] = shard(v.p - s);
    tp.comm(t3 + s, sendOp(nextL, at(BufferId::kRecv, so), sl));
    tp.comm(t3 + s, recvOp(prevL, at(BufferId::kRecv, ro), rl));
  }
  tp.emit(plan);
}

void buildHierarchicalAllGather(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const Levels v = levelsOf(l, a.rank);
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kAllGather;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int L = v.L, N = v.N;
  if (!a.inPlace)
    tp.local(-1, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, a.rank * bytes), bytes));
  // Phase 1: ring all-gather along my rail: I collect the blocks of position p of every node.
  const int nextR = v.rail(v.k + 1), prevR = v.rail(v.k - 1);
  for (int s = 0; s < N - 1; ++s) {
    const int from = v.rail(v.k - s), to = v.rail(v.k - s - 1);
    BufRef src = s == 0 ? at(BufferId::kSend, 0) : at(BufferId::kRecv, from * bytes);
    tp.comm(s, sendOp(nextR, src, bytes));
    tp.comm(s, recvOp(prevR, at(BufferId::kRecv, to * bytes), bytes));
  }
  // Phase 2: ring all-gather inside the node; each step forwards one rail's N blocks.
  const int nextL = v.local(v.p + 1), prevL = v.local(v.p - 1), t = N - 1;
  for (int s = 0; s < L - 1; ++s) {
    const int sendPos = mod(v.p - s, L), recvPos = mod(v.p - s - 1, L);
    for (int node = 0; node < N; ++node) {
      const int sr = v.rankAt(node, sendPos), rr = v.rankAt(node, recvPos);
      tp.comm(t + s, sendOp(nextL, at(BufferId::kRecv, sr * bytes), bytes));
      tp.comm(t + s, recvOp(prevL, at(BufferId::kRecv, rr * bytes), bytes));
    }
  }
  tp.emit(plan);
}

void buildHierarchicalReduceScatter(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const Levels v = levelsOf(l, a.rank);
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kReduceScatter;
  plan->algorithm = Algorithm::kHierarchical;
  TimedPlan tp;
  const int L = v.L, N = v.N;
  // Partial sums live in scratch at each block's own offset.
  if (L > 1 || N > 1) plan->scratchBytes = static_cast<size_t>(a.nranks) * bytes;
  // Phase 1: ring reduce-scatter inside the node over groups of N blocks (the blocks of
  // every node's rank at one position); position p ends with group p summed over the node.
  const int nextL = v.local(v.p + 1), prevL = v.local(v.p - 1);
  for (int s = 0; s < L - 1; ++s) {
    const int sendPos = mod(v.p - 1 - s, L), recvPos = mod(v.p - 2 - s, L);
    for (int node = 0; node < N; ++node) {
      const int sr = v.rankAt(node, sendPos), rr = v.rankAt(node, recvPos);
      tp.comm(s,
              sendOp(nextL, at(s == 0 ? BufferId::kSend : BufferId::kScratch, sr * bytes), bytes));
      tp.comm(s, recvReduceOp(prevL, at(BufferId::kSend, rr * bytes),
                              at(BufferId::kScratch, rr * bytes), bytes));
    }
  }
  // Phase 2: ring reduce-scatter of my group along my rail; node k ends with its block.
  const BufferId partial = L > 1 ? BufferId::kScratch : BufferId::kSend;
  const int nextR = v.rail(v.k + 1), prevR = v.rail(v.k - 1), t = L - 1;
  for (int s = 0; s < N - 1; ++s) {
    const int sr = v.rail(v.k - 1 - s), rr = v.rail(v.k - 2 - s);
    tp.comm(t + s, sendOp(nextR, at(s == 0 ? partial : BufferId::kScratch, sr * bytes), bytes));
    tp.comm(t + s, recvReduceOp(prevR, at(partial, rr * bytes), at(BufferId::kScratch, rr * bytes),
                                bytes));
  }
  const int end = t + N - 1;
  if (L > 1 || N > 1)
    tp.local(end, copyOp(at(BufferId::kScratch, a.rank * bytes), at(BufferId::kRecv, 0), bytes));
  else if (!a.inPlace)
    tp.local(end, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  if (a.average) tp.local(end, divideOp(at(BufferId::kRecv, 0), bytes));
  tp.emit(plan);
}

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
  // Phase 1: binomial tree across nodes along the root's rail.
  if (v.p == rootPos) {
    const int rel = mod(v.k - rootNode, v.N);
    binomialBroadcast(
        rel, v.N, [&](int to, int r) { tp.comm(r, sendOp(v.rail(rootNode + to), data, bytes)); },
        [&](int from, int r) {
          tp.comm(r, recvOp(v.rail(rootNode + from), at(BufferId::kRecv, 0), bytes));
        });
  }
  // Phase 2: binomial tree inside each node from the rail rank.
  const int t = rounds(v.N), rel = mod(v.p - rootPos, v.L);
  binomialBroadcast(
      rel, v.L, [&](int to, int r) { tp.comm(t + r, sendOp(v.local(rootPos + to), data, bytes)); },
      [&](int from, int r) {
        tp.comm(t + r, recvOp(v.local(rootPos + from), at(BufferId::kRecv, 0), bytes));
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
  const bool isRoot = a.rank == a.root;
  const BufferId acc = isRoot ? BufferId::kRecv : BufferId::kScratch;
  BufferId partial = BufferId::kSend;  // until a child's data arrives
  bool sent = false;
  // Binomial reduce over `size` members (relative index 0 is the target) starting at `t0`.
  auto reduceLevel = [&](int rel, int size, int t0, auto rankOfRel) {
    int round = 0;
    for (int span = 1; span < size && !sent; span *= 2, ++round) {
      if (rel % (2 * span) == span) {
        tp.comm(t0 + round, sendOp(rankOfRel(rel - span), at(partial, 0), bytes));
        sent = true;
      } else if (rel % (2 * span) == 0 && rel + span < size) {
        tp.comm(t0 + round, recvReduceOp(rankOfRel(rel + span), at(partial, 0), at(acc, 0), bytes));
        partial = acc;
      }
    }
  };
  // Phase 1 inside the node towards the root's position, phase 2 along the root's rail.
  reduceLevel(mod(v.p - rootPos, v.L), v.L, 0, [&](int rel) { return v.local(rootPos + rel); });
  if (v.p == rootPos && !sent)
    reduceLevel(mod(v.k - rootNode, v.N), v.N, rounds(v.L),
                [&](int rel) { return v.rail(rootNode + rel); });
  if (partial == BufferId::kScratch) plan->scratchBytes = bytes;
  const int end = rounds(v.L) + rounds(v.N);
  if (isRoot && partial == BufferId::kSend && !a.inPlace)
    tp.local(end, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  if (isRoot && a.average) tp.local(end, divideOp(at(BufferId::kRecv, 0), bytes));
  tp.emit(plan);
}

}  // namespace tutti
