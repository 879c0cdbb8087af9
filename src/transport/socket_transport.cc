// Socket connection: the executor writes into a send staging ring and reads from a receive
// staging ring; progress() moves bytes between the rings and the kernel with non-blocking I/O.
// Large payloads may skip the rings (sendDirect/recvDirect): a reservation of stream bytes
// that progress() leaves alone while the executor moves them from or into its own buffers.
#include "transport/socket_transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/fd_budget.h"
#include "base/logging.h"
#include "bootstrap/auth_listener.h"
#include "bootstrap/bootstrap.h"
#include "bootstrap/handshake.h"
#include "bootstrap/interface_list.h"
#include "transport/peer_threads.h"
#include "transport/ring_memory.h"
#include "transport/routed_connection.h"
#include "transport/socket_streams.h"
#include "transport/socket_striped.h"

namespace tutti {
namespace {

// Single-threaded byte ring with monotonically growing counters.
struct Ring {
  std::unique_ptr<char[]> data;
  size_t bytes = 0;
  uint64_t head = 0;  // produced
  uint64_t tail = 0;  // consumed
  size_t capacity() const { return bytes; }
  size_t used() const { return static_cast<size_t>(head - tail); }
  // Contiguous free region at head.
  size_t freeSpan(char** p) {
    size_t off = static_cast<size_t>(head % capacity());
    size_t free = capacity() - used();
    size_t span = capacity() - off;
    *p = data.get() + off;
    return free < span ? free : span;
  }
  // Contiguous filled region at tail.
  size_t dataSpan(char** p) {
    size_t off = static_cast<size_t>(tail % capacity());
    size_t span = capacity() - off;
    *p = data.get() + off;
    return used() < span ? used() : span;
  }
};

class SocketConnection : public Connection {
 public:
  SocketConnection(Socket sock, int peer, size_t staging, size_t directMin, bool mapAtInit)
      : sock_(std::move(sock)), peer_(peer), directMin_(directMin) {
    send_.data = newRing(staging, mapAtInit);
    recv_.data = newRing(staging, mapAtInit);
    send_.bytes = recv_.bytes = staging;
  }

  Result sendSpace(void** ptr, size_t* bytes) override {
    if (status_ != tuttiSuccess) return setError(status_, "%s", statusMessage_.c_str());
    char* p;
    *bytes = send_.freeSpan(&p);
    *ptr = p;
    return tuttiSuccess;
  }
  Result sendCommit(size_t bytes) override {
    send_.head += bytes;
    return progress();
  }
  Result recvPeek(const void** ptr, size_t* bytes) override {
    TUTTI_TRY(progress());
    char* p;
    *bytes = recv_.dataSpan(&p);
    *ptr = p;
    // A peer that sent everything and left is only an error once its bytes are used up.
    if (*bytes == 0 && peerClosed_)
      return setError(tuttiRemoteError, "rank %d closed the connection", peer_);
    return tuttiSuccess;
  }
  Result recvRelease(size_t bytes) override {
    recv_.tail += bytes;
    return tuttiSuccess;
  }

  Result progress() override {
    if (status_ != tuttiSuccess) return setError(status_, "%s", statusMessage_.c_str());
    char* p;
    while (size_t n = send_.dataSpan(&p)) {
      // Bytes committed after a send reservation wait until sendDirect has carried it.
      if (sendReserved_ > 0) {
        if (send_.tail >= sendReserveAt_) break;
        n = std::min<size_t>(n, static_cast<size_t>(sendReserveAt_ - send_.tail));
      }
      ssize_t k = ::send(sock_.fd(), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        send_.tail += static_cast<uint64_t>(k);
        continue;
      }
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                           k < 0 ? strerror(errno) : "connection closed"));
    }
    // While a receive reservation is open the next stream bytes belong to recvDirect.
    while (!peerClosed_ && recvReserved_ == 0) {
      size_t n = recv_.freeSpan(&p);
      if (n == 0) break;
      ssize_t k = ::recv(sock_.fd(), p, n, MSG_DONTWAIT);
      if (k > 0) {
        recv_.head += static_cast<uint64_t>(k);
        continue;
      }
      if (k == 0) {
        peerClosed_ = true;
        break;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      return fail(
          setError(tuttiRemoteError, "receiving from rank %d failed: %s", peer_, strerror(errno)));
    }
    return tuttiSuccess;
  }

  bool flushed() override { return send_.used() == 0 && sendReserved_ == 0; }

  size_t directMinBytes() const override { return directMin_; }

