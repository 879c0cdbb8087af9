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
//
// Direct windows (large payloads): a reservation names a window of stream offsets whose bytes
// the stream threads move straight between the caller's memory and their sockets, so the
// executor copies nothing through the rings. Stream bytes outside windows live in the ring at
// (offset - shift) % capacity, where shift counts the window bytes before them; a window is
// closed (and shift moved) only once every byte of it has moved, when the ring holds nothing
// from before it. Threads read the window under the direction's mutex and count themselves
// while they are inside the caller's memory, so abandonDirect() can wait them out: the caller
// gets its buffer back before any error returns.
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
#include "base/thread_name.h"
#include "transport/ring_memory.h"

namespace tutti {
namespace {

// One direction's direct window; every field is guarded by Direction::mu.
struct Window {
  bool open = false;
  uint64_t start = 0, end = 0;  // stream offsets [start, end)
  char* user = nullptr;         // the caller's memory for stream byte `start` (null: not yet)
  uint64_t reported = 0;        // window bytes already reported to the executor
  int inUse = 0;                // threads inside a socket call on the caller's memory
  bool dropped = false;         // abandoned: the caller's memory is out of bounds for good
};

// A direction's shared state. Threads wait on `cv` for a counter the executor moves; the
// executor wakes them only when some thread is waiting (a store, then a load of `waiters`:
// both sequentially consistent, and a thread counts itself before its last look, so either it
// sees the new value or the executor sees it).
struct Direction {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> waiters{0};
  Window win;
  uint64_t shift = 0;  // window bytes so far: ring offset of stream byte p is (p - shift) % cap

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

// Where a thread's next socket call reads or writes, decided under Direction::mu.
struct Span {
  char* at = nullptr;
  size_t bytes = 0;  // 0: nothing to do yet
  bool user = false;
};

class StripedSocketConnection : public Connection {
 public:
  StripedSocketConnection(std::vector<Socket> socks, int peer, size_t capacity, size_t chunk,
                          size_t directMin, bool mapAtInit)
      : socks_(std::move(socks)),
        n_(static_cast<int>(socks_.size())),
        peer_(peer),
        chunk_(chunk),
        cap_(capacity),
        directMin_(directMin),
        sendRing_(newRing(capacity, mapAtInit)),
        recvRing_(newRing(capacity, mapAtInit)),
        sent_(socks_.size()),
        received_(socks_.size()),
        eof_(socks_.size()) {
    for (int i = 0; i < n_; ++i) {
      threads_.emplace_back([this, i] {
        nameThisThread(("tx" + std::to_string(i)).c_str());
        sendLoop(i);
      });
      threads_.emplace_back([this, i] {
        nameThisThread(("rx" + std::to_string(i)).c_str());
        recvLoop(i);
      });
    }
  }

  ~StripedSocketConnection() override {
    stop_.store(true);
    // Ends blocked send/recv calls; the notifications end the threads that wait for the executor.
    for (Socket& s : socks_) ::shutdown(s.fd(), SHUT_RDWR);
    tx_.wakeAll();
    rx_.wakeAll();
    for (std::thread& t : threads_) t.join();
  }

