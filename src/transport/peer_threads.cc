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

}  // namespace tutti
