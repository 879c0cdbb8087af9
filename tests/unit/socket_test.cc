// Sockets and the handshake: address parsing, and a client with the wrong secret refused by
// the server (and a server with the wrong secret refused by the client).
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "bootstrap/handshake.h"
#include "bootstrap/socket.h"

namespace tutti {
namespace {

TEST(Socket, ParseHostPort) {
  SocketAddress a;
  ASSERT_EQ(parseHostPort("127.0.0.1:1234", &a), tuttiSuccess);
  EXPECT_EQ(a.port(), 1234);
  EXPECT_EQ(a.toString(), "127.0.0.1:1234");
  ASSERT_EQ(parseHostPort("[::1]:99", &a), tuttiSuccess);
  EXPECT_EQ(a.toString(), "[::1]:99");
  EXPECT_EQ(parseHostPort("127.0.0.1:99999", &a), tuttiInvalidArgument);
  EXPECT_NE(std::string(lastError()).find("port"), std::string::npos);
  EXPECT_EQ(parseHostPort("[::1", &a), tuttiInvalidArgument);
}

// Runs a server handshake with `serverSecret` against a client using `clientSecret`.
void handshakePair(uint8_t serverKey, uint8_t clientKey, Result* server, Result* client) {
  SocketAddress local;
  ASSERT_EQ(parseHostPort("127.0.0.1:0", &local), tuttiSuccess);
  Socket listener;
  ASSERT_EQ(Socket::listen(local, &listener), tuttiSuccess);
  ASSERT_EQ(listener.localAddress(&local), tuttiSuccess);
  uint8_t ss[kSecretBytes], cs[kSecretBytes];
  memset(ss, serverKey, sizeof(ss));
  memset(cs, clientKey, sizeof(cs));
  Deadline dl = Deadline::afterMs(5000);
  std::thread t([&] {
    Socket s;
    *server = listener.accept(dl, nullptr, &s);
    if (*server == tuttiSuccess) *server = handshakeServer(s, ss, dl, nullptr);
  });
  Socket c;
  *client = Socket::connect(local, dl, nullptr, &c);
  if (*client == tuttiSuccess) *client = handshakeClient(c, cs, dl, nullptr);
  c.close();  // a refusing client hangs up, which the server sees
  t.join();
}

TEST(Handshake, MatchingSecretsAccepted) {
  Result s, c;
  handshakePair(7, 7, &s, &c);
  EXPECT_EQ(s, tuttiSuccess);
  EXPECT_EQ(c, tuttiSuccess);
}

TEST(Handshake, WrongSecretRefusedBothWays) {
  Result s, c;
  handshakePair(7, 8, &s, &c);
  EXPECT_EQ(c, tuttiRemoteError);  // the client cannot verify the server's proof
  EXPECT_NE(s, tuttiSuccess);      // and the server never gets a valid proof
}

}  // namespace
}  // namespace tutti