  Result sendSpace(void** ptr, size_t* bytes) override {
    TUTTI_TRY(status());
    std::lock_guard<std::mutex> lock(tx_.mu);
    const uint64_t head = sendHead_.load(std::memory_order_relaxed);
    const size_t off = static_cast<size_t>((head - tx_.shift) % cap_);
    // While a window is open its bytes are the stream's next ones: the ring waits.
    const size_t free = tx_.win.open ? 0 : cap_ - static_cast<size_t>(head - sendFrontier());
    *ptr = sendRing_.get() + off;
    *bytes = std::min(free, cap_ - off);
    return tuttiSuccess;
  }
  Result sendCommit(size_t bytes) override {
    sendHead_.store(sendHead_.load(std::memory_order_relaxed) + bytes);
    tx_.wake();
    return status();
  }
  Result recvPeek(const void** ptr, size_t* bytes) override {
    TUTTI_TRY(status());
    const uint64_t tail = recvTail_.load(std::memory_order_relaxed);
    uint64_t end = recvFrontier();
    size_t off;
    {
      std::lock_guard<std::mutex> lock(rx_.mu);
      if (rx_.win.open) end = std::min(end, rx_.win.start);  // the window is not in the ring
      off = static_cast<size_t>((tail - rx_.shift) % cap_);
    }
    *ptr = recvRing_.get() + off;
    *bytes = end > tail ? std::min(static_cast<size_t>(end - tail), cap_ - off) : 0;
    // A peer that sent everything and left is only an error once its bytes are used up.
    if (*bytes == 0 && stuckAt(end))
      return setError(tuttiRemoteError, "rank %d closed the connection", peer_);
    return tuttiSuccess;
  }
  Result recvRelease(size_t bytes) override {
    recvTail_.store(recvTail_.load(std::memory_order_relaxed) + bytes);
    rx_.wake();
    return tuttiSuccess;
  }

  Result progress() override { return status(); }

  bool flushed() override { return sendFrontier() == sendHead_.load(std::memory_order_relaxed); }

  size_t directMinBytes() const override { return directMin_; }

  Result sendDirectReserve(size_t bytes, size_t* reserved) override {
    *reserved = 0;
    TUTTI_TRY(status());
    std::lock_guard<std::mutex> lock(tx_.mu);
    if (tx_.win.open)
      return setError(tuttiInternalError, "a second send reservation to rank %d", peer_);
    const uint64_t r = bytes & ~(kAlign - 1);
    if (r == 0) return tuttiSuccess;
    const uint64_t head = sendHead_.load(std::memory_order_relaxed);
    tx_.win = Window{true, head, head + r, nullptr, 0, 0, false};
    *reserved = static_cast<size_t>(r);
    return tuttiSuccess;
  }

  // The first call hands `src` (the window's first byte) to the stream threads; every call
  // reports how much more of the window has left, in stream order.
  Result sendDirect(const void* src, size_t bytes, size_t* sent) override {
    *sent = 0;
    TUTTI_TRY(status());
    uint64_t start, end, reported;
    {
      std::lock_guard<std::mutex> lock(tx_.mu);
      if (!tx_.win.open || bytes == 0) return tuttiSuccess;
      if (tx_.win.user == nullptr) tx_.win.user = static_cast<char*>(const_cast<void*>(src));
      start = tx_.win.start;
      end = tx_.win.end;
      reported = tx_.win.reported;
    }
    if (sendHead_.load(std::memory_order_relaxed) < end) {
      sendHead_.store(end);  // the window's bytes are now the threads' to send
      tx_.wakeAll();
    }
    const uint64_t f = std::min(sendFrontier(), end);
    if (f <= start + reported) return tuttiSuccess;
    *sent = static_cast<size_t>(f - start - reported);
    std::lock_guard<std::mutex> lock(tx_.mu);
    tx_.win.reported += *sent;
    if (f == end) closeWindow(tx_);
    return tuttiSuccess;
  }

  Result recvDirectReserve(size_t messageLeft, size_t* reserved) override {
    *reserved = 0;
    TUTTI_TRY(status());
    std::lock_guard<std::mutex> lock(rx_.mu);
    if (rx_.win.open)
      return setError(tuttiInternalError, "a second receive reservation from rank %d", peer_);
    // The threads may already be filling the ring up to its free end: the window starts there.
    const uint64_t tail = recvTail_.load(std::memory_order_relaxed);
    const uint64_t start = (tail + kAlign - 1) / kAlign * kAlign + cap_;
    if (messageLeft <= start - tail) return tuttiSuccess;
    const uint64_t r = (messageLeft - (start - tail)) & ~(kAlign - 1);
    if (r == 0) return tuttiSuccess;
    rx_.win = Window{true, start, start + r, nullptr, 0, 0, false};
    *reserved = static_cast<size_t>(r);
    return tuttiSuccess;
  }

