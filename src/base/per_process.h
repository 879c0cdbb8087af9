// One object per process, made on first use in each process. A child of fork() inherits the
// parent's object without the threads that served it, and perhaps with a mutex one of them held:
// it must not touch it, so it leaves it (leaked) and makes its own. Objects are never deleted:
// detached threads and exit-time callers may still use them while the process ends.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <atomic>

namespace tutti {

// The objects a child left behind stay reachable from here, so that leak checkers do not report
// them at its exit.
struct LeftBehind {
  const void* object;
  LeftBehind* next;
};
inline std::atomic<LeftBehind*> gLeftBehind{nullptr};

// T is constructed from the pid of the process it serves and reports it through pid().
template <class T>
T& perProcess(std::atomic<T*>& slot) {
  const pid_t pid = getpid();
  T* p = slot.load(std::memory_order_acquire);
  while (!p || p->pid() != pid) {
    T* fresh = new T(pid);
    T* old = p;
    if (slot.compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) {
      if (old) {
        auto* kept = new LeftBehind{old, gLeftBehind.load(std::memory_order_relaxed)};
        while (!gLeftBehind.compare_exchange_weak(kept->next, kept, std::memory_order_release)) {
        }
      }
      return *fresh;
    }
    delete fresh;  // another thread installed one first; p is now that one: check it
  }
  return *p;
}

}  // namespace tutti
