// Ring algorithms: n-1 steps per phase, each rank sending one block to its successor while
// receiving one from its predecessor. AllReduce = reduce-scatter then all-gather. Rings
// follow the layout's orders (fastest links first, rail-aligned across nodes); with several
// channels the data is cut into parts and every part travels its own ring in parallel.
#include <algorithm>

#include "algorithms/builders.h"
#include "algorithms/timed_plan.h"

namespace tutti {
namespace {

inline int mod(int x, int n) { return ((x % n) + n) % n; }

// One ring channel as seen from this rank.
struct RingView {
  const std::vector<int>* order;
  int pos, next, prev;
  int at(int i) const { return (*order)[mod(i, static_cast<int>(order->size()))]; }
};

// Channels a call uses: what the call and the layout allow, and no more than there is data
// to spread (every rank computes the same number from the same inputs).
int channelsFor(const CollArgs& a, const RankLayout& l, size_t units) {
  int c = std::max(1, std::min(a.channels, l.channels()));
  if (units < static_cast<size_t>(c)) c = std::max<int>(1, static_cast<int>(units));
  return c;
}

std::vector<RingView> views(const RankLayout& l, int channels, int rank) {
  std::vector<RingView> v;
  const int n = l.nranks;
  for (int c = 0; c < channels; ++c) {
    const int p = l.ringPos[c][rank];
    v.push_back({&l.rings[c], p, l.rings[c][mod(p + 1, n)], l.rings[c][mod(p - 1, n)]});
  }
  return v;
}

}  // namespace

void buildRingAllReduce(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const int n = a.nranks;
  const size_t es = a.elemSize;
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kRing;
  if (n == 1) {
    plan->beginStep();
    if (!a.inPlace) plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), a.count * es));
    plan->compact();
    return;
  }
  const int channels = channelsFor(a, l, a.count / n);
  plan->channels = channels;
  const std::vector<RingView> rings = views(l, channels, a.rank);
  // Part c of the buffer travels ring c, cut into n blocks indexed by ring position.
  auto off = [&](int c, int b) {
    size_t part = blockStart(a.count, channels, c), cnt = blockCount(a.count, channels, c);
    return (part + blockStart(cnt, n, mod(b, n))) * es;
  };
  auto len = [&](int c, int b) {
    return blockCount(blockCount(a.count, channels, c), n, mod(b, n)) * es;
  };
  // Reduce-scatter: after step s, position p holds the partial sum of block p-s-1.
  for (int s = 0; s < n - 1; ++s) {
    plan->beginStep();
    for (int c = 0; c < channels; ++c) {
      const RingView& v = rings[c];
      int sb = v.pos - s, rb = v.pos - s - 1;
      plan->add(
          sendOp(v.next, at(s == 0 ? BufferId::kSend : BufferId::kRecv, off(c, sb)), len(c, sb)));
      plan->add(recvReduceOp(v.prev, at(BufferId::kSend, off(c, rb)),
                             at(BufferId::kRecv, off(c, rb)), len(c, rb)));
    }
  }
  if (a.average) {
    plan->beginStep();
    for (int c = 0; c < channels; ++c) {
      int owned = rings[c].pos + 1;
      plan->add(divideOp(at(BufferId::kRecv, off(c, owned)), len(c, owned)));
    }
  }
  // All-gather of the reduced blocks.
  for (int s = 0; s < n - 1; ++s) {
    plan->beginStep();
    for (int c = 0; c < channels; ++c) {
      const RingView& v = rings[c];
      int sb = v.pos + 1 - s, rb = v.pos - s;
      plan->add(sendOp(v.next, at(BufferId::kRecv, off(c, sb)), len(c, sb)));
      plan->add(recvOp(v.prev, at(BufferId::kRecv, off(c, rb)), len(c, rb)));
    }
  }
}

void buildRingAllGather(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const int n = a.nranks, r = a.rank;
  const size_t es = a.elemSize, bytes = a.count * es;
  plan->collective = Collective::kAllGather;
  plan->algorithm = Algorithm::kRing;
  plan->beginStep();
  if (!a.inPlace) plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, r * bytes), bytes));
  if (n == 1) {
    plan->compact();
    return;
  }
  const int channels = channelsFor(a, l, a.count);
  plan->channels = channels;
  const std::vector<RingView> rings = views(l, channels, r);
  // Part c of every rank's block travels ring c.
  auto partOff = [&](int c) { return blockStart(a.count, channels, c) * es; };
  auto partLen = [&](int c) { return blockCount(a.count, channels, c) * es; };
  for (int s = 0; s < n - 1; ++s) {
    if (s > 0) plan->beginStep();
    for (int c = 0; c < channels; ++c) {
      const RingView& v = rings[c];
      int from = v.at(v.pos - s), to = v.at(v.pos - s - 1);
      BufRef src =
          s == 0 ? at(BufferId::kSend, partOff(c)) : at(BufferId::kRecv, from * bytes + partOff(c));
      plan->add(sendOp(v.next, src, partLen(c)));
      plan->add(recvOp(v.prev, at(BufferId::kRecv, to * bytes + partOff(c)), partLen(c)));
    }
  }
  plan->compact();
}

void buildRingReduceScatter(const CollArgs& a, Plan* plan) {
  RankLayout flat;
  const RankLayout& l = layoutFor(a, &flat);
  const int n = a.nranks, r = a.rank;
  const size_t es = a.elemSize, bytes = a.count * es;
  plan->collective = Collective::kReduceScatter;
  plan->algorithm = Algorithm::kRing;
  if (n == 1) {
    plan->beginStep();
    if (!a.inPlace) plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
    plan->compact();
    return;
  }
  const int channels = channelsFor(a, l, a.count);
  plan->channels = channels;
  const std::vector<RingView> rings = views(l, channels, r);
  auto partOff = [&](int c) { return blockStart(a.count, channels, c) * es; };
  auto partLen = [&](int c) { return blockCount(a.count, channels, c) * es; };
  // Partial sums travel the ring through two alternating scratch blocks; the last step
  // lands this rank's block in the receive buffer.
  plan->scratchBytes = n > 2 ? 2 * bytes : 0;
  for (int s = 0; s < n - 1; ++s) {
    plan->beginStep();
    for (int c = 0; c < channels; ++c) {
      const RingView& v = rings[c];
      int sb = v.at(v.pos - 1 - s), rb = v.at(v.pos - 2 - s);
      BufRef src = s == 0 ? at(BufferId::kSend, sb * bytes + partOff(c))
                          : at(BufferId::kScratch, ((s - 1) % 2) * bytes + partOff(c));
      BufRef dst = s == n - 2 ? at(BufferId::kRecv, partOff(c))
                              : at(BufferId::kScratch, (s % 2) * bytes + partOff(c));
      plan->add(sendOp(v.next, src, partLen(c)));
      plan->add(
          recvReduceOp(v.prev, at(BufferId::kSend, rb * bytes + partOff(c)), dst, partLen(c)));
    }
  }
  if (a.average) {
    plan->beginStep();
    plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  }
}

}  // namespace tutti
