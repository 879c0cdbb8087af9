// One object per process, made on first use in each process. A child of fork() inherits the
// parent's object without the threads that served it, and perhaps with a mutex one of them held:
// it must not touch it, so it leaves it (leaked) and makes its own. Objects are never deleted:
// detached threads and exit-time callers may still use them while the process ends.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <atomic>

namespace tutti {

// T is constructed from the pid of the process it serves and reports it through pid().
template <class T>
T& perProcess(std::atomic<T*>& slot) {
  const pid_t pid = getpid();
  T* p = slot.load(std::memory_order_acquire);
  while (!p || p->pid() != pid) {
    T* fresh = new T(pid);
    if (slot.compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) return *fresh;
    delete fresh;  // another thread installed one first; p is now that one: check it
  }
  return *p;
}

}  // namespace tutti
