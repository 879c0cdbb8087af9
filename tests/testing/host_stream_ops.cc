// Host-thread streams for the proxy tests.
#include "testing/host_stream_ops.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tutti::testing {

struct HostStreamOps::Stream {
  std::mutex mutex;
  std::condition_variable cv, idle;
  std::deque<std::function<void()>> ops;
  bool stop = false, busy = false, capturing = false;
  std::thread thread;

  Stream() : thread([this] { run(); }) {}
  ~Stream() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    cv.notify_all();
    thread.join();
  }
  void push(std::function<void()> op) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ops.push_back(std::move(op));
    }
    cv.notify_all();
  }
  void run() {
    for (;;) {
      std::function<void()> op;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return stop || !ops.empty(); });
        if (ops.empty()) return;
        op = std::move(ops.front());
        ops.pop_front();
        busy = true;
      }
      op();
      {
        std::lock_guard<std::mutex> lock(mutex);
        busy = false;
      }
      idle.notify_all();
    }
  }
  void drain() {
    std::unique_lock<std::mutex> lock(mutex);
    idle.wait(lock, [&] { return ops.empty() && !busy; });
  }
};

namespace {
HostStreamOps::Stream* asStream(StreamHandle s) { return static_cast<HostStreamOps::Stream*>(s); }
}  // namespace

HostStreamOps::HostStreamOps() = default;
HostStreamOps::~HostStreamOps() = default;

StreamHandle HostStreamOps::newStream() {
  streams_.push_back(std::make_unique<Stream>());
  return streams_.back().get();
}

void HostStreamOps::sync(StreamHandle s) { asStream(s)->drain(); }

void HostStreamOps::setCapturing(StreamHandle s, bool capturing) {
  asStream(s)->capturing = capturing;
}

Result HostStreamOps::allocPinned(size_t bytes, void** out) {
  *out = calloc(1, bytes);
  return *out ? tuttiSuccess : setError(tuttiSystemError, "out of memory");
}

void HostStreamOps::freePinned(void* p) { free(p); }

Result HostStreamOps::copy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                             size_t height, bool, StreamHandle s) {
  asStream(s)->push([=] {
    for (size_t r = 0; r < height; ++r)
      memcpy(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch,
             width);
  });
  return tuttiSuccess;
}

Result HostStreamOps::copyDevice(void* dst, const void* src, size_t bytes, StreamHandle s) {
  asStream(s)->push([=] { memmove(dst, src, bytes); });
  return tuttiSuccess;
}

Result HostStreamOps::writeFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) {
  asStream(s)->push([=] { __atomic_store_n(flag, value, __ATOMIC_RELEASE); });
  return tuttiSuccess;
}

// A stream blocked here is what a GPU stream does on cuStreamWaitValue32; the proxy must
// release it even on failure. Sleeping polls keep the two CI cores free.
Result HostStreamOps::waitFlag(volatile uint32_t* flag, uint32_t value, StreamHandle s) {
  asStream(s)->push([=] {
    while (static_cast<int32_t>(__atomic_load_n(flag, __ATOMIC_ACQUIRE) - value) < 0)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
  });
  return tuttiSuccess;
}

Result HostStreamOps::join(StreamHandle after, StreamHandle before) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  asStream(before)->push([done] { done->store(true); });
  asStream(after)->push([done] {
    while (!done->load()) std::this_thread::sleep_for(std::chrono::microseconds(50));
  });
  return tuttiSuccess;
}

Result HostStreamOps::isCapturing(StreamHandle s, bool* capturing) {
  *capturing = asStream(s)->capturing;
  return tuttiSuccess;
}

Result HostStreamOps::synchronize() {
  for (auto& s : streams_) s->drain();
  return tuttiSuccess;
}

}  // namespace tutti::testing
