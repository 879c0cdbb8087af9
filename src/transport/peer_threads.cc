#include "transport/peer_threads.h"

#include <sched.h>

namespace tutti {

int threadsPerPeer(int cpus, int localRanks, int remotePeers) {
  if (remotePeers > kMaxThreadedPeers) return 1;
  const int n = cpus / (2 * (localRanks > 0 ? localRanks : 1));
  return n < 1 ? 1 : (n > 4 ? 4 : n);
}

HostShare hostShareHere(const TransportContext& ctx) {
  int local = 0;
  for (int p = 0; p < ctx.nranks; ++p) local += ctx.sameHost(ctx.rank, p) ? 1 : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  return HostShare{cpus, local, ctx.nranks - local};
}

CountAgreement agreeCount(const std::vector<CountAsk>& asks) {
  CountAgreement a;
  int least = 0;
  for (size_t p = 0; p < asks.size(); ++p) {
    const CountAsk& k = asks[p];
    if (p == 0 || k.count < least) least = k.count;
    if (!k.set) continue;
    if (a.setBy >= 0 && k.count != asks[static_cast<size_t>(a.setBy)].count) {
      a.differs = static_cast<int>(p);
      return a;
    }
    if (a.setBy < 0) a.setBy = static_cast<int>(p);
  }
  a.fromAuto = a.setBy < 0;
  a.count = a.fromAuto ? (least < 1 ? 1 : least) : asks[static_cast<size_t>(a.setBy)].count;
  return a;
}

}  // namespace tutti
