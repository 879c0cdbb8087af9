// Pipelined chains for Broadcast and Reduce: the buffer is cut into chunks that flow along
// the ranks, so a large message costs about one transfer plus (n-1) chunk latencies.
#include "algorithms/builders.h"

namespace tutti {
namespace {

constexpr size_t kDefaultChunkBytes = 512 * 1024;

size_t chunkBytesFor(const CollArgs& a) {
  size_t c = a.chunkBytes ? a.chunkBytes : kDefaultChunkBytes;
  c -= c % a.elemSize;
  return c ? c : a.elemSize;
}

}  // namespace

void buildChainBroadcast(const CollArgs& a, Plan* plan) {
  const int n = a.nranks;
  const size_t bytes = a.count * a.elemSize, chunk = chunkBytesFor(a);
  const int k = static_cast<int>((bytes + chunk - 1) / chunk);
  const int d = (a.rank - a.root + n) % n;  // distance from the root along the chain
  const int next = (a.rank + 1) % n, prev = (a.rank - 1 + n) % n;
  plan->collective = Collective::kBroadcast;
  plan->algorithm = Algorithm::kChain;
  plan->chunkBytes = chunk;
  auto len = [&](int c) { return std::min(chunk, bytes - c * chunk); };
  plan->beginStep();
  if (d == 0 && !a.inPlace)
    plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  for (int s = 0; s < k + n - 2; ++s) {
    if (s > 0) plan->beginStep();
    int sc = s - d, rc = s - d + 1;
    if (d < n - 1 && sc >= 0 && sc < k)
      plan->add(sendOp(next, at(d == 0 ? BufferId::kSend : BufferId::kRecv, sc * chunk), len(sc)));
    if (d >= 1 && rc >= 0 && rc < k)
      plan->add(recvOp(prev, at(BufferId::kRecv, rc * chunk), len(rc)));
  }
  plan->compact();
}

void buildChainReduce(const CollArgs& a, Plan* plan) {
  const int n = a.nranks;
  const size_t bytes = a.count * a.elemSize, chunk = chunkBytesFor(a);
  const int k = static_cast<int>((bytes + chunk - 1) / chunk);
  const int p = (a.rank - a.root - 1 + 2 * n) % n;  // position; the root is last (n-1)
  const int next = (a.rank + 1) % n, prev = (a.rank - 1 + n) % n;
  const bool isRoot = p == n - 1;
  plan->collective = Collective::kReduce;
  plan->algorithm = Algorithm::kChain;
  plan->chunkBytes = chunk;
  // Partial results accumulate in recv at the root and in scratch elsewhere.
  const BufferId acc = isRoot ? BufferId::kRecv : BufferId::kScratch;
  if (!isRoot && p > 0) plan->scratchBytes = bytes;
  auto len = [&](int c) { return std::min(chunk, bytes - c * chunk); };
  if (n == 1) {
    plan->beginStep();
    if (!a.inPlace) plan->add(copyOp(at(BufferId::kSend, 0), at(BufferId::kRecv, 0), bytes));
  }
  for (int s = 0; s < k + n - 2; ++s) {
    plan->beginStep();
    int sc = s - p, rc = s - p + 1;
    if (p < n - 1 && sc >= 0 && sc < k)
      plan->add(sendOp(next, at(p == 0 ? BufferId::kSend : acc, sc * chunk), len(sc)));
    if (p >= 1 && rc >= 0 && rc < k)
      plan->add(recvReduceOp(prev, at(BufferId::kSend, rc * chunk), at(acc, rc * chunk), len(rc)));
  }
  if (a.average && isRoot) {
    plan->beginStep();
    plan->add(divideOp(at(BufferId::kRecv, 0), bytes));
  }
  plan->compact();
}

}  // namespace tutti
