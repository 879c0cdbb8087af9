// perProcess: one object per process, shared by every thread of it, made anew in a forked
// child (whose copy of the parent's would have no threads behind it).
#include "base/per_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tutti {
namespace {

struct Tagged {
  explicit Tagged(pid_t p) : pid_(p) {}
  pid_t pid() const { return pid_; }
  int value = 0;

 private:
  pid_t pid_;
};

TEST(PerProcess, ThreadsRacingGetOneObject) {
  static std::atomic<Tagged*> slot{nullptr};
  std::atomic<bool> go{false};
  std::vector<Tagged*> seen(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      seen[i] = &perProcess(slot);
    });
  go = true;
  for (auto& t : threads) t.join();
  for (Tagged* c : seen) EXPECT_EQ(c, seen[0]);
  EXPECT_EQ(seen[0]->pid(), getpid());
  EXPECT_EQ(&perProcess(slot), seen[0]);
}

TEST(PerProcess, ForkedChildMakesItsOwn) {
  static std::atomic<Tagged*> slot{nullptr};
  Tagged& parent = perProcess(slot);
  parent.value = 42;
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Tagged& mine = perProcess(slot);
    // 0: a fresh object for this process; 1: the parent's, or one that was not fresh.
    _exit(&mine != &parent && mine.pid() == getpid() && mine.value == 0 &&
                  &perProcess(slot) == &mine
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(&perProcess(slot), &parent);  // the parent keeps its own
  EXPECT_EQ(parent.value, 42);
}

}  // namespace
}  // namespace tutti
