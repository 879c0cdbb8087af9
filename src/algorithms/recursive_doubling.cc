// Recursive doubling AllReduce (small messages across nodes): log2(p) steps, p the largest power
// of two <= n; in step b every rank exchanges its whole partial with the rank whose position
// differs in bit b. The n - p ranks past p first hand their input to the rank p below and get
// the result back at the end. Each step talks to one peer, so a rank sends log2(p) messages
// where the direct plan sends n - 1 at once: across hosts every message costs kernel and
// network work that the ranks' cores pay, and the fan-out is what the direct plan loses there.
// Positions run node by node, so with a power-of-two number of ranks per node the first steps
// stay inside a node and each later one crosses between nodes on rails.
#include <vector>

#include "algorithms/builders.h"
#include "algorithms/rank_layout.h"

namespace tutti {

void buildRecursiveDoublingAllReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks;
  const size_t bytes = a.count * a.elemSize;
  plan->collective = Collective::kAllReduce;
  plan->algorithm = Algorithm::kRecursiveDoubling;
  std::vector<int> order;  // rank at each position
  if (a.layout) {
    for (const std::vector<int>& node : a.layout->nodeRanks)
      order.insert(order.end(), node.begin(), node.end());
  } else {
    for (int r = 0; r < n; ++r) order.push_back(r);
  }
  int v = 0;
  while (order[v] != a.rank) ++v;
  int p = 1;
  while (p * 2 <= n) p *= 2;
  const BufRef send = at(BufferId::kSend, 0), recv = at(BufferId::kRecv, 0);
  if (v >= p) {  // past p: the partner combines for us
    plan->beginStep();
    plan->add(sendOp(order[v - p], send, bytes));
    plan->beginStep();
    plan->add(recvOp(order[v - p], recv, bytes));
    plan->beginStep();  // local ops run as soon as their step starts: after the receive
    if (a.average) plan->add(divideOp(recv, bytes));
    plan->compact();
    return;
  }
  const bool folds = v + p < n;  // a rank past p hands us its input first
  int combines = folds ? 1 : 0;
  for (int bit = 1; bit < p; bit <<= 1) ++combines;
  // Partials alternate between two scratch slots, so a step never overwrites what it sends;
  // the last combine lands in recv unless recv is the input that step still sends (in place).
  plan->scratchBytes = 2 * bytes;
  int done = 0;
  BufRef partial = send;
  auto combine = [&](PlanOp op, bool withSend) {
    const bool last = ++done == combines;
    op.dst = last && !(a.inPlace && partial.buf == BufferId::kSend)
                 ? recv
                 : at(BufferId::kScratch, (done % 2) * bytes);
    plan->beginStep();
    if (withSend) plan->add(sendOp(op.peer, partial, bytes));
    plan->add(op);
    partial = op.dst;
  };
  if (folds) combine(recvReduceOp(order[v + p], send, send, bytes), false);
  for (int bit = 1; bit < p; bit <<= 1) {
    const int w = v ^ bit;
    PlanOp op = recvReduceOp(order[w], partial, partial, bytes);
    op.peerFirst = w < v;  // (lower position, higher position) on both partners: the same bits
    combine(op, true);
  }
  plan->beginStep();  // one rank in place: the input is the result already
  if (partial.buf != BufferId::kRecv && !(a.inPlace && partial.buf == BufferId::kSend))
    plan->add(copyOp(partial, recv, bytes));
  plan->beginStep();
  if (folds) plan->add(sendOp(order[v + p], recv, bytes));
  plan->beginStep();  // the send reads recv: divide once it has left
  if (a.average) plan->add(divideOp(recv, bytes));
  plan->compact();
}

}  // namespace tutti