  Result sendDirectReserve(size_t bytes, size_t* reserved) override {
    *reserved = 0;
    if (status_ != tuttiSuccess) return setError(status_, "%s", statusMessage_.c_str());
    if (sendReserved_ != 0)
      return setError(tuttiInternalError, "a second send reservation to rank %d", peer_);
    sendReserved_ = bytes & ~(kAlign - 1);
    sendReserveAt_ = send_.head;
    *reserved = sendReserved_;
    return tuttiSuccess;
  }

  Result sendDirect(const void* src, size_t bytes, size_t* sent) override {
    *sent = 0;
    if (send_.tail < sendReserveAt_) TUTTI_TRY(progress());  // what was committed before
    if (status_ != tuttiSuccess) return setError(status_, "%s", statusMessage_.c_str());
    if (send_.tail < sendReserveAt_) return tuttiSuccess;
    const size_t n = std::min(bytes, sendReserved_);
    if (n == 0) return tuttiSuccess;
    ssize_t k = ::send(sock_.fd(), src, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k > 0) {
      sendReserved_ -= static_cast<size_t>(k);
      *sent = static_cast<size_t>(k);
      // Once the reservation is out, bytes committed behind it may leave at once.
      if (sendReserved_ == 0 && send_.used()) TUTTI_TRY(progress());
      return tuttiSuccess;
    }
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return tuttiSuccess;
    return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                         k < 0 ? strerror(errno) : "connection closed"));
  }

  Result recvDirectReserve(size_t messageLeft, size_t* reserved) override {
    *reserved = 0;
    if (status_ != tuttiSuccess) return setError(status_, "%s", statusMessage_.c_str());
    if (recvReserved_ != 0)
      return setError(tuttiInternalError, "a second receive reservation from rank %d", peer_);
    const size_t staged = recv_.used();
    if (messageLeft <= staged) return tuttiSuccess;
    recvReserved_ = (messageLeft - staged) & ~(kAlign - 1);
    *reserved = recvReserved_;
    return tuttiSuccess;
  }

  Result recvDirect(void* dst, size_t bytes, size_t* got) override {
    *got = 0;
    if (status_ != tuttiSuccess) return setError(status_, "%s", statusMessage_.c_str());
    const size_t n = std::min(bytes, recvReserved_);
    // Staged bytes precede the reservation: the caller consumes them first.
    if (n == 0 || recv_.used() != 0 || peerClosed_) return tuttiSuccess;
    ssize_t k = ::recv(sock_.fd(), dst, n, MSG_DONTWAIT);
    if (k > 0) {
      recvReserved_ -= static_cast<size_t>(k);
      *got = static_cast<size_t>(k);
      return tuttiSuccess;
    }
    if (k == 0) {
      peerClosed_ = true;  // recvPeek and checkPeer report it: the message cannot complete
      return tuttiSuccess;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return tuttiSuccess;
    return fail(
        setError(tuttiRemoteError, "receiving from rank %d failed: %s", peer_, strerror(errno)));
  }

  // Asked when the caller could not use what has arrived: after the peer's close nothing more
  // will come, so bytes still unread (a peer killed in the middle of an element, say) cannot
  // complete the message either. The executor retries once before failing, for the case where
  // the last bytes came in after its previous pass.
  Result checkPeer() override {
    TUTTI_TRY(progress());
    if (peerClosed_ && recvReserved_ != 0)
      return setError(tuttiRemoteError,
                      "rank %d closed the connection in the middle of a message (%zu bytes of "
                      "it missing)",
                      peer_, recvReserved_);
    if (peerClosed_ && recv_.used() == 0)
      return setError(tuttiRemoteError, "rank %d closed the connection", peer_);
    if (peerClosed_)
      return setError(tuttiRemoteError,
                      "rank %d closed the connection in the middle of a message (%zu bytes of "
                      "it left unused)",
                      peer_, recv_.used());
    return tuttiSuccess;
  }

  void markFailed() override { sock_.shutdown(); }

  const char* kind() const override { return "socket"; }

 private:
  Result fail(Result r) {
    status_ = r;
    statusMessage_ = lastError();
    return r;
  }

  static constexpr size_t kAlign = Connection::kAlign;

  Socket sock_;
  int peer_;
  size_t directMin_;  // TUTTI_SOCKET_DIRECT_BYTES (0: off)
  Ring send_, recv_;
  size_t sendReserved_ = 0;     // stream bytes sendDirect still has to carry
  uint64_t sendReserveAt_ = 0;  // send_.head when they were reserved: they follow that byte
  size_t recvReserved_ = 0;     // stream bytes recvDirect still has to take
  bool peerClosed_ = false;
  Result status_ = tuttiSuccess;
  std::string statusMessage_;
};

}  // namespace

