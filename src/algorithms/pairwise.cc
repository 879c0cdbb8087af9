// Pairwise-exchange AllToAll(v): step s sends to rank r+s and receives from rank r-s, so
// every link carries one message per step and no rank is a hotspot.
#include "algorithms/builders.h"

namespace tutti {

void buildPairwiseAllToAll(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t es = a.elemSize;
  const bool v = a.collective == Collective::kAllToAllv;
  auto sendOff = [&](int p) { return (v ? a.sendDispls[p] : p * a.count) * es; };
  auto sendLen = [&](int p) { return (v ? a.sendCounts[p] : a.count) * es; };
  auto recvOff = [&](int p) { return (v ? a.recvDispls[p] : p * a.count) * es; };
  auto recvLen = [&](int p) { return (v ? a.recvCounts[p] : a.count) * es; };
  plan->collective = a.collective;
  plan->algorithm = Algorithm::kPairwise;
  // In place, blocks we still have to send would be overwritten: stage the input first.
  BufferId src = BufferId::kSend;
  if (a.inPlace) {
    size_t total = 0;
    for (int p = 0; p < n; ++p) total = std::max(total, sendOff(p) + sendLen(p));
    plan->scratchBytes = total;
    plan->beginStep();
    plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kScratch, 0), total));
    src = BufferId::kScratch;
  }
  plan->beginStep();
  plan->add(copyOp(at(src, sendOff(r)), at(BufferId::kRecv, recvOff(r)), recvLen(r)));
  for (int s = 1; s < n; ++s) {
    int to = (r + s) % n, from = (r - s + n) % n;
    plan->beginStep();
    plan->add(sendOp(to, at(src, sendOff(to)), sendLen(to)));
    plan->add(recvOp(from, at(BufferId::kRecv, recvOff(from)), recvLen(from)));
  }
  plan->compact();
}

void buildP2p(const CollArgs& a, Plan* plan) {
  plan->collective = a.collective;
  plan->algorithm = Algorithm::kP2p;
  plan->beginStep();
  const size_t bytes = a.count * a.elemSize;
  if (a.collective == Collective::kSend) {
    if (a.peer == a.rank) return;  // self send/recv pairs are resolved by the group
    plan->add(sendOp(a.peer, at(BufferId::kSend, 0), bytes));
  } else {
    if (a.peer == a.rank) return;
    plan->add(recvOp(a.peer, at(BufferId::kRecv, 0), bytes));
  }
}

}  // namespace tutti
