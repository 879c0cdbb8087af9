// The socket transport's view of a peer that hangs up: bytes that arrived before the close are
// still delivered, and a close that leaves part of a message behind is an error at once (a
// killed rank can stop in the middle of an element), not a wait until the timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

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

}  // namespace
}  // namespace tutti
