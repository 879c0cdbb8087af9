// The peer-info table check (core/peer_table.h): node-local ranks and node count from host
// hashes, shared GPUs refused unless allowed, and malformed entries named by rank.
#include "core/peer_table.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/error.h"

namespace tutti {
namespace {

std::vector<PeerInfo> table(const std::vector<uint64_t>& hosts) {
  std::vector<PeerInfo> peers(hosts.size());  // value-initialized: zeros
  for (size_t r = 0; r < hosts.size(); ++r) {
    peers[r].rank = static_cast<int32_t>(r);
    peers[r].pid = 100 + static_cast<int32_t>(r);
    peers[r].hostHash = hosts[r];
    peers[r].cudaDev = -1;
    peers[r].busId = -1;
    peers[r].commNonce = 7 + r;
    snprintf(peers[r].hostname, sizeof(peers[r].hostname), "h%llu", (unsigned long long)hosts[r]);
  }
  return peers;
}

TEST(PeerTable, NodesAndLocalRanks) {
  auto peers = table({5, 9, 5, 9, 5});
  int nodes = 0;
  ASSERT_EQ(validatePeerTable(&peers, false, &nodes), tuttiSuccess) << lastError();
  EXPECT_EQ(nodes, 2);
  const int local[] = {0, 0, 1, 1, 2};
  for (int r = 0; r < 5; ++r) {
    EXPECT_EQ(peers[r].nodeLocalRank, local[r]) << r;
    EXPECT_EQ(peers[r].commNonce, 7u) << "rank 0's nonce everywhere";
  }
}

TEST(PeerTable, SharedGpuNeedsOptIn) {
  auto peers = table({5, 5});
  peers[0].cudaDev = peers[1].cudaDev = 0;
  peers[0].busId = peers[1].busId = 0x1b00;
  int nodes = 0;
  EXPECT_EQ(validatePeerTable(&peers, false, &nodes), tuttiInvalidUsage);
  EXPECT_NE(lastError().find("ranks 0 and 1 both use GPU 0"), std::string::npos) << lastError();
  EXPECT_EQ(validatePeerTable(&peers, true, &nodes), tuttiSuccess);
}

TEST(PeerTable, MalformedEntriesAreNamed) {
  int nodes = 0;
  auto peers = table({1, 1, 1});
  peers[2].rank = 1;
  EXPECT_EQ(validatePeerTable(&peers, false, &nodes), tuttiRemoteError);
  EXPECT_NE(lastError().find("rank 2 sent the info of rank 1"), std::string::npos) << lastError();
  peers = table({1, 1});
  peers[1].cudaDev = -7;
  EXPECT_EQ(validatePeerTable(&peers, false, &nodes), tuttiRemoteError);
  EXPECT_NE(lastError().find("rank 1 sent an invalid GPU ordinal -7"), std::string::npos);
  peers = table({1, 1});
  peers[0].netAddress.family = 9;
  EXPECT_EQ(validatePeerTable(&peers, false, &nodes), tuttiRemoteError);
  peers = table({1});
  memset(peers[0].hostname, 'x', sizeof(peers[0].hostname));
  ASSERT_EQ(validatePeerTable(&peers, false, &nodes), tuttiSuccess);
  EXPECT_EQ(strlen(peers[0].hostname), sizeof(peers[0].hostname) - 1) << "cut to the buffer";
}

}  // namespace
}  // namespace tutti
