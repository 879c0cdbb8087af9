#include "transport/socket_direct_mover.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "base/thread_name.h"

namespace tutti {

DirectMover::~DirectMover() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    quit_.store(true);  // a window still moving ends within one poll
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DirectMover::start(char* at, size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (dropped_) return;
    at_ = at;
    bytes_ = bytes;
    moved_.store(0, std::memory_order_release);
    ++posted_;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  }
  cv_.notify_all();
}

bool DirectMover::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return posted_ != finished_;
}

void DirectMover::abandon() {
  std::unique_lock<std::mutex> lock(mu_);
  dropped_ = true;
  quit_.store(true);
  cv_.wait(lock, [&] { return posted_ == finished_; });
}

void DirectMover::loop() {
  nameThisThread(dir_ == Dir::kSend ? "dtx" : "drx");
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return posted_ != finished_ || stop_; });
    if (posted_ == finished_) return;  // stopping, nothing handed over
    // A window posted while the previous one was finishing is taken here, not lost.
    const uint64_t seq = posted_;
    char* at = at_;
    const size_t bytes = bytes_;
    lock.unlock();
    move(at, bytes);
    lock.lock();
    finished_ = seq;
    cv_.notify_all();  // abandon() may be waiting
  }
}

// Non-blocking calls with a bounded poll between them, so quit_ is seen within 50 ms even if
// the socket's shutdown did not wake the call.
void DirectMover::move(char* at, size_t bytes) {
  size_t done = 0;
  while (done < bytes && !quit_.load()) {
    const ssize_t k = dir_ == Dir::kSend
                          ? ::send(fd_, at + done, bytes - done, MSG_NOSIGNAL | MSG_DONTWAIT)
                          : ::recv(fd_, at + done, bytes - done, MSG_DONTWAIT);
    if (k > 0) {
      done += static_cast<size_t>(k);
      moved_.store(done, std::memory_order_release);
    } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, static_cast<short>(dir_ == Dir::kSend ? POLLOUT : POLLIN), 0};
      ::poll(&p, 1, 50);
    } else if (k < 0 && errno == EINTR) {
      continue;
    } else {
      error_.store(k == 0 ? -1 : errno, std::memory_order_release);
      return;
    }
  }
}

}  // namespace tutti
