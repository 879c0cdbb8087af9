// The proxy's warning for several ranks of one process on one GPU (docs/gpu-executor.md): who
// says it, and from how many ranks on.
#include <gtest/gtest.h>

#include <vector>

#include "proxy/proxy_executor.h"

namespace tutti::testing {
namespace {

// `n` ranks of process 100 on GPU 0 (bus 0x1000) of one machine.
std::vector<PeerInfo> ranksOfOneProcess(int n) {
  std::vector<PeerInfo> peers(n);
  for (int r = 0; r < n; ++r) {
    peers[r] = PeerInfo{};
    peers[r].rank = r;
    peers[r].pid = 100;
    peers[r].machineHash = 7;
    peers[r].hostHash = 10 + r / 2;  // emulated nodes of two: still one process's queues
    peers[r].cudaDev = 0;
    peers[r].busId = 0x1000;
  }
  return peers;
}

TEST(ProxyQueues, FiveRanksOfOneProcessOnEightQueuesWarnOnce) {
  const std::vector<PeerInfo> peers = ranksOfOneProcess(5);
  const std::string w = sharedQueuesWarning(peers, 0, 8);
  EXPECT_NE(w.find("5 ranks of this process drive GPU 0"), std::string::npos) << w;
  EXPECT_NE(w.find("CUDA_DEVICE_MAX_CONNECTIONS=8"), std::string::npos) << w;
  for (int r = 1; r < 5; ++r) EXPECT_EQ(sharedQueuesWarning(peers, r, 8), "") << "rank " << r;
  EXPECT_EQ(sharedQueuesWarning(peers, 0, 10), "");  // two queues per rank
  EXPECT_EQ(sharedQueuesWarning(peers, 0, 32), "");
}

TEST(ProxyQueues, FourRanksFitEightQueues) {
  EXPECT_EQ(sharedQueuesWarning(ranksOfOneProcess(4), 0, 8), "");
  EXPECT_NE(sharedQueuesWarning(ranksOfOneProcess(2), 0, 1), "");
}

TEST(ProxyQueues, OtherProcessesGpusAndMachinesHaveQueuesOfTheirOwn) {
  std::vector<PeerInfo> peers = ranksOfOneProcess(6);
  for (int r = 0; r < 6; ++r) {
    if (r % 3 == 1) peers[r].pid = 200 + r;        // other processes
    if (r % 3 == 2) peers[r].machineHash = 8 + r;  // the same pid on other machines
  }
  EXPECT_EQ(sharedQueuesWarning(peers, 0, 4), "");  // ranks 0 and 3: 4 queues are enough
  EXPECT_NE(sharedQueuesWarning(peers, 0, 3), "");
  EXPECT_EQ(sharedQueuesWarning(peers, 3, 3), "");  // rank 0 says it
  std::vector<PeerInfo> hostOnly = ranksOfOneProcess(6);
  for (PeerInfo& p : hostOnly) p.busId = -1;  // no GPU: no queues to share
  EXPECT_EQ(sharedQueuesWarning(hostOnly, 0, 1), "");
}

}  // namespace
}  // namespace tutti::testing
