// ReduceScatter: rank r receives block r of the reduction; size = send bytes,
// busbw factor (n-1)/n.
#include "harness/collective.h"

namespace tutti::perf {
namespace {

Counts counts(size_t count, int nranks) {
  Counts c;
  c.paramCount = c.recvCount = count / nranks;
  c.sendCount = c.recvCount * nranks;
  c.recvInplaceOffset = c.recvCount;
  return c;
}

double busBwFactor(int n) { return static_cast<double>(n - 1) / n; }

Status issue(Backend& b, const OpCall& c) {
  if (c.compress)
    return b.reduceScatterCompressed(c.send, c.recv, c.counts.paramCount, c.type, c.op, *c.compress,
                                     c.compressState, c.comm, c.stream);
  return b.reduceScatter(c.send, c.recv, c.counts.paramCount, c.type, c.op, c.comm, c.stream);
}

void expected(const Counts& c, int rank, int nranks, int root, std::vector<Segment>* out) {
  out->push_back({0, Segment::kReduced, rank * c.recvCount, c.recvCount});
}

}  // namespace

const Collective kReduceScatter = {"reduce_scatter", "ReduceScatter", true,  false,
                                   counts,           busBwFactor,     issue, expected};

}  // namespace tutti::perf
