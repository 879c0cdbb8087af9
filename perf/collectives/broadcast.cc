// Broadcast: every rank receives the root's input; busbw factor 1.
#include "harness/collective.h"

namespace tutti::perf {
namespace {

Counts counts(size_t count, int nranks) {
  Counts c;
  c.sendCount = c.recvCount = c.paramCount = count;
  return c;
}

double busBwFactor(int n) { return 1.0; }

Status issue(Backend& b, const OpCall& c) {
  return b.broadcast(c.send, c.recv, c.counts.paramCount, c.type, c.root, c.comm, c.stream);
}

void expected(const Counts& c, int rank, int nranks, int root, std::vector<Segment>* out) {
  out->push_back({0, root, 0, c.recvCount});
}

}  // namespace

const Collective kBroadcast = {"broadcast", "Broadcast", false, true,
                               counts,      busBwFactor, issue, expected};

}  // namespace tutti::perf
