// SendRecv: rank r sends its input to r+1 and receives from r-1 (ring shift), in one group;
// busbw factor 1.
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
  int next = (c.rank + 1) % c.nranks;
  int prev = (c.rank + c.nranks - 1) % c.nranks;
  PERF_TRY(b.groupStart());
  Status s = b.send(c.send, c.counts.paramCount, c.type, next, c.comm, c.stream);
  if (s.isOk()) s = b.recv(c.recv, c.counts.paramCount, c.type, prev, c.comm, c.stream);
  Status end = b.groupEnd();
  return s.isOk() ? end : s;
}

void expected(const Counts& c, int rank, int nranks, int root, std::vector<Segment>* out) {
  out->push_back({0, (rank + nranks - 1) % nranks, 0, c.recvCount});
}

}  // namespace

const Collective kSendRecv = {"sendrecv", "SendRecv",  false, false,
                              counts,     busBwFactor, issue, expected};

}  // namespace tutti::perf
