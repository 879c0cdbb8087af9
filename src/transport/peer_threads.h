// How many threads a network transport gives each peer on other hosts from this rank's share of
// the host's CPUs: UCX's stripe workers and the socket transport's streams follow one rule.
#pragma once

#include <vector>

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

// Every rank asks for a count (its variable's, or what the rule above gives it) and derives
// the same one from all the asks: a count set on any rank binds every rank, else the smallest
// ask wins. Two ranks that set different counts are an error, which the caller words with the
// ranks found here, so every rank reports the same pair.
struct CountAsk {
  int count;
  bool set;  // from the variable, not from the rule
};
struct CountAgreement {
  int count = 0;         // what every rank uses (valid when differs < 0)
  bool fromAuto = true;  // no rank set it
  int setBy = -1;        // the first rank that set a count
  int differs = -1;      // a later rank that set another one: the error
};
CountAgreement agreeCount(const std::vector<CountAsk>& asks);

}  // namespace tutti