Result makeSocketConnection(Socket sock, int peer, size_t stagingBytes,
                            std::unique_ptr<Connection>* out, size_t directMinBytes,
                            bool mapAtInit) {
  TUTTI_TRY(sock.setNonBlocking());
  *out = std::make_unique<SocketConnection>(std::move(sock), peer, stagingBytes, directMinBytes,
                                            mapAtInit);
  return tuttiSuccess;
}

namespace {

size_t alignUp(size_t x, size_t a) { return (x + a - 1) / a * a; }

class SocketTransport : public Transport {
 public:
  const char* name() const override { return "socket"; }
  Result prepare(const TransportContext& ctx, PeerInfo* self) override {
    SocketAddress local, bound;
    std::string ifname;
    TUTTI_CHECK(selectInterfaceAddress(&local, &ifname), "choosing the transport interface");
    TUTTI_TRY(Socket::listen(local, &listener_));
    TUTTI_TRY(listener_.localAddress(&bound));
    describe_ = ifname + " " + bound.toString();
    self->netAddress = packAddress(bound);
    return tuttiSuccess;
  }
  bool canConnect(const TransportContext&, int, int) const override { return true; }
  std::string describe() const override { return describe_; }
  Result connect(const TransportContext& ctx, const std::vector<int>& peers,
                 std::vector<std::unique_ptr<Connection>>* conns) override;

 private:
  Socket listener_;
  std::string describe_;  // interface and listening address, for the INFO line
};

// What the connecting side says after the handshake, and the accepting side answers: who it
// is, which of the streams to this peer the socket carries, and the striping both sides must
// agree on.
struct StreamHello {
  int32_t rank;
  int32_t stream;   // which socket to this peer: 0..sockets-1
  int32_t streams;  // TUTTI_SOCKET_STREAMS
  uint32_t chunkBytes;
  uint64_t stripeMin;  // routed (streams > 1): shortest message the stream threads carry; 0: all
  uint32_t checksum;   // TUTTI_CHECKSUM: its trailer lengthens every message, and so the routes
  uint32_t pad;

