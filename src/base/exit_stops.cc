#include "base/exit_stops.h"

#include <stdlib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "base/per_process.h"

namespace tutti {
namespace {

class ExitStops {
 public:
  explicit ExitStops(pid_t pid) : pid_(pid) {}
  pid_t pid() const { return pid_; }

  uint64_t add(std::function<void()> stop) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!registered_) {
      // Per process: a child's handler must come after whatever it registered before its first
      // stop, and the one it inherited from its parent may not. Failure (no room) leaves the
      // old behaviour, threads running into exit; it is not worth failing a communicator for.
      registered_ = atexit(runAtExit) == 0;
    }
    stops_.emplace(++last_, std::move(stop));
    return last_;
  }

  void remove(uint64_t token) {
    std::lock_guard<std::mutex> lock(mu_);
    stops_.erase(token);
  }

  void runAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& kv : stops_) kv.second();
    stops_.clear();
  }

  static void runAtExit();

 private:
  const pid_t pid_;
  std::mutex mu_;
  std::map<uint64_t, std::function<void()>> stops_;
  uint64_t last_ = 0;
  bool registered_ = false;
};

std::atomic<ExitStops*> gStops{nullptr};

// Also inherited by fork() children: there it finds no table of the child's own (or the one
// the child made, which its own registration runs first), never the parent's.
void ExitStops::runAtExit() {
  ExitStops* s = gStops.load(std::memory_order_acquire);
  if (s && s->pid() == getpid()) s->runAll();
}

}  // namespace

uint64_t addExitStop(std::function<void()> stop) { return perProcess(gStops).add(std::move(stop)); }

void removeExitStop(uint64_t token) {
  if (token == 0) return;
  ExitStops* s = gStops.load(std::memory_order_acquire);
  if (s && s->pid() == getpid()) s->remove(token);
}

}  // namespace tutti
