// What each rank tells every other rank at init (exchanged by bootstrap all-gather).
#pragma once

#include <cstdint>

#include "bootstrap/packed_address.h"

namespace tutti {

struct PeerInfo {
  int32_t rank;
  int32_t pid;
  uint64_t hostHash;         // ranks with equal hashes share a host (or an emulated node)
  uint64_t machineHash;      // ranks with equal hashes share one kernel's CPUs (base/host_id.h)
  int32_t cudaDev;           // -1 for host-only ranks
  int32_t nodeLocalRank;     // filled after the exchange
  int64_t busId;             // PCI bus id of the GPU, -1 without one
  uint64_t commNonce;        // rank 0's value names this communicator's shared memory
  PackedAddress netAddress;  // socket transport listener
  char hostname[64];
};

}  // namespace tutti
