// The socket transport's stream count (src/transport/socket_streams.h): what `auto` asks for
// from the CPUs (peer_threads.h), what a rank asks from TUTTI_SOCKET_STREAMS, and the one count all
// ranks agree on, or an error naming both settings.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "transport/peer_threads.h"
#include "transport/socket_streams.h"
#include "transport/socket_transport.h"

namespace tutti {
namespace {

// The rule `auto` follows is the transports' (peer_threads.h), shared with UCX's stripe workers.
TEST(SocketStreams, AutoGivesAStreamPerTwoCpusOfEachLocalRanksShare) {
  EXPECT_EQ(threadsPerPeer(2, 1, 1), 1) << "2 CPUs: the executor's socket alone";
  EXPECT_EQ(threadsPerPeer(16, 1, 1), 4) << "at most 4";
  EXPECT_EQ(threadsPerPeer(16, 2, 2), 4);
  EXPECT_EQ(threadsPerPeer(16, 4, 4), 2);
  EXPECT_EQ(threadsPerPeer(16, 16, 16), 1);
  EXPECT_EQ(threadsPerPeer(64, 1, kMaxThreadedPeers + 1), 1)
      << "past 8 remote peers every stream costs too much";
}

TEST(SocketStreams, ReadsTheVariable) {
  SocketStreamsAsk a{};
  unsetenv("TUTTI_SOCKET_STREAMS");
  ASSERT_EQ(readSocketStreamsAsk(3, &a), tuttiSuccess);
  EXPECT_EQ(a.streams, 3);
  EXPECT_EQ(a.set, 0);
  setenv("TUTTI_SOCKET_STREAMS", "auto", 1);
  ASSERT_EQ(readSocketStreamsAsk(2, &a), tuttiSuccess);
  EXPECT_EQ(a.streams, 2);
  EXPECT_EQ(a.set, 0);
  setenv("TUTTI_SOCKET_STREAMS", "5", 1);
  ASSERT_EQ(readSocketStreamsAsk(2, &a), tuttiSuccess);
  EXPECT_EQ(a.streams, 5);
  EXPECT_EQ(a.set, 1);
  for (const char* bad : {"0", "17", "four", "3x"}) {
    setenv("TUTTI_SOCKET_STREAMS", bad, 1);
    EXPECT_EQ(readSocketStreamsAsk(2, &a), tuttiInvalidArgument) << bad;
    EXPECT_NE(std::string(lastError()).find(std::string("TUTTI_SOCKET_STREAMS=") + bad),
              std::string::npos)
        << lastError();
  }
  unsetenv("TUTTI_SOCKET_STREAMS");
}

TEST(SocketStreams, ASetCountBindsEveryRankElseTheFewestAskedFor) {
  int n = 0;
  ASSERT_EQ(agreeSocketStreams({{4, 0}, {2, 0}, {3, 0}}, &n), tuttiSuccess);
  EXPECT_EQ(n, 2);
  ASSERT_EQ(agreeSocketStreams({{4, 0}, {3, 1}, {1, 0}}, &n), tuttiSuccess);
  EXPECT_EQ(n, 3);
  ASSERT_EQ(agreeSocketStreams({{3, 1}, {3, 1}}, &n), tuttiSuccess);
  EXPECT_EQ(n, 3);
  EXPECT_EQ(agreeSocketStreams({{2, 1}, {4, 0}, {3, 1}}, &n), tuttiInvalidArgument);
  const std::string msg = lastError();
  EXPECT_NE(msg.find("rank 0 has TUTTI_SOCKET_STREAMS=2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 2 has TUTTI_SOCKET_STREAMS=3"), std::string::npos) << msg;
}

TEST(SocketStreams, AnAskOutOfRangeIsARemoteErrorNamingItsRank) {
  int n = 0;
  for (const SocketStreamsAsk& bad :
       {SocketStreamsAsk{0, 0}, SocketStreamsAsk{kMaxSocketStreams + 1, 1},
        SocketStreamsAsk{1 << 30, 1}, SocketStreamsAsk{2, 7}}) {
    EXPECT_EQ(agreeSocketStreams({{2, 0}, bad}, &n), tuttiRemoteError) << bad.streams;
    EXPECT_NE(std::string(lastError()).find("rank 1 sent a socket stream count of"),
              std::string::npos)
        << lastError();
  }
}

}  // namespace
}  // namespace tutti
