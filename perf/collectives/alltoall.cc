// AllToAll: block p of rank r's input lands in block r of rank p's output;
// busbw factor (n-1)/n.
#include "harness/collective.h"

namespace tutti::perf {
namespace {

Counts counts(size_t count, int nranks) {
  Counts c;
  c.paramCount = count / nranks;
  c.sendCount = c.recvCount = c.paramCount * nranks;
  return c;
}

double busBwFactor(int n) { return static_cast<double>(n - 1) / n; }

Status issue(Backend& b, const OpCall& c) {
  return b.allToAll(c.send, c.recv, c.counts.paramCount, c.type, c.comm, c.stream);
}

void expected(const Counts& c, int rank, int nranks, int root, std::vector<Segment>* out) {
  size_t n = c.paramCount;
  for (int p = 0; p < nranks; ++p) out->push_back({p * n, p, rank * n, n});
}

}  // namespace

const Collective kAllToAll = {"alltoall", "AllToAll",  false, false,
                              counts,     busBwFactor, issue, expected};

}  // namespace tutti::perf
