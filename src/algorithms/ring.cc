// Ring algorithms: n-1 steps per phase, each rank sending one block to its successor while
// receiving one from its predecessor. AllReduce = reduce-scatter then all-gather.
#include "algorithms/builders.h"

namespace tutti {
namespace {

inline int mod(int x, int n) { return ((x % n) + n) % n; }

}  // namespace

void buildRingAllReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank, next = mod(r + 1, n), prev = mod(r - 1, n);
  const size_t es = a.elemSize;
  auto off = [&](int b) { return blockStart(a.count, n, b) * es; };
  auto len = [&](int b) { return blockCount(a.count, n, b) * es; };
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kRing;
  if (n == 1) {
    plan->beginStep();
    if (!a.inPlace) plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), a.count * es));
    plan->compact();
    return;
  }
  // Reduce-scatter: after step s rank r holds the partial sum of block r-s-1.
  for (int s = 0; s < n - 1; ++s) {
    int sb = mod(r - s, n), rb = mod(r - s - 1, n);
    plan->beginStep();
    plan->add(sendOp(next, at(s == 0 ? BufferId::kSend : BufferId::kRecv, off(sb)), len(sb)));
    plan->add(recvReduceOp(prev, at(BufferId::kSend, off(rb)), at(BufferId::kRecv, off(rb)), len(rb)));
  }
  const int owned = mod(r + 1, n);
  if (a.average) {
    plan->beginStep();
    plan->add(divideOp(at(BufferId::kRecv, off(owned)), len(owned)));
  }
  // All-gather of the reduced blocks.
  for (int s = 0; s < n - 1; ++s) {
    int sb = mod(r + 1 - s, n), rb = mod(r - s, n);
    plan->beginStep();
    plan->add(sendOp(next, at(BufferId::kRecv, off(sb)), len(sb)));
    plan->add(recvOp(prev, at(BufferId::kRecv, off(rb)), len(rb)));
  }
}

void buildRingAllGather(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank, next = mod(r + 1, n), prev = mod(r - 1, n);
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kAllGather;
  plan->algorithm = Algorithm::kRing;
  for (int s = 0; s < n - 1 || (s == 0 && n == 1); ++s) {
    plan->beginStep();
    if (s == 0 && !a.inPlace)
      plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, r * bytes), bytes));
    if (n == 1) break;
    int sb = mod(r - s, n), rb = mod(r - s - 1, n);
    plan->add(sendOp(next, s == 0 ? at(BufferId::kSend, 0) : at(BufferId::kRecv, sb * bytes), bytes));
    plan->add(recvOp(prev, at(BufferId::kRecv, rb * bytes), bytes));
  }
  plan->compact();
}

void buildRingReduceScatter(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank, next = mod(r + 1, n), prev = mod(r - 1, n);
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kReduceScatter;
  plan->algorithm = Algorithm::kRing;
  if (n == 1) {
    plan->beginStep();
    if (!a.inPlace) plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
    plan->compact();
    return;
  }
  // Partial sums travel the ring through two alternating scratch blocks; the last step
  // lands block r in the receive buffer.
  plan->scratchBytes = n > 2 ? 2 * bytes : 0;
  for (int s = 0; s < n - 1; ++s) {
    int sb = mod(r - 1 - s, n), rb = mod(r - 2 - s, n);
    BufRef src = s == 0 ? at(BufferId::kSend, sb * bytes) : at(BufferId::kScratch, ((s - 1) % 2) * bytes);
    BufRef dst = s == n - 2 ? at(BufferId::kRecv, 0) : at(BufferId::kScratch, (s % 2) * bytes);
    plan->beginStep();
    plan->add(sendOp(next, src, bytes));
    plan->add(recvReduceOp(prev, at(BufferId::kSend, rb * bytes), dst, bytes));
  }
  if (a.average) {
    plan->beginStep();
    plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  }
}

}  // namespace tutti
