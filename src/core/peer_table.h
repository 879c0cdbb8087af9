// Checks the peer-info table every rank receives from the bootstrap all-gather before any of
// it is used, and derives what depends on all of it (node-local ranks, node count). The
// bytes came from other processes: every entry is range-checked here.
#pragma once

#include <vector>

#include "base/error.h"
#include "bootstrap/peer_info.h"

namespace tutti {

// Entry p must describe rank p with fields in range (pid, GPU ordinal and bus id, address
// family); hostnames are cut to their buffer. Fills nodeLocalRank, copies rank 0's comm
// nonce to every entry and counts the distinct hosts into *nodes. Two ranks on one GPU of a
// host are refused unless `allowSharedGpu`.
Result validatePeerTable(std::vector<PeerInfo>* peers, bool allowSharedGpu, int* nodes);

}  // namespace tutti
