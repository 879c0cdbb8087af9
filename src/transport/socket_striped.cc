// Striped socket connection: one staging ring per direction, shared by N streams. The executor
// writes and reads the rings exactly as with the single-socket connection; per stream, a
// sender thread sends its chunks of the send ring as they are committed and a receiver thread
// receives its chunks of the receive ring as space is released. Blocking socket calls, so an
// idle connection costs no CPU; the executor only loads counters.
//
// Counters grow monotonically. Stream i has moved done[i] of its bytes; its frontier, the
// stream offset of its next byte, is stripeStreamOffset(done[i], i). Every byte before the
// smallest frontier has moved, so that minimum is the receiver's readable end and the
// sender's reusable start.
#include "transport/socket_striped.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "base/logging.h"

namespace tutti {
namespace {

// A thread waits here for a counter the executor moves; the executor wakes it only when some
// thread is waiting (a store, then a load of `waiters`: both sequentially consistent, so either
// the waiter sees the new value or the executor sees the waiter).
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> waiters{0};

  template <typename Ready>
  void wait(Ready ready, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(mu);
    waiters.fetch_add(1);
    cv.wait(lock, [&] { return stop.load() || ready(); });
    waiters.fetch_sub(1);
  }
  void wake() {
    if (waiters.load() == 0) return;
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  }
  void wakeAll() {
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  }
};

class StripedSocketConnection : public Connection {
 public:
  StripedSocketConnection(std::vector<Socket> socks, int peer, size_t capacity, size_t chunk)
      : socks_(std::move(socks)),
        n_(static_cast<int>(socks_.size())),
        peer_(peer),
        chunk_(chunk),
        cap_(capacity),
        sendRing_(capacity),
        recvRing_(capacity),
        sent_(socks_.size()),
        received_(socks_.size()),
        eof_(socks_.size()) {
    for (int i = 0; i < n_; ++i) {
      threads_.emplace_back([this, i] { sendLoop(i); });
      threads_.emplace_back([this, i] { recvLoop(i); });
    }
  }

  ~StripedSocketConnection() override {
    stop_.store(true);
    // Ends blocked send/recv calls; the gates end the threads that wait for the executor.
    for (Socket& s : socks_) ::shutdown(s.fd(), SHUT_RDWR);
    sendGate_.wakeAll();
    recvGate_.wakeAll();
    for (std::thread& t : threads_) t.join();
  }

  Result sendSpace(void** ptr, size_t* bytes) override {
    TUTTI_TRY(status());
    const uint64_t head = sendHead_.load(std::memory_order_relaxed);
    const size_t off = static_cast<size_t>(head % cap_);
    const size_t free = cap_ - static_cast<size_t>(head - sendFrontier());
    *ptr = sendRing_.data() + off;
    *bytes = std::min(free, cap_ - off);
    return tuttiSuccess;
  }
  Result sendCommit(size_t bytes) override {
    sendHead_.store(sendHead_.load(std::memory_order_relaxed) + bytes);
    sendGate_.wake();
    return status();
  }
  Result recvPeek(const void** ptr, size_t* bytes) override {
    TUTTI_TRY(status());
    const uint64_t tail = recvTail_.load(std::memory_order_relaxed);
    const uint64_t end = recvFrontier();
    const size_t off = static_cast<size_t>(tail % cap_);
    *ptr = recvRing_.data() + off;
    *bytes = std::min(static_cast<size_t>(end - tail), cap_ - off);
    // A peer that sent everything and left is only an error once its bytes are used up.
    if (*bytes == 0 && stuckAt(end))
      return setError(tuttiRemoteError, "rank %d closed the connection", peer_);
    return tuttiSuccess;
  }
  Result recvRelease(size_t bytes) override {
    recvTail_.store(recvTail_.load(std::memory_order_relaxed) + bytes);
    recvGate_.wake();
    return tuttiSuccess;
  }

  Result progress() override { return status(); }

  bool flushed() override { return sendFrontier() == sendHead_.load(std::memory_order_relaxed); }

  Result checkPeer() override {
    TUTTI_TRY(status());
    const uint64_t end = recvFrontier();
    if (!stuckAt(end)) return tuttiSuccess;
    const uint64_t unused = end - recvTail_.load(std::memory_order_relaxed);
    if (unused == 0) return setError(tuttiRemoteError, "rank %d closed the connection", peer_);
    return setError(tuttiRemoteError,
                    "rank %d closed the connection in the middle of a message (%llu bytes of it "
                    "left unused)",
                    peer_, static_cast<unsigned long long>(unused));
  }

  bool peerReportedFailure() override {
    const uint64_t end = recvFrontier();
    return stuckAt(end) && end == recvTail_.load(std::memory_order_relaxed);
  }

  void markFailed() override {
    for (Socket& s : socks_) ::shutdown(s.fd(), SHUT_RDWR);
  }

  const char* kind() const override { return "socket"; }

 private:
  uint64_t frontier(const std::vector<std::atomic<uint64_t>>& done) const {
    uint64_t f = UINT64_MAX;
    for (int i = 0; i < n_; ++i)
      f = std::min(f, stripeStreamOffset(done[i].load(std::memory_order_acquire), i, n_, chunk_));
    return f;
  }
  uint64_t sendFrontier() const { return frontier(sent_); }
  uint64_t recvFrontier() const { return frontier(received_); }

