// Socket connection: the executor writes into a send staging ring and reads from a receive
// staging ring; progress() moves bytes between the rings and the kernel with non-blocking I/O.
#include "transport/socket_transport.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <vector>

namespace tutti {
namespace {

// Single-threaded byte ring with monotonically growing counters.
struct Ring {
  std::vector<char> data;
  uint64_t head = 0;  // produced
  uint64_t tail = 0;  // consumed
  size_t capacity() const { return data.size(); }
  size_t used() const { return static_cast<size_t>(head - tail); }
  // Contiguous free region at head.
  size_t freeSpan(char** p) {
    size_t off = static_cast<size_t>(head % capacity());
    size_t free = capacity() - used();
    size_t span = capacity() - off;
    *p = data.data() + off;
    return free < span ? free : span;
  }
  // Contiguous filled region at tail.
  size_t dataSpan(char** p) {
    size_t off = static_cast<size_t>(tail % capacity());
    size_t span = capacity() - off;
    *p = data.data() + off;
    return used() < span ? used() : span;
  }
};

class SocketConnection : public Connection {
 public:
  SocketConnection(Socket sock, int peer, size_t staging) : sock_(std::move(sock)), peer_(peer) {
    send_.data.resize(staging);
    recv_.data.resize(staging);
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
      ssize_t k = ::send(sock_.fd(), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0) {
        send_.tail += static_cast<uint64_t>(k);
        continue;
      }
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      return fail(setError(tuttiRemoteError, "sending to rank %d failed: %s", peer_,
                           k < 0 ? strerror(errno) : "connection closed"));
    }
    while (!peerClosed_) {
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

  bool peerReportedFailure() override { return peerClosed_ && recv_.used() == 0; }

  bool flushed() override { return send_.used() == 0; }

  // Asked when the caller could not use what has arrived: after the peer's close nothing more
  // will come, so bytes still unread (a peer killed in the middle of an element, say) cannot
  // complete the message either. The executor retries once before failing, for the case where
  // the last bytes came in after its previous pass.
  Result checkPeer() override {
    TUTTI_TRY(progress());
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

  Socket sock_;
  int peer_;
  Ring send_, recv_;
  bool peerClosed_ = false;
  Result status_ = tuttiSuccess;
  std::string statusMessage_;
};

}  // namespace

Result makeSocketConnection(Socket sock, int peer, size_t stagingBytes,
                            std::unique_ptr<Connection>* out) {
  TUTTI_TRY(sock.setNonBlocking());
  *out = std::make_unique<SocketConnection>(std::move(sock), peer, stagingBytes);
  return tuttiSuccess;
}

}  // namespace tutti
