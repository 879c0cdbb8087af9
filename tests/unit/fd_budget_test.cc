// The descriptor budget (base/fd_budget.h): which rank's connections fit its hard limit, the
// error every rank reports for the first that does not, and the soft limit raised as far as the
// need and no further.
#include "base/fd_budget.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace tutti {
namespace {

TEST(FdBudget, FitsWithinTheHardLimitLessTheReserve) {
  const std::vector<FdAsk> fits = {{800, 100, 1024}, {0, 5, 69}, {100000, 10, -1}};
  EXPECT_EQ(agreeFdBudget(fits, 0, "socket connections", ""), tuttiSuccess);
  const int64_t edge = 1024 - 100 - kFdReserve;
  EXPECT_EQ(agreeFdBudget({{edge, 100, 1024}}, 0, "x", ""), tuttiSuccess);
  EXPECT_EQ(agreeFdBudget({{edge + 1, 100, 1024}}, 0, "x", ""), tuttiSystemError);
}

TEST(FdBudget, TheFirstRankThatCannotFitIsNamedOnEveryRank) {
  const std::vector<FdAsk> asks = {{10, 20, 4096}, {1023, 20, 1024}, {1023, 20, 512}};
  ASSERT_EQ(agreeFdBudget(asks, 1, "socket connections", "; or fewer"), tuttiSystemError);
  const std::string mine = lastError();
  EXPECT_NE(mine.find("rank 1 cannot open the 1023 file descriptors its socket connections need: "
                      "its hard limit (RLIMIT_NOFILE) is 1024 with 20 open"),
            std::string::npos)
      << mine;
  EXPECT_NE(mine.find("ulimit -Hn"), std::string::npos) << mine;
  EXPECT_EQ(mine.substr(mine.size() - 10), "; or fewer") << mine;
  // The others read the same words, as a remote error.
  ASSERT_EQ(agreeFdBudget(asks, 0, "socket connections", "; or fewer"), tuttiRemoteError);
  EXPECT_EQ(std::string(lastError()), mine);
}

TEST(FdBudget, AMalformedAskIsARemoteError) {
  for (const FdAsk& bad : {FdAsk{-1, 0, 100}, FdAsk{1, -5, 100}, FdAsk{1, 0, -7}}) {
    EXPECT_EQ(agreeFdBudget({{1, 1, 1000}, bad}, 0, "x", ""), tuttiRemoteError);
    EXPECT_NE(std::string(lastError()).find("rank 1 sent a malformed descriptor budget"),
              std::string::npos);
  }
  EXPECT_EQ(agreeFdBudget({{INT64_MAX, 0, 1000}}, 0, "x", ""), tuttiSystemError)
      << "a huge need must not overflow into a fit";
}

TEST(FdBudget, AskCountsWhatIsOpen) {
  const FdAsk before = fdAskHere(3);
  const int fd = dup(0);
  ASSERT_GE(fd, 0);
  const FdAsk after = fdAskHere(3);
  close(fd);
  EXPECT_EQ(after.open, before.open + 1);
  EXPECT_EQ(after.need, 3);
  rlimit l{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &l), 0);
  EXPECT_EQ(after.hard, l.rlim_max == RLIM_INFINITY ? -1 : static_cast<int64_t>(l.rlim_max));
}

// In a child: the limits are the process's.
template <typename Body>
int inChild(Body body) {
  const pid_t child = fork();
  if (child == 0) _exit(body());
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(FdBudget, RaisesTheSoftLimitAsFarAsNeededAndNeverPastTheHardOne) {
  EXPECT_EQ(
      inChild([] {
        const FdAsk now = fdAskHere(0);
        rlimit l{static_cast<rlim_t>(now.open + 10), static_cast<rlim_t>(now.open + 500)};
        if (setrlimit(RLIMIT_NOFILE, &l) != 0) return 1;
        raiseFdLimit(fdAskHere(100), "test connections");
        getrlimit(RLIMIT_NOFILE, &l);
        // open + 100 + the reserve, give or take the descriptor counting them.
        const int64_t want = now.open + 100 + kFdReserve;
        if (static_cast<int64_t>(l.rlim_cur) < want || static_cast<int64_t>(l.rlim_cur) > want + 2)
          return 2;
        raiseFdLimit(fdAskHere(10000), "test connections");
        getrlimit(RLIMIT_NOFILE, &l);
        if (l.rlim_cur != l.rlim_max || l.rlim_max != static_cast<rlim_t>(now.open + 500)) return 3;
        const rlim_t high = l.rlim_cur;
        raiseFdLimit(fdAskHere(1), "test connections");  // never lowers
        getrlimit(RLIMIT_NOFILE, &l);
        return l.rlim_cur == high ? 0 : 4;
      }),
      0)
      << "1: setrlimit, 2: not raised to the need, 3: past or short of the hard limit, 4: lowered";
}

}  // namespace
}  // namespace tutti
