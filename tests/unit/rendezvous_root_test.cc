// The rendezvous root's ring relay, spoken to directly: two ranks join, get the table, and one
// reports a failed ring in two pieces (as a slow network may deliver it); the other, still
// connecting, must hear that failure, whole, from the root.
#include "bootstrap/rendezvous_root.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "bootstrap/bootstrap_messages.h"
#include "bootstrap/handshake.h"
#include "bootstrap/packed_address.h"

namespace tutti {
namespace {

const uint8_t kSecret[kSecretBytes] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3};

// Joins as `rank` of 2 and reads the table; the connection stays open for the ring report.
Socket join(const SocketAddress& root, int rank) {
  const Deadline dl = Deadline::afterMs(10000);
  Socket s;
  EXPECT_EQ(Socket::connect(root, dl, nullptr, &s), tuttiSuccess);
  EXPECT_EQ(handshakeClient(s, kSecret, dl, nullptr), tuttiSuccess);
  SocketAddress ring;
  EXPECT_EQ(parseHostPort("127.0.0.1:" + std::to_string(40000 + rank), &ring), tuttiSuccess);
  RankAnnounce a{};
  a.magic = kAnnounceMagic;
  a.rank = rank;
  a.nranks = 2;
  a.ringAddress = packAddress(ring);
  EXPECT_EQ(s.sendAll(&a, sizeof(a), dl, nullptr), tuttiSuccess);
  TableHeader h;
  EXPECT_EQ(s.recvAll(&h, sizeof(h), dl, nullptr), tuttiSuccess);
  EXPECT_EQ(checkTableHeader(&h, sizeof(h), rank, 2), tuttiSuccess) << lastError();
  std::vector<PackedAddress> table(2);
  EXPECT_EQ(s.recvAll(table.data(), sizeof(PackedAddress) * 2, dl, nullptr), tuttiSuccess);
  return s;
}

TEST(RendezvousRoot, RingFailureInPiecesReachesTheRankStillConnecting) {
  Socket listener;
  SocketAddress any, root;
  ASSERT_EQ(parseHostPort("127.0.0.1:0", &any), tuttiSuccess);
  ASSERT_EQ(Socket::listen(any, &listener), tuttiSuccess);
  ASSERT_EQ(listener.localAddress(&root), tuttiSuccess);
  startRendezvousRoot(std::move(listener), kSecret, 10000);

  Socket waiting;
  std::thread r0([&] { waiting = join(root, 0); });
  Socket failing = join(root, 1);
  r0.join();

  RingReport rep{};
  rep.magic = kRingReportMagic;
  rep.rank = 1;
  rep.failed = 1;
  snprintf(rep.reason, sizeof(rep.reason), "connecting to rank 0: nothing listens there");
  const char* bytes = reinterpret_cast<const char*>(&rep);
  const Deadline dl = Deadline::afterMs(5000);
  ASSERT_EQ(failing.sendAll(bytes, 100, dl, nullptr), tuttiSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the root reads a piece
  ASSERT_EQ(failing.sendAll(bytes + 100, sizeof(rep) - 100, dl, nullptr), tuttiSuccess);

  TableHeader h;
  ASSERT_EQ(waiting.recvAll(&h, sizeof(h), dl, nullptr), tuttiSuccess) << lastError();
  EXPECT_EQ(checkTableHeader(&h, sizeof(h), 0, 2), tuttiRemoteError);
  EXPECT_EQ(lastError(),
            "rank 1 could not connect the bootstrap ring: connecting to rank 0: nothing listens "
            "there");
  // The failing rank was first: the root just closes its connection.
  char c;
  EXPECT_EQ(failing.recvAll(&c, 1, dl, nullptr), tuttiRemoteError);
}

}  // namespace
}  // namespace tutti
