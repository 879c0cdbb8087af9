// The socket transport's view of a peer that hangs up: bytes that arrived before the close are
// still delivered, and a close that leaves part of a message behind is an error at once (a
// killed rank can stop in the middle of an element), not a wait until the timeout. And the
// direct path for large payloads keeps the stream's order and that failure behaviour.
#include <gtest/gtest.h>

#include <string.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bootstrap/socket.h"
#include "transport/socket_transport.h"

namespace tutti {
namespace {

// A connection on the accepting end of a loopback pair, and the raw client end.
void loopbackPair(std::unique_ptr<Connection>* conn, Socket* client) {
  SocketAddress local;
  ASSERT_EQ(parseHostPort("127.0.0.1:0", &local), tuttiSuccess);
  Socket listener, server;
  ASSERT_EQ(Socket::listen(local, &listener), tuttiSuccess);
  ASSERT_EQ(listener.localAddress(&local), tuttiSuccess);
  Deadline dl = Deadline::afterMs(5000);
  ASSERT_EQ(Socket::connect(local, dl, nullptr, client), tuttiSuccess);
  ASSERT_EQ(listener.accept(dl, nullptr, &server), tuttiSuccess);
  ASSERT_EQ(makeSocketConnection(std::move(server), 1, 4096, conn), tuttiSuccess);
}

// Peeks until `want` bytes are readable or the peer's close is reported (at most 5 s).
Result peekFor(Connection& c, size_t want, size_t* got) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    const void* p;
    Result r = c.recvPeek(&p, got);
    if (r != tuttiSuccess || *got >= want || std::chrono::steady_clock::now() > end) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(SocketConnection, CloseInTheMiddleOfAMessageIsAnError) {
  std::unique_ptr<Connection> conn;
  Socket client;
  loopbackPair(&conn, &client);
  const char partial[3] = {1, 2, 3};  // less than one float: the rest never comes
  ASSERT_EQ(client.sendAll(partial, sizeof(partial), Deadline::afterMs(5000)), tuttiSuccess);
  client.close();
  size_t got = 0;
  ASSERT_EQ(peekFor(*conn, 3, &got), tuttiSuccess);
  EXPECT_EQ(got, 3u) << "bytes sent before the close are still delivered";
  // Give the close time to arrive, then the health check must fail without waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(conn->checkPeer(), tuttiRemoteError);
  EXPECT_NE(std::string(lastError()).find("in the middle of a message (3 bytes"), std::string::npos)
      << lastError();
}

TEST(SocketConnection, CloseAfterTheLastByteIsReportedOnceItIsUsed) {
  std::unique_ptr<Connection> conn;
  Socket client;
  loopbackPair(&conn, &client);
  const char whole[16] = {0};
  ASSERT_EQ(client.sendAll(whole, sizeof(whole), Deadline::afterMs(5000)), tuttiSuccess);
  client.close();
  size_t got = 0;
  ASSERT_EQ(peekFor(*conn, 16, &got), tuttiSuccess);
  ASSERT_EQ(got, 16u);
  ASSERT_EQ(conn->recvRelease(16), tuttiSuccess);
  EXPECT_EQ(peekFor(*conn, 1, &got), tuttiRemoteError);
  EXPECT_NE(std::string(lastError()).find("rank 1 closed the connection"), std::string::npos)
      << lastError();
  EXPECT_EQ(conn->checkPeer(), tuttiRemoteError);
}

// Reads exactly `bytes` from a blocking client socket.
std::vector<char> readAll(Socket& s, size_t bytes) {
  std::vector<char> out(bytes);
  EXPECT_EQ(s.recvAll(out.data(), bytes, Deadline::afterMs(5000)), tuttiSuccess);
  return out;
}

// Commits `bytes` of value `v` through the staging ring (the ring here holds 4 KiB).
void commitBytes(Connection& c, size_t bytes, char v) {
  void* p;
  size_t n;
  ASSERT_EQ(c.sendSpace(&p, &n), tuttiSuccess);
  ASSERT_GE(n, bytes);
  memset(p, v, bytes);
  ASSERT_EQ(c.sendCommit(bytes), tuttiSuccess);
}

// The stream stays in order: ring bytes committed before a direct reservation leave before
// it, bytes committed after it wait for it; the reservation is rounded down to the stream's
// alignment (the odd tail goes through the ring).
TEST(SocketConnection, DirectSendKeepsTheStreamInOrder) {
  std::unique_ptr<Connection> conn;
  Socket client;
  loopbackPair(&conn, &client);
  ASSERT_GT(conn->directMinBytes(), 0u);
  commitBytes(*conn, 32, 'a');
  const size_t payload = 100000 + 5;  // more than the ring and the socket take at once
  std::vector<char> big(payload, 'b');
  size_t reserved = 0;
  ASSERT_EQ(conn->sendDirectReserve(payload, &reserved), tuttiSuccess);
  EXPECT_EQ(reserved, payload & ~size_t{15});
  commitBytes(*conn, 16, 'c');  // after the reservation in the stream
  std::thread reader([&] {
    std::vector<char> got = readAll(client, 32 + reserved + 16);
    EXPECT_EQ(std::string(got.begin(), got.begin() + 32), std::string(32, 'a'));
    EXPECT_EQ(std::string(got.begin() + 32, got.begin() + 32 + reserved),
              std::string(reserved, 'b'));
    EXPECT_EQ(std::string(got.end() - 16, got.end()), std::string(16, 'c'));
  });
  size_t done = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((done < reserved || !conn->flushed()) && std::chrono::steady_clock::now() < end) {
    size_t k = 0;
    ASSERT_EQ(conn->sendDirect(big.data() + done, reserved - done, &k), tuttiSuccess);
    done += k;
    ASSERT_EQ(conn->progress(), tuttiSuccess);
  }
  reader.join();
  EXPECT_EQ(done, reserved);
  EXPECT_TRUE(conn->flushed());
}

// Staged bytes come first; the reservation covers the aligned rest of the message, and a close
// before it is complete is an error at once, naming the bytes missing.
TEST(SocketConnection, DirectReceiveTakesStagedBytesFirstAndReportsACloseInside) {
  std::unique_ptr<Connection> conn;
  Socket client;
  loopbackPair(&conn, &client);
  std::vector<char> first(48, 'x');
  ASSERT_EQ(client.sendAll(first.data(), first.size(), Deadline::afterMs(5000)), tuttiSuccess);
  size_t got = 0;
  ASSERT_EQ(peekFor(*conn, 48, &got), tuttiSuccess);
  ASSERT_EQ(got, 48u);
  const size_t message = 48 + 1000 + 8;  // staged 48, direct 992, ring tail 16 (8 + padding)
  size_t reserved = 0;
  ASSERT_EQ(conn->recvDirectReserve(message, &reserved), tuttiSuccess);
  EXPECT_EQ(reserved, 1008u);
  char dst[1024];
  size_t k = 0;
  ASSERT_EQ(conn->recvDirect(dst, reserved, &k), tuttiSuccess);
  EXPECT_EQ(k, 0u) << "staged bytes must be consumed first";
  ASSERT_EQ(conn->recvRelease(48), tuttiSuccess);
  std::vector<char> part(500, 'y');  // half the reservation, then the sender dies
  ASSERT_EQ(client.sendAll(part.data(), part.size(), Deadline::afterMs(5000)), tuttiSuccess);
  client.close();
  size_t have = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (have < part.size() && std::chrono::steady_clock::now() < end) {
    ASSERT_EQ(conn->recvDirect(dst + have, reserved - have, &k), tuttiSuccess);
    have += k;
  }
  ASSERT_EQ(have, part.size());
  EXPECT_EQ(std::string(dst, have), std::string(have, 'y'));
  for (int i = 0; i < 100 && conn->checkPeer() == tuttiSuccess; ++i) {
    ASSERT_EQ(conn->recvDirect(dst + have, reserved - have, &k), tuttiSuccess);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(conn->checkPeer(), tuttiRemoteError);
  EXPECT_NE(std::string(lastError()).find("in the middle of a message (508 bytes of it missing)"),
            std::string::npos)
      << lastError();
}

}  // namespace
}  // namespace tutti
