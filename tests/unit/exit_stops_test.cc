// addExitStop: what a process added runs when it exits (before what it registered with atexit
// earlier), what it removed does not, and a forked child never runs its parent's stops.
#include "base/exit_stops.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace tutti {
namespace {

int gOut = -1;  // the write end of the test's pipe, in the child

void note(char c) { (void)!write(gOut, &c, 1); }

// Forks; the child runs `body` and exits through exit(0). Returns what the child wrote.
template <typename Body>
std::string childWrites(Body body) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  EXPECT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    gOut = fds[1];
    body();
    exit(0);
  }
  close(fds[1]);
  std::string got;
  char c;
  while (read(fds[0], &c, 1) == 1) got += c;
  close(fds[0]);
  int status = 0;
  EXPECT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return got;
}

TEST(ExitStops, RunAtExitBeforeEarlierHandlersAndOnlyOnce) {
  const std::string got = childWrites([] {
    atexit([] { note('e'); });  // registered before any stop: runs after them
    addExitStop([] { note('a'); });
    const uint64_t gone = addExitStop([] { note('x'); });
    addExitStop([] { note('b'); });
    removeExitStop(gone);
    removeExitStop(0);
  });
  EXPECT_EQ(got, "abe");
}

TEST(ExitStops, AForkedChildDoesNotRunItsParentsStops) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  gOut = fds[1];
  const uint64_t parents = addExitStop([] { note('p'); });
  const std::string got = childWrites([] { addExitStop([] { note('c'); }); });
  removeExitStop(parents);  // the parent's own exit must not write into the closed pipe
  close(fds[0]);
  close(fds[1]);
  gOut = -1;
  EXPECT_EQ(got, "c");
}

}  // namespace
}  // namespace tutti
