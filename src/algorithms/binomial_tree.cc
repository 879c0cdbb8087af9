// Binomial trees for Broadcast and Reduce: ceil(log2 n) rounds of whole-buffer messages,
// the latency-optimal choice for small messages.
#include "algorithms/builders.h"

namespace tutti {

void buildTreeBroadcast(const CollArgs& a, Plan* plan) {
  const int n = a.nranks;
  const size_t bytes = a.count * a.elemSize;
  const int d = (a.rank - a.root + n) % n;
  auto rankOf = [&](int rel) { return (rel + a.root) % n; };
  plan->collective = Collective::kBroadcast;
  plan->algorithm = Algorithm::kTree;
  plan->beginStep();
  if (d == 0 && !a.inPlace)
    plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  for (int span = 1; span < n; span *= 2) {
    plan->beginStep();
    BufRef src = at(d == 0 ? BufferId::kSend : BufferId::kRecv, 0);
    if (d < span && d + span < n) plan->add(sendOp(rankOf(d + span), src, bytes));
    if (d >= span && d < 2 * span)
      plan->add(recvOp(rankOf(d - span), at(BufferId::kRecv, 0), bytes));
  }
  plan->compact();
}

void buildTreeReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks;
  const size_t bytes = a.count * a.elemSize;
  const int d = (a.rank - a.root + n) % n;
  auto rankOf = [&](int rel) { return (rel + a.root) % n; };
  plan->collective = Collective::kReduce;
  plan->algorithm = Algorithm::kTree;
  const BufferId acc = d == 0 ? BufferId::kRecv : BufferId::kScratch;
  bool haveAcc = false;  // until the first child arrives our partial result is the input
  for (int span = 1; span < n; span *= 2) {
    plan->beginStep();
    if (d % (2 * span) == span) {  // send our partial result to the parent, then stop
      plan->add(sendOp(rankOf(d - span), at(haveAcc ? acc : BufferId::kSend, 0), bytes));
      break;
    }
    if (d % (2 * span) == 0 && d + span < n) {
      plan->add(recvReduceOp(rankOf(d + span), at(haveAcc ? acc : BufferId::kSend, 0), at(acc, 0),
                             bytes));
      haveAcc = true;
    }
  }
  if (d == 0 && !haveAcc && !a.inPlace) {
    plan->beginStep();
    plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  }
  if (haveAcc && d != 0) plan->scratchBytes = bytes;
  if (a.average && d == 0) {
    plan->beginStep();
    plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  }
  plan->compact();
}

}  // namespace tutti