  // `dst` is where the stream's next unconsumed byte goes, so the window's first byte goes to
  // dst + (start - tail). Reports window bytes only once the staged ones before it are used.
  Result recvDirect(void* dst, size_t bytes, size_t* got) override {
    *got = 0;
    TUTTI_TRY(status());
    const uint64_t tail = recvTail_.load(std::memory_order_relaxed);
    uint64_t start, end, reported;
    {
      std::lock_guard<std::mutex> lock(rx_.mu);
      if (!rx_.win.open || bytes == 0) return tuttiSuccess;
      start = rx_.win.start;
      end = rx_.win.end;
      reported = rx_.win.reported;
      if (rx_.win.user == nullptr) {
        rx_.win.user = static_cast<char*>(dst) + (start - tail);
        rx_.cv.notify_all();
      }
    }
    if (tail < start) return tuttiSuccess;  // staged bytes come first
    const uint64_t f = std::min(recvFrontier(), end);
    if (f <= start + reported) return tuttiSuccess;
    *got = static_cast<size_t>(f - start - reported);
    std::lock_guard<std::mutex> lock(rx_.mu);
    rx_.win.reported += *got;
    if (f == end) {
      recvTail_.store(end);  // the window was consumed in place
      closeWindow(rx_);
    }
    return tuttiSuccess;
  }

  void abandonDirect() override {
    bool open = false;
    for (Direction* d : {&tx_, &rx_}) {
      std::lock_guard<std::mutex> lock(d->mu);
      open |= d->win.open;
    }
    if (!open) return;
    fail("abandoned a direct transfer with", -1, 0);
    releaseUserMemory();
  }

  Result checkPeer() override {
    TUTTI_TRY(status());
    const uint64_t end = recvFrontier();
    if (!stuckAt(end)) return tuttiSuccess;
    const uint64_t tail = recvTail_.load(std::memory_order_relaxed);
    const uint64_t unused = end > tail ? end - tail : 0;
    if (unused == 0) return setError(tuttiRemoteError, "rank %d closed the connection", peer_);
    return setError(tuttiRemoteError,
                    "rank %d closed the connection in the middle of a message (%llu bytes of it "
                    "left unused)",
                    peer_, static_cast<unsigned long long>(unused));
  }

  void markFailed() override { releaseUserMemory(); }

  const char* kind() const override { return "socket"; }

 private:
  // Ends every socket call, then waits until no thread is inside the caller's memory; no
  // thread enters it again.
  void releaseUserMemory() {
    for (Direction* d : {&tx_, &rx_}) {
      std::lock_guard<std::mutex> lock(d->mu);
      d->win.dropped = true;
    }
    for (Socket& s : socks_) ::shutdown(s.fd(), SHUT_RDWR);
    for (Direction* d : {&tx_, &rx_}) {
      std::unique_lock<std::mutex> lock(d->mu);
      d->cv.notify_all();
      d->cv.wait(lock, [&] { return d->win.inUse == 0; });
    }
  }

  // Under d.mu, once every byte of the window has moved: later ring bytes follow it.
  static void closeWindow(Direction& d) {
    d.shift += d.win.end - d.win.start;
    const bool dropped = d.win.dropped;
    d.win = Window{};
    d.win.dropped = dropped;
    d.cv.notify_all();
  }

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
    error_ = std::string(what) + " rank " + std::to_string(peer_);
    if (i >= 0)
      error_ += " failed on stream " + std::to_string(i) + ": " +
                (err ? strerror(err) : "connection closed");
    failed_.store(true, std::memory_order_release);
  }

  // Blocks until `next` finds work (under d.mu) or the connection stops; false when it stops.
  template <typename Next>
  bool waitFor(Direction& d, Span* span, Next next) {
    std::unique_lock<std::mutex> lock(d.mu);
    for (;;) {
      if (stop_.load()) return false;
      *span = next();
      if (span->bytes) break;
      d.waiters.fetch_add(1);
      *span = next();  // counted now: a later store either shows here or wakes us
      if (span->bytes || stop_.load()) {
        d.waiters.fetch_sub(1);
        if (span->bytes) break;
        return false;
      }
      d.cv.wait(lock);
      d.waiters.fetch_sub(1);
    }
    if (span->user) ++d.win.inUse;
    return true;
  }