  // True when a stream whose peer hung up holds the next unreceived byte: nothing more can come.
  bool stuckAt(uint64_t end) const {
    for (int i = 0; i < n_; ++i)
      if (eof_[i].load(std::memory_order_acquire) &&
          stripeStreamOffset(received_[i].load(std::memory_order_acquire), i, n_, chunk_) == end)
        return true;
    return false;
  }

  Result status() {
    if (!failed_.load(std::memory_order_acquire)) return tuttiSuccess;
    std::lock_guard<std::mutex> lock(errorMu_);
    return setError(tuttiRemoteError, "%s", error_.c_str());
  }

  void fail(const char* what, int i, int err) {
    std::lock_guard<std::mutex> lock(errorMu_);
    if (failed_.load()) return;
    error_ = std::string(what) + " rank " + std::to_string(peer_) + " failed on stream " +
             std::to_string(i) + ": " + (err ? strerror(err) : "connection closed");
    failed_.store(true, std::memory_order_release);
  }

  void sendLoop(int i) {
    const int fd = socks_[i].fd();
    uint64_t done = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      const uint64_t pos = stripeStreamOffset(done, i, n_, chunk_);
      const uint64_t chunkEnd = pos - pos % chunk_ + chunk_;
      uint64_t head = sendHead_.load();
      if (head <= pos) {
        sendGate_.wait([&] { return sendHead_.load() > pos; }, stop_);
        continue;
      }
      const size_t n = static_cast<size_t>(std::min(head, chunkEnd) - pos);
      const ssize_t k = ::send(fd, sendRing_.data() + pos % cap_, n, MSG_NOSIGNAL);
      if (k > 0) {
        done += static_cast<uint64_t>(k);
        sent_[i].store(done, std::memory_order_release);
      } else if (k < 0 && errno == EINTR) {
        continue;
      } else {
        if (!stop_.load()) fail("sending to", i, k < 0 ? errno : 0);
        return;
      }
    }
  }

  void recvLoop(int i) {
    const int fd = socks_[i].fd();
    uint64_t done = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
      const uint64_t pos = stripeStreamOffset(done, i, n_, chunk_);
      const uint64_t chunkEnd = pos - pos % chunk_ + chunk_;
      const uint64_t limit = recvTail_.load() + cap_;  // the ring's free end
      if (limit <= pos) {
        recvGate_.wait([&] { return recvTail_.load() + cap_ > pos; }, stop_);
        continue;
      }
      const size_t n = static_cast<size_t>(std::min(limit, chunkEnd) - pos);
      const ssize_t k = ::recv(fd, recvRing_.data() + pos % cap_, n, 0);
      if (k > 0) {
        done += static_cast<uint64_t>(k);
        received_[i].store(done, std::memory_order_release);
      } else if (k == 0) {
        eof_[i].store(true, std::memory_order_release);  // the executor decides what it means
        return;
      } else if (errno == EINTR) {
        continue;
      } else {
        if (!stop_.load()) fail("receiving from", i, errno);
        return;
      }
    }
  }

  std::vector<Socket> socks_;
  const int n_;
  const int peer_;
  const uint64_t chunk_;
  const size_t cap_;  // a multiple of chunk_: no chunk wraps around a ring
  std::vector<char> sendRing_, recvRing_;
  std::atomic<uint64_t> sendHead_{0};                   // committed by the executor
  std::atomic<uint64_t> recvTail_{0};                   // released by the executor
  std::vector<std::atomic<uint64_t>> sent_, received_;  // per stream, its own bytes
  std::vector<std::atomic<bool>> eof_;
  Gate sendGate_, recvGate_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::mutex errorMu_;
  std::string error_;
  std::vector<std::thread> threads_;  // last: started once everything above exists
};

}  // namespace

Result makeStripedSocketConnection(std::vector<Socket> socks, int peer, size_t stagingBytes,
                                   size_t chunkBytes, std::unique_ptr<Connection>* out) {
  if (socks.empty() || chunkBytes == 0 || chunkBytes % Connection::kAlign != 0)
    return setError(tuttiInvalidArgument, "striped socket connection: %zu streams, %zu-byte chunks",
                    socks.size(), chunkBytes);
  for (Socket& s : socks) {
    const int flags = fcntl(s.fd(), F_GETFL);
    if (flags < 0 || fcntl(s.fd(), F_SETFL, flags & ~O_NONBLOCK) != 0)
      return setError(tuttiSystemError, "fcntl(~O_NONBLOCK) failed: %s", strerror(errno));
  }
  // Every stream keeps at least two chunks in flight.
  size_t capacity = std::max(stagingBytes, 2 * socks.size() * chunkBytes);
  capacity = (capacity + chunkBytes - 1) / chunkBytes * chunkBytes;
  *out = std::make_unique<StripedSocketConnection>(std::move(socks), peer, capacity, chunkBytes);
  return tuttiSuccess;
}

}  // namespace tutti
