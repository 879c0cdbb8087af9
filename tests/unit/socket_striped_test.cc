// The striped socket connection (TUTTI_SOCKET_STREAMS > 1): every byte of the stream arrives
// once and in order whatever the message sizes, chunk size and ring size; a peer that hangs up
// or marks the stream failed is an error on the other side at once; a connection whose threads
// wait in blocking calls is destroyed without hanging.
#include <gtest/gtest.h>

#include <dirent.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bootstrap/socket.h"
#include "transport/socket_striped.h"

namespace tutti {
namespace {

using Clock = std::chrono::steady_clock;

// `n` connected loopback socket pairs: accepted ends in *server, connecting ends in *client.
void loopbackPairs(int n, std::vector<Socket>* server, std::vector<Socket>* client) {
  SocketAddress local;
  ASSERT_EQ(parseHostPort("127.0.0.1:0", &local), tuttiSuccess);
  Socket listener;
  ASSERT_EQ(Socket::listen(local, &listener), tuttiSuccess);
  ASSERT_EQ(listener.localAddress(&local), tuttiSuccess);
  for (int i = 0; i < n; ++i) {
    Deadline dl = Deadline::afterMs(5000);
    Socket c, s;
    ASSERT_EQ(Socket::connect(local, dl, nullptr, &c), tuttiSuccess);
    ASSERT_EQ(listener.accept(dl, nullptr, &s), tuttiSuccess);
    client->push_back(std::move(c));
    server->push_back(std::move(s));
  }
}

TEST(SocketStriped, EveryStreamOffsetBelongsToExactlyOneStripe) {
  for (int stripes : {1, 2, 3, 4}) {
    const uint64_t chunk = 16;
    std::vector<int> owner(1000, -1);
    for (int s = 0; s < stripes; ++s)
      for (uint64_t done = 0;; ++done) {
        const uint64_t off = stripeStreamOffset(done, s, stripes, chunk);
        if (off >= owner.size()) break;
        ASSERT_EQ(owner[off], -1) << "offset " << off << " claimed twice";
        owner[off] = s;
        if (done > 0) {  // a stripe's bytes keep the stream's order
          EXPECT_GT(off, stripeStreamOffset(done - 1, s, stripes, chunk));
        }
      }
    for (size_t off = 0; off < owner.size(); ++off)
      EXPECT_EQ(owner[off], static_cast<int>(off / chunk % stripes)) << off;
  }
}

// One side's traffic: a byte pattern that differs at every offset, cut into messages of random
// sizes; `sent` and `checked` count stream bytes.
struct Side {
  std::unique_ptr<Connection> conn;
  uint64_t sent = 0, checked = 0;
  static char byteAt(uint64_t off, int salt) {
    return static_cast<char>(off * 131 + off / 251 + salt);
  }
};

// Both directions at once, from one thread playing both executors: every byte arrives in order.
void exchange(int stripes, size_t staging, size_t chunk, uint64_t total) {
  std::vector<Socket> a, b;
  loopbackPairs(stripes, &a, &b);
  Side x, y;
  ASSERT_EQ(makeStripedSocketConnection(std::move(a), 1, staging, chunk, &x.conn), tuttiSuccess);
  ASSERT_EQ(makeStripedSocketConnection(std::move(b), 0, staging, chunk, &y.conn), tuttiSuccess);
  std::mt19937_64 rng(stripes * 1000 + chunk);
  auto pump = [&](Side& from, int fromSalt, Side& to) {
    void* p;
    size_t n;
    ASSERT_EQ(from.conn->sendSpace(&p, &n), tuttiSuccess);
    // Messages from 1 byte to a few chunks: partial chunks, chunk-crossing and ring-wrapping ones.
    size_t want = std::min<uint64_t>(total - from.sent, 1 + rng() % (3 * chunk));
    n = std::min(n, want);
    for (size_t i = 0; i < n; ++i) static_cast<char*>(p)[i] = Side::byteAt(from.sent + i, fromSalt);
    if (n) {
      ASSERT_EQ(from.conn->sendCommit(n), tuttiSuccess);
    }
    from.sent += n;
    const void* q;
    ASSERT_EQ(to.conn->recvPeek(&q, &n), tuttiSuccess);
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(static_cast<const char*>(q)[i], Side::byteAt(to.checked + i, fromSalt))
          << "stream offset " << to.checked + i;
    to.checked += n;
    if (n) {
      ASSERT_EQ(to.conn->recvRelease(n), tuttiSuccess);
    }
  };
  const auto end = Clock::now() + std::chrono::seconds(30);
  while ((x.checked < total || y.checked < total) && Clock::now() < end) {
    pump(x, 1, y);
    pump(y, 2, x);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(x.checked, total);
  EXPECT_EQ(y.checked, total);
  // A sender thread counts its bytes just after send() returns, which may be after the peer
  // has read them: flushed() becomes true a moment later, not necessarily already.
  while ((!x.conn->flushed() || !y.conn->flushed()) && Clock::now() < end)
    std::this_thread::yield();
  EXPECT_TRUE(x.conn->flushed());
  EXPECT_TRUE(y.conn->flushed());
  EXPECT_EQ(x.conn->checkPeer(), tuttiSuccess);
}

TEST(SocketStriped, BothDirectionsArriveInOrder) {
  exchange(2, 64 << 10, 4096, 3 << 20);     // small ring: wraps hundreds of times
  exchange(3, 1 << 20, 64 << 10, 8 << 20);  // three streams: chunk k on stream k % 3
  exchange(4, 4 << 20, 128 << 10, 24 << 20);
  exchange(1, 16 << 10, 4096, 1 << 20);  // one stream still works through the threads
}

// Bytes sent before a hang-up are delivered; the close is an error once they are used, and at
// once when it leaves part of a message behind.
TEST(SocketStriped, PeerCloseIsAnErrorNamingWhatIsLeft) {
  std::vector<Socket> server, client;
  loopbackPairs(2, &server, &client);
  std::unique_ptr<Connection> conn;
  ASSERT_EQ(makeStripedSocketConnection(std::move(server), 7, 64 << 10, 4096, &conn), tuttiSuccess);
  const char partial[3] = {1, 2, 3};  // stream 0 carries the stream's first chunk
  ASSERT_EQ(client[0].sendAll(partial, sizeof(partial), Deadline::afterMs(5000)), tuttiSuccess);
  for (Socket& s : client) s.close();
  size_t got = 0;
  const void* p;
  Result r = tuttiSuccess;
  const auto end = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < end && (r = conn->checkPeer()) == tuttiSuccess)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(r, tuttiRemoteError);
  EXPECT_NE(std::string(lastError())
                .find("rank 7 closed the connection in the middle of a "
                      "message (3 bytes of it left unused)"),
            std::string::npos)
      << lastError();
  ASSERT_EQ(conn->recvPeek(&p, &got), tuttiSuccess);
  ASSERT_EQ(got, 3u) << "bytes sent before the close are still delivered";
  ASSERT_EQ(conn->recvRelease(3), tuttiSuccess);
  EXPECT_EQ(conn->recvPeek(&p, &got), tuttiRemoteError);
  EXPECT_NE(std::string(lastError()).find("rank 7 closed the connection"), std::string::npos);
}

// markFailed on one side ends the other side's waits: its sends fail or its stream ends.
TEST(SocketStriped, MarkFailedReachesThePeerAtOnce) {
  std::vector<Socket> a, b;
  loopbackPairs(3, &a, &b);
  std::unique_ptr<Connection> x, y;
  ASSERT_EQ(makeStripedSocketConnection(std::move(a), 1, 64 << 10, 4096, &x), tuttiSuccess);
  ASSERT_EQ(makeStripedSocketConnection(std::move(b), 0, 64 << 10, 4096, &y), tuttiSuccess);
  x->markFailed();
  Result r = tuttiSuccess;
  const auto end = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < end && (r = y->checkPeer()) == tuttiSuccess)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(r, tuttiRemoteError) << "the peer never noticed";
  EXPECT_NE(std::string(lastError()).find("rank 0"), std::string::npos) << lastError();
}

// Destroyed while its receivers block in recv() and its senders wait for data: returns at once.
TEST(SocketStriped, DestroyWhileIdleDoesNotHang) {
  std::vector<Socket> a, b;
  loopbackPairs(4, &a, &b);
  std::unique_ptr<Connection> x;
  ASSERT_EQ(makeStripedSocketConnection(std::move(a), 1, 64 << 10, 4096, &x), tuttiSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto t0 = Clock::now();
  x.reset();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
}

// Every stream's threads carry a name (tutti-tx<i>, tutti-rx<i>), so a rank's CPU time can be
// read per thread (top -H, /proc/PID/task/*/comm).
TEST(SocketStriped, StreamThreadsAreNamed) {
  std::vector<Socket> a, b;
  loopbackPairs(2, &a, &b);
  std::unique_ptr<Connection> x;
  ASSERT_EQ(makeStripedSocketConnection(std::move(a), 1, 64 << 10, 4096, &x), tuttiSuccess);
  std::vector<std::string> want = {"tutti-tx0", "tutti-rx0", "tutti-tx1", "tutti-rx1"};
  std::vector<std::string> seen;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (seen.size() < want.size() && Clock::now() < deadline) {
    seen.clear();
    DIR* d = opendir("/proc/self/task");
    ASSERT_NE(d, nullptr);
    while (dirent* e = readdir(d)) {
      std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
      std::string name;
      if (std::getline(comm, name) && std::find(want.begin(), want.end(), name) != want.end())
        seen.push_back(name);
    }
    closedir(d);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // threads name themselves
  }
  EXPECT_EQ(seen.size(), want.size());
}

TEST(SocketStriped, RejectsChunksOffTheStreamAlignment) {
  std::vector<Socket> a, b;
  loopbackPairs(1, &a, &b);
  std::unique_ptr<Connection> x;
  EXPECT_EQ(makeStripedSocketConnection(std::move(a), 1, 64 << 10, 1000, &x), tuttiInvalidArgument);
}

// Direct windows: messages sent as ring bytes, then a window straight from the caller's
// memory, then an odd tail through the ring, arrive in order into a receiver that takes the
// staged part from the ring and the rest straight into its buffer; message sizes around the
// ring's capacity (no window, a window of a few bytes, windows many rings long), on 1-4 streams.
void directExchange(int stripes, size_t staging, size_t chunk, const std::vector<size_t>& sizes) {
  std::vector<Socket> a, b;
  loopbackPairs(stripes, &a, &b);
  std::unique_ptr<Connection> x, y;
  ASSERT_EQ(makeStripedSocketConnection(std::move(a), 1, staging, chunk, &x, 1), tuttiSuccess);
  ASSERT_EQ(makeStripedSocketConnection(std::move(b), 0, staging, chunk, &y, 1), tuttiSuccess);
  ASSERT_EQ(x->directMinBytes(), 1u);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  uint64_t stream = 0;  // payload bytes sent so far, for the pattern
  // The receiver runs on its own thread, as a peer process would.
  std::thread receiver([&] {
    uint64_t at = 0;
    for (size_t size : sizes) {
      std::vector<char> dst(size + 16, 0);
      // The 16-byte "header" travels through the ring.
      size_t have = 0;
      while (have < 16 && Clock::now() < deadline) {
        const void* p;
        size_t n;
        ASSERT_EQ(y->recvPeek(&p, &n), tuttiSuccess);
        n = std::min(n, 16 - have);
        have += n;
        if (n) {
          ASSERT_EQ(y->recvRelease(n), tuttiSuccess);
        }
      }
      size_t left = 0, done = 0;
      ASSERT_EQ(y->recvDirectReserve(size, &left), tuttiSuccess);
      const size_t padded = (size + 15) & ~size_t{15};
      while (done < padded && Clock::now() < deadline) {
        if (left > 0) {
          size_t k = 0;
          ASSERT_EQ(y->recvDirect(dst.data() + done, left, &k), tuttiSuccess);
          left -= k;
          done += k;
          if (k) continue;
        }
        const void* p;
        size_t n;
        ASSERT_EQ(y->recvPeek(&p, &n), tuttiSuccess);
        n = std::min(n, padded - done);
        if (n == 0) continue;
        memcpy(dst.data() + done, p, n);
        ASSERT_EQ(y->recvRelease(n), tuttiSuccess);
        done += n;
      }
      ASSERT_EQ(done, padded);
      ASSERT_EQ(left, 0u);
      for (size_t i = 0; i < size; ++i)
        ASSERT_EQ(dst[i], Side::byteAt(at + i, 3)) << "message of " << size << ", byte " << i;
      at += size;
    }
  });
  for (size_t size : sizes) {
    std::vector<char> src(size);
    for (size_t i = 0; i < size; ++i) src[i] = Side::byteAt(stream + i, 3);
    void* p;
    size_t n = 0;
    while (n < 16 && Clock::now() < deadline) ASSERT_EQ(x->sendSpace(&p, &n), tuttiSuccess);
    ASSERT_GE(n, 16u);
    ASSERT_EQ(x->sendCommit(16), tuttiSuccess);
    size_t left = 0, done = 0;
    ASSERT_EQ(x->sendDirectReserve(size, &left), tuttiSuccess);
    EXPECT_EQ(left, size & ~size_t{15});
    while (left > 0 && Clock::now() < deadline) {
      size_t k = 0;
      ASSERT_EQ(x->sendDirect(src.data() + done, left, &k), tuttiSuccess);
      left -= k;
      done += k;
    }
    const size_t padded = (size + 15) & ~size_t{15};
    while (done < padded && Clock::now() < deadline) {
      ASSERT_EQ(x->sendSpace(&p, &n), tuttiSuccess);
      n = std::min(n, padded - done);
      if (done < size) memcpy(p, src.data() + done, std::min(n, size - done));
      if (n) {
        ASSERT_EQ(x->sendCommit(n), tuttiSuccess);
      }
      done += n;
    }
    stream += size;
    src.assign(size, 0);  // the window's bytes must have left already: clobbering changes nothing
  }
  receiver.join();
  while (!x->flushed() && Clock::now() < deadline) std::this_thread::yield();
  EXPECT_TRUE(x->flushed());
  EXPECT_EQ(y->checkPeer(), tuttiSuccess);
}

TEST(SocketStriped, DirectWindowsKeepTheStreamInOrder) {
  const size_t ring = 64 << 10;
  const std::vector<size_t> sizes = {1000, ring - 16, ring + 5,      ring + 16 + 7, 3 * ring + 9,
                                     20,   1 << 20,   (1 << 20) + 3, 777777,        48};
  for (int stripes : {1, 2, 3, 4}) {
    SCOPED_TRACE(stripes);
    directExchange(stripes, ring, 4096, sizes);
    if (HasFatalFailure()) return;
  }
}

// The executor gives up while stream threads block in send() on the caller's buffer (the peer
// reads nothing) and in recv() into it (the peer sends half): abandonDirect returns at once,
// after which the buffers may be freed, and the connection reports the failure.
TEST(SocketStriped, AbandonDirectReleasesTheCallersBuffers) {
  std::vector<Socket> a, b;
  loopbackPairs(2, &a, &b);
  std::unique_ptr<Connection> x, y;
  ASSERT_EQ(makeStripedSocketConnection(std::move(a), 1, 64 << 10, 4096, &x, 1), tuttiSuccess);
  ASSERT_EQ(makeStripedSocketConnection(std::move(b), 0, 64 << 10, 4096, &y, 1), tuttiSuccess);
  auto out = std::make_unique<std::vector<char>>(32 << 20, 'o');
  size_t left = 0, k = 0;
  ASSERT_EQ(x->sendDirectReserve(out->size(), &left), tuttiSuccess);
  ASSERT_EQ(x->sendDirect(out->data(), left, &k), tuttiSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the socket buffers fill up
  // y: a receive window into its own buffer, half of which x's bytes fill.
  auto in = std::make_unique<std::vector<char>>(32 << 20, 'i');
  ASSERT_EQ(y->recvDirectReserve(in->size(), &left), tuttiSuccess);
  ASSERT_GT(left, 0u);
  ASSERT_EQ(y->recvDirect(in->data(), left, &k), tuttiSuccess);
  auto t0 = Clock::now();
  x->abandonDirect();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  out.reset();  // freed: a stream thread still reading it would show under ASan
  EXPECT_EQ(x->sendDirect(nullptr, 16, &k), tuttiRemoteError);
  EXPECT_NE(std::string(lastError()).find("abandoned a direct transfer with rank 1"),
            std::string::npos)
      << lastError();
  t0 = Clock::now();
  y->abandonDirect();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  in.reset();
  const void* p;
  size_t n;
  EXPECT_NE(y->recvPeek(&p, &n), tuttiSuccess);
}

}  // namespace
}  // namespace tutti
