// AllReduce: every rank receives the reduction of all inputs; busbw factor 2(n-1)/n.
#include "harness/collective.h"

namespace tutti::perf {
namespace {

Counts counts(size_t count, int nranks) {
  Counts c;
  c.sendCount = c.recvCount = c.paramCount = count;
  return c;
}

double busBwFactor(int n) { return 2.0 * (n - 1) / n; }

Status issue(Backend& b, const OpCall& c) {
  if (c.compress)
    return b.allReduceCompressed(c.send, c.recv, c.counts.paramCount, c.type, c.op, *c.compress,
                                 c.compressState, c.comm, c.stream);
  return b.allReduce(c.send, c.recv, c.counts.paramCount, c.type, c.op, c.comm, c.stream);
}

void expected(const Counts& c, int rank, int nranks, int root, std::vector<Segment>* out) {
  out->push_back({0, Segment::kReduced, 0, c.recvCount});
}

}  // namespace

const Collective kAllReduce = {"all_reduce", "AllReduce", true,  false,
                               counts,       busBwFactor, issue, expected};

}  // namespace tutti::perf
