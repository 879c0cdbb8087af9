// How many threads a network transport gives each peer on other hosts from this rank's share of
// the host's CPUs: UCX's stripe workers and the socket transport's streams follow one rule.
#pragma once

#include "transport/transport.h"

namespace tutti {

// Past this many peers on other hosts the rule gives 1: every thread costs every peer a
// staging ring (and, for sockets, two threads per stream).
constexpr int kMaxThreadedPeers = 8;

// One per two CPUs of each local rank's share, at most 4; 1 on 2 CPUs or past
// kMaxThreadedPeers remote peers.
int threadsPerPeer(int cpus, int localRanks, int remotePeers);

// What the rule reads here: this process's CPU affinity and the communicator's hosts.
struct HostShare {
  int cpus;
  int localRanks;   // ranks of the communicator on this host, this one included
  int remotePeers;  // ranks on other hosts
};
HostShare hostShareHere(const TransportContext& ctx);

}  // namespace tutti
