// Fork-based rank runner for multi-process tests.
#include "testing/run_ranks.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "bootstrap/rendezvous_root.h"
#include "bootstrap/unique_id.h"

namespace tutti::testing {
namespace {

tuttiUniqueId gId;

}  // namespace

const tuttiUniqueId& currentUniqueId() { return gId; }

void runRanks(int n, const RankFn& fn, const RankOptions& options) {
  for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
  // Always made: ranks that build their own communicator join with currentUniqueId().
  ASSERT_EQ(tuttiGetUniqueId(&gId), tuttiSuccess) << tuttiGetLastError(nullptr);
  fflush(stdout);
  fflush(stderr);
  // The children start only once all are forked: the parent's rendezvous root thread then
  // sits idle in poll() during every fork. Forking while it serves an early child would
  // copy whatever locks it holds (a sanitizer's allocator lock deadlocked ASan children).
  int start[2];
  ASSERT_EQ(pipe(start), 0) << "pipe failed";
  std::vector<pid_t> pids(n);
  for (int r = 0; r < n; ++r) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      close(start[1]);
      char go;
      while (read(start[0], &go, 1) < 0 && errno == EINTR) {
      }
      close(start[0]);
      int code = 0;
      tuttiComm_t comm = nullptr;
      if (options.beforeInit) options.beforeInit(r);
      if (options.createComm) {
        tuttiResult_t res = tuttiCommInitRank(&comm, n, gId, r);
        if (res != tuttiSuccess) {
          fprintf(stderr, "rank %d: init failed: %s\n", r, tuttiGetLastError(nullptr));
          fflush(stderr);
          _exit(3);
        }
      }
      fn(comm, r, n);
      if (::testing::Test::HasFailure()) code = 1;
      if (comm) tuttiCommDestroy(comm);
      fflush(stdout);
      fflush(stderr);
      _exit(code);
    }
    pids[r] = pid;
  }
  close(start[0]);
  close(start[1]);  // end of file: every child starts
  for (const auto& [k, v] : options.env) unsetenv(k.c_str());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeoutSec);
  std::vector<int> status(n, -1);
  int remaining = n;
  while (remaining > 0) {
    for (int r = 0; r < n; ++r) {
      if (status[r] != -1) continue;
      int st = 0;
      pid_t got = waitpid(pids[r], &st, WNOHANG);
      if (got == pids[r]) {
        status[r] = st;
        --remaining;
      }
    }
    if (remaining == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (int r = 0; r < n; ++r)
        if (status[r] == -1) {
          kill(pids[r], SIGKILL);
          waitpid(pids[r], nullptr, 0);
          ADD_FAILURE() << "rank " << r << " of " << n << " hung (killed after "
                        << options.timeoutSec << " s)";
          status[r] = 0;
        }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (int r = 0; r < n; ++r) {
    int st = status[r];
    if (options.expectKilled.count(r)) {
      EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
          << "rank " << r << " should have been killed";
      continue;
    }
    if (WIFSIGNALED(st))
      ADD_FAILURE() << "rank " << r << " of " << n << " died from signal " << WTERMSIG(st);
    else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
      ADD_FAILURE() << "rank " << r << " of " << n << " failed (exit code " << WEXITSTATUS(st)
                    << "; its messages are above)";
  }
  // The root thread this process hosted is done with the ranks by now, unless some never
  // came: let it end before the next test forks, so that what it did happens before (a
  // child's root thread writes the same log sites, and TSan would see the parent's detached
  // thread's writes as a race).
  UniqueIdData id;
  if (decodeUniqueId(gId, &id) == tuttiSuccess)
    waitForLocalRendezvousRoot(id.secret, Deadline::afterMs(500));
}

void runThreadRanks(int n, const RankFn& fn) {
  std::vector<tuttiComm_t> comms(n);
  ASSERT_EQ(tuttiCommInitAll(comms.data(), n, nullptr), tuttiSuccess) << tuttiGetLastError(nullptr);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) threads.emplace_back([&, r] { fn(comms[r], r, n); });
  for (auto& t : threads) t.join();
  for (auto c : comms) tuttiCommDestroy(c);
}

}  // namespace tutti::testing
