// Fork-based rank runner of the shim tests.
#include "nccl_ranks.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace shimtest {
namespace {

ncclUniqueId gId;

}  // namespace

const ncclUniqueId& currentUniqueId() { return gId; }

void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void runNcclRanks(int n, const RankFn& fn, const RankOptions& options) {
  for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
  ASSERT_EQ(ncclGetUniqueId(&gId), ncclSuccess) << ncclGetLastError(nullptr);
  fflush(stdout);
  fflush(stderr);
  std::vector<pid_t> pids(n, -1);
  for (int r = 0; r < n; ++r) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) {
      ncclComm_t comm = nullptr;
      if (options.createComm) {
        ncclResult_t res = ncclCommInitRank(&comm, n, gId, r);
        if (res != ncclSuccess) {
          fprintf(stderr, "rank %d: ncclCommInitRank failed: %s: %s\n", r, ncclGetErrorString(res),
                  ncclGetLastError(nullptr));
          fflush(stderr);
          _exit(3);
        }
      }
      fn(comm, r, n);
      const int code = ::testing::Test::HasFailure() ? 1 : 0;
      if (comm) ncclCommDestroy(comm);
      fflush(stdout);
      fflush(stderr);
      _exit(code);
    }
    pids[r] = pid;
  }
  for (const auto& [k, v] : options.env) unsetenv(k.c_str());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeoutSec);
  std::vector<int> status(n, 0);
  std::vector<bool> done(n, false);
  int remaining = n;
  while (remaining > 0) {
    for (int r = 0; r < n; ++r) {
      if (done[r]) continue;
      if (waitpid(pids[r], &status[r], WNOHANG) == pids[r]) {
        done[r] = true;
        --remaining;
      }
    }
    if (remaining == 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (int r = 0; r < n; ++r) {
        if (done[r]) continue;
        kill(pids[r], SIGKILL);
        waitpid(pids[r], nullptr, 0);
        ADD_FAILURE() << "rank " << r << " of " << n << " hung (killed after " << options.timeoutSec
                      << " s)";
        done[r] = true;
        status[r] = 0;
      }
      break;
    }
    sleepMs(5);
  }
  for (int r = 0; r < n; ++r) {
    const int st = status[r];
    if (WIFSIGNALED(st))
      ADD_FAILURE() << "rank " << r << " of " << n << " died from signal " << WTERMSIG(st);
    else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
      ADD_FAILURE() << "rank " << r << " of " << n << " failed (exit code " << WEXITSTATUS(st)
                    << "; its messages are above)";
  }
}

}  // namespace shimtest
