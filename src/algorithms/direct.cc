// Direct algorithms: exchanges with every peer at once, reductions in rank order (so every
// rank computes bit-identical results). One-shot moves (n-1)x the data in one step (small
// messages); two-shot reduce-scatters then all-gathers directly (medium messages).
#include "algorithms/builders.h"

namespace tutti {

namespace {

// Whether a left fold stored in the dtype between steps equals ReduceMany's fold in the
// accumulation type: true where the two types are the same (not 16- and 8-bit floats).
bool foldsInStorageType(tuttiDataType_t t) {
  return t != tuttiFloat16 && t != tuttiBfloat16 && t != tuttiFp8E4M3 && t != tuttiFp8E5M2;
}

// Appends to the current step a fold of `bytes` from every rank into `acc`, in rank order:
// acc = x0; acc = f(acc, x1); ... where x_r is `mine` and the others arrive from the peers.
// The receives run one after another (afterPrev) while the step's sends to every peer proceed,
// so no rank waits on a send that waits on it. The rank holding x0 or x1 combines both in one
// pass (peerFirst keeps x0 on the left), so every rank computes the same bits.
void addRankOrderFold(Plan* plan, int n, int r, BufRef mine, BufRef acc, size_t bytes) {
  bool first = true;
  auto chain = [&](PlanOp op) {
    op.afterPrev = !first;
    first = false;
    plan->add(op);
  };
  int p = 2;
  if (r == 0) {
    chain(recvReduceOp(1, mine, acc, bytes));
  } else if (r == 1) {
    PlanOp op = recvReduceOp(0, mine, acc, bytes);
    op.peerFirst = true;
    chain(op);
  } else {
    chain(recvOp(0, acc, bytes));
    p = 1;
  }
  for (; p < n; ++p) {
    if (p != r) {
      chain(recvReduceOp(p, acc, acc, bytes));
      continue;
    }
    PlanOp own{OpType::kReduceMany, -1, acc, acc, bytes};
    own.firstSource = static_cast<uint32_t>(plan->sources.size());
    own.numSources = 2;
    plan->sources.push_back(acc);
    plan->sources.push_back(mine);
    chain(own);
  }
}

// One-shot with the peers' inputs combined straight out of the stream. Out of place the fold
// accumulates in recv (reading no copy of a peer's input); in place in scratch, because recv
// is also the input still being sent, and a last step copies it back.
void buildDirectAllReduceFold(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t bytes = a.count * a.elemSize;
  const BufRef mine = at(BufferId::kSend, 0);
  const BufRef acc = a.inPlace ? at(BufferId::kScratch, 0) : at(BufferId::kRecv, 0);
  plan->scratchBytes = a.inPlace ? bytes : 0;
  plan->beginStep();
  for (int k = 1; k < n; ++k) plan->add(sendOp((r + k) % n, mine, bytes));
  addRankOrderFold(plan, n, r, mine, acc, bytes);
  plan->beginStep();
  if (a.inPlace) plan->add(copyOp(acc, at(BufferId::kRecv, 0), bytes));
  if (a.average) plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  plan->compact();
}

}  // namespace

void buildDirectAllReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kDirect;
  if (n > 1 && foldsInStorageType(a.dtype)) return buildDirectAllReduceFold(a, plan);
  // 16- and 8-bit floats: peers' inputs land in scratch slot p (slot r unused, our own input
  // stays in place) and one ReduceMany accumulates them in float, rounding once.
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
// (n-1)/n of the buffer per rank. Where the fold stays in the dtype, block r is folded in rank
// order straight out of the streams (in recv, or in scratch in place, where recv's block r is
// still our input); else peers' blocks land in scratch and one ReduceMany rounds once.
void buildTwoShotAllReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks, r = a.rank;
  const size_t es = a.elemSize;
  auto off = [&](int b) { return blockStart(a.count, n, b) * es; };
  auto len = [&](int b) { return blockCount(a.count, n, b) * es; };
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kTwoShot;
  const size_t slot = blockCount(a.count, n, 0) * es;  // the largest block
  const bool fold = n > 1 && foldsInStorageType(a.dtype);
  plan->scratchBytes = fold ? (a.inPlace ? slot : 0) : slot * n;
  plan->beginStep();
  for (int k = 1; k < n; ++k) {
    int to = (r + k) % n, from = (r - k + n) % n;
    plan->add(sendOp(to, at(BufferId::kSend, off(to)), len(to)));
    if (!fold) plan->add(recvOp(from, at(BufferId::kScratch, from * slot), len(r)));
  }
  const BufRef mine = at(BufferId::kSend, off(r)), out = at(BufferId::kRecv, off(r));
  if (fold) {
    const BufRef acc = a.inPlace ? at(BufferId::kScratch, 0) : out;
    addRankOrderFold(plan, n, r, mine, acc, len(r));
    plan->beginStep();
    if (a.inPlace) plan->add(copyOp(acc, out, len(r)));
  } else {
    plan->beginStep();
    PlanOp reduce{OpType::kReduceMany, -1, mine, out, len(r)};
    reduce.firstSource = static_cast<uint32_t>(plan->sources.size());
    reduce.numSources = n;
    for (int p = 0; p < n; ++p)
      plan->sources.push_back(p == r ? mine : at(BufferId::kScratch, p * slot));
    plan->add(reduce);
  }
  if (a.average) plan->add(divideOp(out, len(r)));
  plan->beginStep();
  for (int k = 1; k < n; ++k) {
    int to = (r + k) % n, from = (r - k + n) % n;
    plan->add(sendOp(to, out, len(r)));
    plan->add(recvOp(from, at(BufferId::kRecv, off(from)), len(from)));
  }
  plan->compact();
}

}  // namespace tutti
