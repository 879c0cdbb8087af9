// Striping choices for the UCX transport: the ask each rank publishes and the agreement.
#include "transport/ucx_striping.h"

#include "transport/peer_threads.h"

#include <cstdlib>
#include <string>

#include "base/env.h"
#include "transport/connection.h"

namespace tutti {

// Over TCP each worker's thread spends a CPU on socket calls, and one thread per peer held a
// 64 MiB AllReduce to about half of a TCP stream: 4 stripe workers doubled it on 16 CPUs and
// lost 40% on 2 (perf/NOTES.md, 2026-12-03 and 2026-12-04).
int autoStripeWorkers(int cpus, int localRanks, int remotePeers, bool rdma) {
  return rdma ? 1 : threadsPerPeer(cpus, localRanks, remotePeers);
}

Result readStripingAsk(int autoWorkers, StripingAsk* out) {
  *out = StripingAsk{};
  const std::string v = envString("TUTTI_UCX_WORKERS");
  long n = autoWorkers;
  if (!v.empty() && v != "auto") {
    char* end = nullptr;
    n = strtol(v.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > kMaxStripeWorkers)
      return setError(tuttiInvalidArgument, "TUTTI_UCX_WORKERS=%s: expected 1..%d or auto",
                      v.c_str(), kMaxStripeWorkers);
    out->workersSet = 1;
  }
  out->workers = static_cast<uint32_t>(n);
  out->stripe = envBytes("TUTTI_UCX_STRIPE_BYTES", 1u << 20);
  if (out->stripe == 0 || out->stripe % Connection::kAlign != 0)
    return setError(tuttiInvalidArgument,
                    "TUTTI_UCX_STRIPE_BYTES=%llu: expected a positive multiple of %zu",
                    (unsigned long long)out->stripe, Connection::kAlign);
  out->stripeMin = envBytes("TUTTI_UCX_STRIPE_MIN_BYTES", 0);
  out->checksum = envInt("TUTTI_CHECKSUM", 0) != 0 ? 1 : 0;
  return tuttiSuccess;
}

// Measured between namespace hosts on 16 CPUs (perf/results/2026-12-04-h200x1-stripe-windows.md):
// with a second rank on the host the executor also runs the node's shared-memory phases, and
// windows, which take the network's copies off it, gained 2 x 2 5-15%. A rank alone on its host
// loses 5-10% with them: its ring copies run on the reduce threads and leave the stripe in
// cache for the drivers, where a window's pieces are read cold by one driver thread each.
Result readStripeWindows(int localRanks, bool* on) {
  const std::string v = envString("TUTTI_UCX_STRIPE_DIRECT");
  if (v.empty() || v == "auto")
    *on = localRanks > 1;
  else if (v == "0" || v == "1")
    *on = v == "1";
  else
    return setError(tuttiInvalidArgument, "TUTTI_UCX_STRIPE_DIRECT=%s: expected 0, 1 or auto",
                    v.c_str());
  return tuttiSuccess;
}

// Every rank sees the same asks, so every rank reaches the same answer or the same error.
Result agreeStriping(const std::vector<StripingAsk>& asks, Striping* out) {
  *out = Striping{};
  std::vector<CountAsk> counts;
  for (const StripingAsk& a : asks)
    counts.push_back({static_cast<int>(a.workers), a.workersSet != 0});
  const CountAgreement c = agreeCount(counts);
  if (c.differs >= 0)
    return setError(tuttiInvalidArgument,
                    "TUTTI_UCX_WORKERS differs between ranks: %d and %d (rank %d; set it alike "
                    "everywhere, or nowhere)",
                    counts[static_cast<size_t>(c.setBy)].count,
                    counts[static_cast<size_t>(c.differs)].count, c.differs);
  out->workers = c.count;
  out->fromAuto = c.fromAuto;
  if (out->workers == 1 || asks.empty())
    return tuttiSuccess;  // one stream per peer: nothing to cut
  const StripingAsk& a0 = asks[0];
  for (size_t p = 0; p < asks.size(); ++p)
    if (asks[p].stripe != a0.stripe)
      return setError(tuttiInvalidArgument,
                      "TUTTI_UCX_STRIPE_BYTES differs between ranks: rank 0 has %llu, rank %zu "
                      "has %llu (set it alike everywhere)",
                      (unsigned long long)a0.stripe, p, (unsigned long long)asks[p].stripe);
    else if (asks[p].stripeMin != a0.stripeMin)
      return setError(tuttiInvalidArgument,
                      "TUTTI_UCX_STRIPE_MIN_BYTES differs between ranks: rank 0 has %llu, rank "
                      "%zu has %llu (set it alike everywhere, or nowhere)",
                      (unsigned long long)a0.stripeMin, p, (unsigned long long)asks[p].stripeMin);
    // Both ends route a message by its length, which the checksum trailer changes: without
    // this check the mismatch would surface as a timeout, not as the trailer's error.
    else if (asks[p].checksum != a0.checksum)
      return setError(tuttiInvalidArgument,
                      "TUTTI_CHECKSUM differs between ranks: rank 0 has %u, rank %zu has %u "
                      "(striped UCX routes messages by their length; set it alike everywhere)",
                      a0.checksum, p, asks[p].checksum);
  out->stripe = a0.stripe;
  out->stripeMin = a0.stripeMin ? a0.stripeMin : a0.stripe * out->workers;
  return tuttiSuccess;
}

}  // namespace tutti
