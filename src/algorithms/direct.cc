// Direct algorithms: one exchange step with every peer, then a local reduction in rank order
// (so every rank computes bit-identical results). Lowest latency; each rank moves (n-1)x the
// data, so the tuner uses them for small messages only.
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
    plan->sources.push_back(p == r ? at(BufferId::kSend, r * bytes) : at(BufferId::kScratch, p * bytes));
  plan->add(reduce);
  if (a.average) plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  plan->compact();
}

}  // namespace tutti
