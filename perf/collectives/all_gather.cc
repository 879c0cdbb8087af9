// AllGather: every rank receives all ranks' inputs in rank order; size = receive bytes,
// busbw factor (n-1)/n.
#include "harness/collective.h"

namespace tutti::perf {
namespace {

Counts counts(size_t count, int nranks) {
  Counts c;
  c.paramCount = c.sendCount = count / nranks;
  c.recvCount = c.sendCount * nranks;
  c.sendInplaceOffset = c.sendCount;
  return c;
}

double busBwFactor(int n) { return static_cast<double>(n - 1) / n; }

Status issue(Backend& b, const OpCall& c) {
  if (c.compress)
    return b.allGatherCompressed(c.send, c.recv, c.counts.paramCount, c.type, *c.compress,
                                 c.compressState, c.comm, c.stream);
  return b.allGather(c.send, c.recv, c.counts.paramCount, c.type, c.comm, c.stream);
}

void expected(const Counts& c, int rank, int nranks, int root, std::vector<Segment>* out) {
  for (int p = 0; p < nranks; ++p) out->push_back({p * c.sendCount, p, 0, c.sendCount});
}

}  // namespace

const Collective kAllGather = {"all_gather", "AllGather", false, false,
                               counts,       busBwFactor, issue, expected};

}  // namespace tutti::perf
