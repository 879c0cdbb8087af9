// The peer-info table after the bootstrap all-gather: every entry is another process's bytes.
// Input: one flags byte (bit 0: TUTTI_ALLOW_SHARED_GPU), then up to 64 PeerInfo entries.
#include <algorithm>

#include "core/peer_table.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

TUTTI_FUZZ_TARGET(peer_table) {
  fuzz::Input in(data, size);
  const bool shared = in.byte() & 1;
  const size_t n = std::min<size_t>(64, (in.left() + sizeof(PeerInfo) - 1) / sizeof(PeerInfo));
  std::vector<PeerInfo> peers(n);
  for (auto& p : peers) in.bytes(&p, sizeof(p));
  int nodes = -1;
  if (validatePeerTable(&peers, shared, &nodes) != tuttiSuccess) return 0;
  FUZZ_CHECK(n == 0 ? nodes == 0 : nodes >= 1 && nodes <= static_cast<int>(n), "%d nodes", nodes);
  for (size_t p = 0; p < n; ++p) {
    const PeerInfo& i = peers[p];
    FUZZ_CHECK(i.rank == static_cast<int>(p), "entry %zu says rank %d", p, i.rank);
    FUZZ_CHECK(i.nodeLocalRank >= 0 && i.nodeLocalRank <= static_cast<int>(p), "local rank %d",
               i.nodeLocalRank);
    FUZZ_CHECK(memchr(i.hostname, 0, sizeof(i.hostname)) != nullptr, "hostname unterminated");
    FUZZ_CHECK(i.commNonce == peers[0].commNonce, "nonce differs");
    FUZZ_CHECK(i.cudaDev >= -1 && i.busId >= -1, "GPU fields out of range");
  }
  return 0;
}
