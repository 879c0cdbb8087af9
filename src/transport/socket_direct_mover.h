// Moves one direct window at a time between a non-blocking socket and the caller's memory on a
// thread of its own, for the single-socket connection (socket_transport.cc): with one stream per
// peer the executor's thread did every send and receive itself and was the cap (99% busy while a
// plain TCP stream moved 1.3-1.6x more, perf/NOTES.md). The executor hands a window over, keeps
// running its reductions and ring traffic, and collects the count of bytes moved.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

namespace tutti {

class DirectMover {
 public:
  enum class Dir { kSend, kRecv };
  DirectMover(int fd, Dir dir) : fd_(fd), dir_(dir) {}
  ~DirectMover();  // stops and joins the thread (call abandon() first if a window may be open)
  DirectMover(const DirectMover&) = delete;
  DirectMover& operator=(const DirectMover&) = delete;

  // Starts moving `bytes` from (kSend) or into (kRecv) `at`; the thread starts at the first call.
  // One window at a time: call again only after moved() reached `bytes` or an error.
  void start(char* at, size_t bytes);
  // Bytes of the current window moved so far (monotonic within a window).
  size_t moved() const { return moved_.load(std::memory_order_acquire); }
  // 0 while healthy; an errno, or -1 for the peer's orderly close (kRecv) / a closed socket.
  int error() const { return error_.load(std::memory_order_acquire); }
  bool busy() const;
  // Returns once the thread no longer touches the window's memory; it never enters it again.
  // The caller shuts the socket down first so a blocked call ends at once.
  void abandon();

 private:
  void loop();
  void move(char* at, size_t bytes);  // one window, on the thread

  const int fd_;
  const Dir dir_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  char* at_ = nullptr;  // guarded by mu_
  size_t bytes_ = 0;
  uint64_t posted_ = 0, finished_ = 0;  // windows handed over and done: busy while they differ
  bool dropped_ = false;                // abandoned: no window is taken any more
  bool stop_ = false;
  std::atomic<bool> quit_{false};  // read by the moving thread between socket calls
  std::atomic<size_t> moved_{0};
  std::atomic<int> error_{0};
};

}  // namespace tutti
