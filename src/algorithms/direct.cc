// Direct algorithms: exchanges with every peer at once, reductions in rank order (so every
// rank computes bit-identical results). One-shot moves (n-1)x the data in one step (small
// messages); two-shot reduce-scatters then all-gathers directly (medium messages).
#include "algorithms/builders.h"

namespace tutti {

void buildDirectAllReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kDirect;
  // Peers' inputs land in scratch slot p (slot r unused, our own input stays in place).
  plan->scratchBytes = bytes * n;
  plan->beginStep();
  for (int k = 1; k < n; ++k) {
    int to = (r + k) % n, from = (r - k + n) % n;
    plan->add(sendOp(to, at(BufferId::kSend, 0), bytes));
    plan->add(recvOp(from, at(BufferId::kScratch, from * bytes), bytes));
  }
  plan->beginStep();
  PlanOp reduce{OpType::kReduceMany, -1, at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes};
  reduce.firstSource = static_cast<uint32_t>(plan->sources.size());
  reduce.numSources = n;
  for (int p = 0; p < n; ++p)
    plan->sources.push_back(p == r ? at(BufferId::kSend, 0) : at(BufferId::kScratch, p * bytes));
  plan->add(reduce);
  if (a.average) plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  plan->compact();
}

void buildDirectAllGather(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kAllGather;
  plan->algorithm = Algorithm::kDirect;
  plan->beginStep();
  if (!a.inPlace) plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, r * bytes), bytes));
  for (int k = 1; k < n; ++k) {
    int to = (r + k) % n, from = (r - k + n) % n;
    plan->add(sendOp(to, at(BufferId::kSend, 0), bytes));
    plan->add(recvOp(from, at(BufferId::kRecv, from * bytes), bytes));
  }
  plan->compact();
}

void buildDirectReduceScatter(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kReduceScatter;
  plan->algorithm = Algorithm::kDirect;
  plan->scratchBytes = bytes * n;
  plan->beginStep();
  for (int k = 1; k < n; ++k) {
    int to = (r + k) % n, from = (r - k + n) % n;
    plan->add(sendOp(to, at(BufferId::kSend, to * bytes), bytes));
    plan->add(recvOp(from, at(BufferId::kScratch, from * bytes), bytes));
  }
  plan->beginStep();
  PlanOp reduce{OpType::kReduceMany, -1, at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes};
  reduce.firstSource = static_cast<uint32_t>(plan->sources.size());
  reduce.numSources = n;
  for (int p = 0; p < n; ++p)
    plan->sources.push_back(p == r ? at(BufferId::kSend, r * bytes)
                                   : at(BufferId::kScratch, p * bytes));
  plan->add(reduce);
  if (a.average) plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  plan->compact();
}

// Two-shot AllReduce: a direct reduce-scatter (every rank sums its block from all peers'
// inputs) then a direct all-gather of the summed blocks; two exchange steps, each moving
// (n-1)/n of the buffer per rank.
void buildTwoShotAllReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t es = a.elemSize;
  auto off = [&](int b) { return blockStart(a.count, n, b) * es; };
  auto len = [&](int b) { return blockCount(a.count, n, b) * es; };
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kTwoShot;
  const size_t slot = blockCount(a.count, n, 0) * es;  // the largest block
  plan->scratchBytes = slot * n;
  plan->beginStep();
  for (int k = 1; k < n; ++k) {
    int to = (r + k) % n, from = (r - k + n) % n;
    plan->add(sendOp(to, at(BufferId::kSend, off(to)), len(to)));
    plan->add(recvOp(from, at(BufferId::kScratch, from * slot), len(r)));
  }
  plan->beginStep();
  PlanOp reduce{OpType::kReduceMany, -1, at(BufferId::kSend, off(r)), at(BufferId::kRecv, off(r)),
                len(r)};
  reduce.firstSource = static_cast<uint32_t>(plan->sources.size());
  reduce.numSources = n;
  for (int p = 0; p < n; ++p)
    plan->sources.push_back(p == r ? at(BufferId::kSend, off(r))
                                   : at(BufferId::kScratch, p * slot));
  plan->add(reduce);
  if (a.average) plan->add(divideOp(at(BufferId::kRecv, off(r)), len(r)));
  plan->beginStep();
  for (int k = 1; k < n; ++k) {
    int to = (r + k) % n, from = (r - k + n) % n;
    plan->add(sendOp(to, at(BufferId::kRecv, off(r)), len(r)));
    plan->add(recvOp(from, at(BufferId::kRecv, off(from)), len(from)));
  }
  plan->compact();
}

}  // namespace tutti