  void leaveUser(Direction& d) {
    std::lock_guard<std::mutex> lock(d.mu);
    if (--d.win.inUse == 0) d.cv.notify_all();
  }

  // Under tx_.mu: what stream byte `pos` and the rest of its chunk are sent from.
  Span sendSpan(uint64_t pos) {
    const uint64_t head = sendHead_.load();
    if (head <= pos) return {};
    uint64_t end = std::min(head, pos - pos % chunk_ + chunk_);
    const Window& w = tx_.win;
    if (w.open && pos >= w.start) {
      if (w.user == nullptr || w.dropped) return {};
      end = std::min(end, w.end);
      return {w.user + (pos - w.start), static_cast<size_t>(end - pos), true};
    }
    if (w.open) end = std::min(end, w.start);
    const size_t off = static_cast<size_t>((pos - tx_.shift) % cap_);
    return {sendRing_.get() + off, std::min(static_cast<size_t>(end - pos), cap_ - off), false};
  }

  // Under rx_.mu: where stream byte `pos` and the rest of its chunk are received into.
  Span recvSpan(uint64_t pos) {
    uint64_t end = pos - pos % chunk_ + chunk_;
    const Window& w = rx_.win;
    if (w.open && pos >= w.end) return {};  // after the window: the ring waits for its close
    if (w.open && pos >= w.start) {
      if (w.user == nullptr || w.dropped) return {};
      end = std::min(end, w.end);
      return {w.user + (pos - w.start), static_cast<size_t>(end - pos), true};
    }
    end = std::min(end, recvTail_.load() + cap_);  // the ring's free end
    if (w.open) end = std::min(end, w.start);
    if (end <= pos) return {};
    const size_t off = static_cast<size_t>((pos - rx_.shift) % cap_);
    return {recvRing_.get() + off, std::min(static_cast<size_t>(end - pos), cap_ - off), false};
  }

  void sendLoop(int i) {
    const int fd = socks_[i].fd();
    uint64_t done = 0;
    Span s;
    while (waitFor(tx_, &s, [&] { return sendSpan(stripeStreamOffset(done, i, n_, chunk_)); })) {
      const ssize_t k = ::send(fd, s.at, s.bytes, MSG_NOSIGNAL);
      if (s.user) leaveUser(tx_);
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
    Span s;
    while (waitFor(rx_, &s, [&] { return recvSpan(stripeStreamOffset(done, i, n_, chunk_)); })) {
      const ssize_t k = ::recv(fd, s.at, s.bytes, 0);
      if (s.user) leaveUser(rx_);
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
  const size_t cap_;  // a multiple of chunk_
  const size_t directMin_;
  std::unique_ptr<char[]> sendRing_, recvRing_;
  std::atomic<uint64_t> sendHead_{0};                   // committed by the executor
  std::atomic<uint64_t> recvTail_{0};                   // released by the executor
  std::vector<std::atomic<uint64_t>> sent_, received_;  // per stream, its own bytes
  std::vector<std::atomic<bool>> eof_;
  Direction tx_, rx_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::mutex errorMu_;
  std::string error_;
  std::vector<std::thread> threads_;  // last: started once everything above exists
};

}  // namespace

Result makeStripedSocketConnection(std::vector<Socket> socks, int peer, size_t stagingBytes,
                                   size_t chunkBytes, std::unique_ptr<Connection>* out,
                                   size_t directMinBytes, bool mapAtInit) {
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
  *out = std::make_unique<StripedSocketConnection>(std::move(socks), peer, capacity, chunkBytes,
                                                   directMinBytes, mapAtInit);
  return tuttiSuccess;
}

}  // namespace tutti
