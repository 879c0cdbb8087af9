// How a communicator's UCX streams are striped (src/transport/routed_connection.h): what each rank
// asks for, from its variables and its host, and the one answer every rank derives from all the
// asks (exchanged in the UCX transport's first all-gather), or the same error on every rank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/error.h"

namespace tutti {

// One rank's ask; plain data, it travels in the bootstrap all-gather.
struct StripingAsk {
  uint32_t workers;     // stripe workers: TUTTI_UCX_WORKERS, or what `auto` found
  uint32_t workersSet;  // 1: TUTTI_UCX_WORKERS was set to a count, which binds every rank
  uint64_t stripe;      // TUTTI_UCX_STRIPE_BYTES
  uint64_t stripeMin;   // TUTTI_UCX_STRIPE_MIN_BYTES; 0: unset
  uint32_t checksum;    // TUTTI_CHECKSUM: its trailer lengthens every message
  uint32_t pad;
};

struct Striping {
  int workers = 1;        // stripe workers; 1: no striping, one worker per communicator
  size_t stripe = 0;      // bytes per stripe
  size_t stripeMin = 0;   // the shortest message striped
  bool fromAuto = false;  // no rank set a count: the fewest any rank's host can feed
};

constexpr int kMaxStripeWorkers = 16;
// What `auto` (and unset) asks for: the transports' rule (transport/peer_threads.h), or 1 with
// RDMA (no CPU per byte).
int autoStripeWorkers(int cpus, int localRanks, int remotePeers, bool rdma);
// This rank's ask from TUTTI_UCX_WORKERS (a count 1..16, `auto` or unset: `autoWorkers`),
// TUTTI_UCX_STRIPE_BYTES, TUTTI_UCX_STRIPE_MIN_BYTES and TUTTI_CHECKSUM. Invalid values are
// errors naming the variable.
Result readStripingAsk(int autoWorkers, StripingAsk* out);
// Whether this rank's stripe workers send from the caller's buffer (send windows) instead of
// through their staging rings: TUTTI_UCX_STRIPE_DIRECT = 1, 0, or `auto` (and unset), which is
// on for a rank that shares its host with other ranks of the communicator (`localRanks` > 1).
// A sender's choice alone: the receiver's slots take either. Other values are errors naming
// the variable.
Result readStripeWindows(int localRanks, bool* on);
// The count any rank set (all that set one must agree), else the smallest ask; with more than
// one stripe worker every rank must also agree on both sizes and the checksum. The threshold
// left unset is a stripe per stripe worker.
Result agreeStriping(const std::vector<StripingAsk>& asks, Striping* out);

}  // namespace tutti