  bool routed() const { return streams > 1 && stripeMin; }
  bool sameStriping(const StreamHello& o) const {
    return streams == o.streams && chunkBytes == o.chunkBytes && stripeMin == o.stripeMin &&
           (!routed() || checksum == o.checksum);
  }
  // With routing, one more socket than streams: the executor's own, for short messages.
  int sockets() const { return routed() ? streams + 1 : streams; }
};

std::string stripingMismatch(const StreamHello& self, const StreamHello& peer) {
  char msg[400];
  if (self.streams == peer.streams && self.chunkBytes == peer.chunkBytes &&
      self.stripeMin == peer.stripeMin) {
    snprintf(msg, sizeof(msg),
             "TUTTI_CHECKSUM differs between ranks: rank %d has %u, rank %d has %u (sockets with "
             "several streams route messages by their length; set it alike everywhere)",
             self.rank, self.checksum, peer.rank, peer.checksum);
    return msg;
  }
  snprintf(msg, sizeof(msg),
           "socket striping differs between ranks: rank %d has TUTTI_SOCKET_STREAMS=%d, "
           "TUTTI_SOCKET_CHUNK_BYTES=%u and TUTTI_SOCKET_STRIPE_MIN_BYTES=%llu, rank %d has %d, "
           "%u and %llu (every rank must use the same)",
           self.rank, self.streams, self.chunkBytes, (unsigned long long)self.stripeMin, peer.rank,
           peer.streams, peer.chunkBytes, (unsigned long long)peer.stripeMin);
  return msg;
}

// Lower ranks accept (on a thread), higher ranks connect; both sides authenticate with the
// communicator secret, then the connecting side names its rank and stream. With
// TUTTI_SOCKET_STREAMS > 1 every peer gets that many sockets and a striped connection.
Result SocketTransport::connect(const TransportContext& ctx, const std::vector<int>& peers,
                                std::vector<std::unique_ptr<Connection>>* conns) {
  const size_t staging = alignUp(envBytes("TUTTI_SOCKET_STAGING_BYTES", 4u << 20), 4096);
  const size_t direct = envBytes("TUTTI_SOCKET_DIRECT_BYTES", kDefaultDirectBytes);
  // The stream count: a count set on any rank binds every rank; unset (or auto), the fewest
  // any rank's CPUs feed. Collective, like the UCX transport's exchange.
  std::vector<SocketStreamsAsk> asks(ctx.nranks);
  const HostShare share = hostShareHere(ctx);
  TUTTI_TRY(readSocketStreamsAsk(threadsPerPeer(share.cpus, share.localRanks, share.remotePeers),
                                 &asks[ctx.rank]));
  TUTTI_CHECK(ctx.bootstrap->allGather(asks.data(), sizeof(SocketStreamsAsk)),
              "exchanging socket stream counts");
  int streams = 1;
  TUTTI_TRY(agreeSocketStreams(asks, &streams));
  const size_t chunk = envBytes("TUTTI_SOCKET_CHUNK_BYTES", kDefaultSocketChunkBytes);
  if (chunk < 4096 || chunk % 4096 != 0 || chunk > (64u << 20))
    return setError(tuttiInvalidArgument,
                    "TUTTI_SOCKET_CHUNK_BYTES=%zu: expected a multiple of 4096 up to 64 MiB",
                    chunk);
  const bool striped = streams > 1;
  const size_t stripeMin =
      striped ? envBytes("TUTTI_SOCKET_STRIPE_MIN_BYTES", kDefaultStripeMinBytes) : 0;
  // What this rank says of itself on every socket (rank and stream filled in per socket).
  const uint32_t checksum = envInt("TUTTI_CHECKSUM", 0) != 0 ? 1 : 0;
  const StreamHello me{ctx.rank, 0, streams, static_cast<uint32_t>(chunk), stripeMin, checksum, 0};
  const int sockets = me.sockets();
  // A descriptor per socket: this rank raises its soft limit for them, and a rank whose hard
  // limit cannot hold them fails every rank's init here, by name (transport/fd_budget.h).
  const int64_t needFds = static_cast<int64_t>(peers.size()) * sockets;
  std::vector<FdAsk> fdAsks(ctx.nranks);
  fdAsks[ctx.rank] = fdAskHere(needFds);
  raiseFdLimit(fdAsks[ctx.rank], "socket connections");
  TUTTI_CHECK(ctx.bootstrap->allGather(fdAsks.data(), sizeof(FdAsk)),
              "exchanging descriptor budgets");
  TUTTI_TRY(agreeFdBudget(fdAsks, ctx.rank, "socket connections",
                          streams > 1 ? "; or set TUTTI_SOCKET_STREAMS=1 (a socket per stream and "
                                        "peer)"
                                      : ""));
  // Two rings per connection: one connection per peer, or a striped one, or both when routed.
  const bool mapAtInit =
      mapRingsAtInit(peers.size() * 2 * staging * (striped && stripeMin ? 2 : 1));
  if (striped) {
    describe_ += ", " + std::to_string(streams) + " streams";
    if (stripeMin) describe_ += " for messages from " + std::to_string(stripeMin) + " bytes";
  }
  Deadline dl = Deadline::afterMs(ctx.timeoutMs);
  int expectAccepts = 0;
  for (int p : peers) expectAccepts += p > ctx.rank ? sockets : 0;
  std::vector<std::vector<Socket>> accepted(ctx.nranks);
  for (auto& a : accepted) a.resize(sockets);
  Result acceptResult = tuttiSuccess;
  std::string acceptError;
  std::atomic<bool> stopAccepting{false};
  // Strangers on this port are admitted together, bounded in count and time, as at the
  // bootstrap: a silent one cannot hold a peer's connection up (it used to, for the timeout).
  std::thread acceptor([&] {
    if (expectAccepts == 0) return;
    SocketAddress here;
    (void)listener_.localAddress(&here);
    AuthListener admit(
        listener_, ctx.secret, AuthLimits::fromEnv(ctx.timeoutMs), sizeof(StreamHello), nullptr,
        "socket transport rank " + std::to_string(ctx.rank) + " listener " + here.toString());
    int got = 0;
    std::string mismatch;
    acceptResult = admit.serveUntil(dl, ctx.abort, &stopAccepting, [&](AuthConnection& c) {
      StreamHello hello;
      memcpy(&hello, c.message.data(), sizeof(hello));
      const int who = hello.rank;
      const char* why = nullptr;
      if (who <= ctx.rank || who >= ctx.nranks)
        why = "unexpected rank";
      else if (hello.stream < 0 || hello.stream >= hello.sockets() ||
               (hello.sameStriping(me) && accepted[who][hello.stream].valid()))
        why = "unexpected stream";
      Result r = tuttiSuccess;
      if (!why) {
        // Our striping goes back, so that a rank set differently fails at once on both sides.
        StreamHello mine = me;
        mine.stream = hello.stream;
        r = c.sock.sendAll(&mine, sizeof(mine), dl, ctx.abort);
        if (r == tuttiSuccess && !hello.sameStriping(me)) {
          mismatch = stripingMismatch(mine, hello);
          return true;
        }
      }
      if (r != tuttiSuccess || why) {
        admit.refusedMessage();
        TUTTI_WARN(
            "refused transport connection from %s (claims rank %d, stream %d of %d, "
            "%u-byte chunks; this rank: %d streams, %zu-byte chunks): %s",
            c.peer.toString().c_str(), who, hello.stream, hello.streams, hello.chunkBytes, streams,
            chunk, r != tuttiSuccess ? lastError().c_str() : why);
        return false;
      }
      accepted[who][hello.stream] = std::move(c.sock);
      return ++got == expectAccepts;
    });
    if (acceptResult == tuttiSuccess && !mismatch.empty())
      acceptResult = setError(tuttiInvalidArgument, "%s", mismatch.c_str());
    admit.summarize();
    if (acceptResult != tuttiSuccess) acceptError = lastError();
  });
  auto adopt = [&](int p, std::vector<Socket> socks) {
    if (!striped)
      return makeSocketConnection(std::move(socks[0]), p, staging, &(*conns)[p], direct, mapAtInit);
    if (!stripeMin)
      return makeStripedSocketConnection(std::move(socks), p, staging, chunk, &(*conns)[p], direct,
                                         mapAtInit);
    // Routed: socket 0 is the executor's own for short messages; the stream threads move the
    // long ones, each message whole on the striped part (one stripe as long as any message).
    std::vector<std::unique_ptr<Connection>> parts(2);
    TUTTI_TRY(makeSocketConnection(std::move(socks[0]), p, staging, &parts[0], direct, mapAtInit));
    socks.erase(socks.begin());
    TUTTI_TRY(makeStripedSocketConnection(std::move(socks), p, staging, chunk, &parts[1], direct,
                                          mapAtInit));
    (*conns)[p] = makeRoutedConnection(std::move(parts), kWholeMessageStripe, stripeMin, "socket");
    return tuttiSuccess;
  };
  Result r = tuttiSuccess;
  for (int p : peers) {
    if (p > ctx.rank || r != tuttiSuccess) continue;
    SocketAddress addr;
    if (!unpackAddress(ctx.peer(p).netAddress, &addr)) {
      r = setError(tuttiRemoteError, "rank %d advertised an invalid address", p);
      break;
    }
    std::vector<Socket> socks(sockets);
    for (int i = 0; i < sockets && r == tuttiSuccess; ++i) {
      StreamHello hello = me;
      hello.stream = i;
      StreamHello reply{-1, -1, 0, 0, 0, 0, 0};
      // The peer listened before it published its address: a refusal is final.
      if ((r = Socket::connect(addr, dl, ctx.abort, &socks[i], false)) != tuttiSuccess)
        r = setError(r, "%s%s", lastError().c_str(), sameAddressHint(addr, p).c_str());
      if (r != tuttiSuccess ||
          (r = handshakeClient(socks[i], ctx.secret, dl, ctx.abort)) != tuttiSuccess ||
          (r = socks[i].sendAll(&hello, sizeof(hello), dl, ctx.abort)) != tuttiSuccess ||
          (r = socks[i].recvAll(&reply, sizeof(reply), dl, ctx.abort)) != tuttiSuccess)
        addErrorContext("connecting to rank %d at %s (stream %d)", p, addr.toString().c_str(), i);
      else if (reply.rank != p || !reply.sameStriping(me))
        r = setError(tuttiInvalidArgument, "%s", stripingMismatch(hello, reply).c_str());
    }
    if (r == tuttiSuccess) r = adopt(p, std::move(socks));
  }
  if (r != tuttiSuccess) {
    std::string err = lastError();
    stopAccepting = true;
    acceptor.join();
    return setError(r, "%s", err.c_str());
  }
  acceptor.join();
  if (acceptResult != tuttiSuccess)
    return setError(acceptResult, "accepting peers: %s", acceptError.c_str());
  for (int p : peers)
    if (p > ctx.rank) TUTTI_TRY(adopt(p, std::move(accepted[p])));
  return tuttiSuccess;
}

}  // namespace

std::unique_ptr<Transport> makeSocketTransport() { return std::make_unique<SocketTransport>(); }

}  // namespace tutti
