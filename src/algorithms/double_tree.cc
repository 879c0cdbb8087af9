// Double binary tree AllReduce: each tree reduces half of the buffer up to its root and
// broadcasts it back down, pipelined in chunks; both trees run at once.
#include "algorithms/double_tree.h"

#include <algorithm>

#include "algorithms/builders.h"
#include "algorithms/timed_plan.h"

namespace tutti {
namespace {

constexpr size_t kDefaultTreeChunkBytes = 256 * 1024;
constexpr size_t kMaxTreeChunks = 64;

// The in-order tree on labels lo..hi under `parentLabel`; fills parent/children by label.
void buildInOrder(int lo, int hi, int parentLabel, std::vector<int>* parent,
                  std::vector<std::vector<int>>* children) {
  if (lo > hi) return;
  int p = 1;
  while (p * 2 <= hi) p *= 2;
  while ((hi / p) * p < lo) p /= 2;
  const int root = (hi / p) * p;  // the label with the most trailing zeros in [lo, hi]
  (*parent)[root] = parentLabel;
  if (parentLabel > 0) (*children)[parentLabel].push_back(root);
  buildInOrder(lo, root - 1, root, parent, children);
  buildInOrder(root + 1, hi, root, parent, children);
}

TreeShape shapeFor(const std::vector<int>& rankOfLabel) {
  const int n = static_cast<int>(rankOfLabel.size()) - 1;  // labels 1..n
  std::vector<int> parentL(n + 1, 0);
  std::vector<std::vector<int>> childL(n + 1);
  buildInOrder(1, n, 0, &parentL, &childL);
  TreeShape t;
  t.parent.assign(n, -1);
  t.children.assign(n, {});
  t.height.assign(n, 0);
  t.depth.assign(n, 0);
  int rootLabel = 1;
  for (int l = 1; l <= n; ++l) {
    const int r = rankOfLabel[l];
    if (parentL[l] == 0)
      rootLabel = l;
    else
      t.parent[r] = rankOfLabel[parentL[l]];
    for (int c : childL[l]) t.children[r].push_back(rankOfLabel[c]);
  }
  t.root = rankOfLabel[rootLabel];
  // Depths top-down, heights bottom-up (labels form no cycles; n is small enough for lists).
  std::vector<int> orderBfs = {t.root};
  for (size_t i = 0; i < orderBfs.size(); ++i)
    for (int c : t.children[orderBfs[i]]) {
      t.depth[c] = t.depth[orderBfs[i]] + 1;
      orderBfs.push_back(c);
    }
  for (size_t i = orderBfs.size(); i-- > 0;) {
    const int r = orderBfs[i];
    for (int c : t.children[r]) t.height[r] = std::max(t.height[r], t.height[c] + 1);
  }
  return t;
}

}  // namespace

std::array<TreeShape, 2> doubleBinaryTree(const std::vector<int>& order) {
  const int n = static_cast<int>(order.size());
  std::vector<int> a(n + 1), b(n + 1);
  for (int i = 0; i < n; ++i) {
    a[i + 1] = order[i];
    b[i == 0 ? n : i] = order[i];
  }
  return {shapeFor(a), shapeFor(b)};
}

void buildTreeAllReduce(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const int n = a.nranks, me = a.rank;
  const size_t es = a.elemSize;
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kTree;
  plan->channels = 2;
  TimedPlan tp;
  if (n == 1) {
    if (!a.inPlace)
      tp.local(-1, copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), a.count * es));
    tp.emit(plan);
    return;
  }
  const std::array<TreeShape, 2> trees = doubleBinaryTree(l.rings[0]);
  size_t chunk = (a.chunkBytes ? a.chunkBytes : kDefaultTreeChunkBytes) / es;
  if (chunk == 0) chunk = 1;
  plan->scratchBytes = 2 * a.count * es;  // one slot per child, at the element's own offset
  for (int t = 0; t < 2; ++t) {
    const TreeShape& tree = trees[t];
    const size_t base = blockStart(a.count, 2, t), cnt = blockCount(a.count, 2, t);
    if (cnt == 0) continue;
    size_t c = chunk;
    if ((cnt + c - 1) / c > kMaxTreeChunks) c = (cnt + kMaxTreeChunks - 1) / kMaxTreeChunks;
    if (c == 0) c = 1;
    const int k = static_cast<int>((cnt + c - 1) / c);
    plan->chunkBytes = c * es;
    const int h = tree.height[me], d = tree.depth[me], top = tree.height[tree.root];
    const std::vector<int>& kids = tree.children[me];
    for (int j = 0; j < k; ++j) {
      const size_t off = (base + j * c) * es, len = std::min(c, cnt - j * c) * es;
      // Reduce up: children's chunk j arrive at j + height(child); ours leaves at j + h.
      std::vector<BufRef> sources = {at(BufferId::kSend, off)};
      for (size_t i = 0; i < kids.size(); ++i) {
        BufRef slot = at(BufferId::kScratch, i * a.count * es + off);
        tp.comm(j + tree.height[kids[i]], recvOp(kids[i], slot, len));
        sources.push_back(slot);
      }
      if (!kids.empty()) {
        tp.local(j + h - 1, reduceManyOp(plan, sources, at(BufferId::kRecv, off), len));
        if (me == tree.root && a.average)
          tp.local(j + h - 1, divideOp(at(BufferId::kRecv, off), len));
      }
      if (me != tree.root)
        tp.comm(j + h, sendOp(tree.parent[me],
                              at(kids.empty() ? BufferId::kSend : BufferId::kRecv, off), len));
      // Broadcast down: the root sends chunk j at j + top; depth d receives it at j + top + d - 1.
      if (me != tree.root)
        tp.comm(j + top + d - 1, recvOp(tree.parent[me], at(BufferId::kRecv, off), len));
      for (int kid : kids) tp.comm(j + top + d, sendOp(kid, at(BufferId::kRecv, off), len));
    }
  }
  tp.emit(plan);
}

}  // namespace tutti
