// Repeated warnings from one call site are printed a limited number of times per window and
// then summed up in one "suppressed K similar warnings" line; other sites are unaffected.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/logging.h"
#include "testing/capture_stderr.h"

namespace tutti::testing {
namespace {

void floodSite(int n) {
  for (int i = 0; i < n; ++i) TUTTI_WARN("flood message %d", i);
}
void otherSite() { TUTTI_WARN("a different warning"); }

TEST(LogRate, RepeatedWarningsAreCountedNotPrinted) {
  setWarnRateLimit(5, 300);
  std::vector<std::string> lines;
  {
    CaptureStderr cap;
    floodSite(1000);
    otherSite();  // its own budget
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    floodSite(1);  // a new window: first the count of the old one, then the message
    lines = cap.lines();
  }
  for (const auto& l : lines) printf("%s\n", l.c_str());
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(countContaining(lines, "flood message"), 6);
  EXPECT_EQ(countContaining(lines, "a different warning"), 1);
  EXPECT_EQ(countContaining(lines, "suppressed 995 similar warnings"), 1);
  EXPECT_NE(lines[6].find("suppressed 995"), std::string::npos) << "count before the new line";
  setWarnRateLimit(10, 10000);
}

TEST(LogRate, FlushReportsPendingCounts) {
  setWarnRateLimit(2, 60000);
  std::vector<std::string> lines;
  {
    CaptureStderr cap;
    for (int i = 0; i < 50; ++i) TUTTI_WARN("flush test %d", i);
    flushSuppressedWarnings();
    flushSuppressedWarnings();  // nothing left the second time
    lines = cap.lines();
  }
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[2].find("suppressed 48 similar warnings"), std::string::npos) << lines[2];
  setWarnRateLimit(10, 10000);
}

TEST(LogRate, ZeroLimitPrintsEverything) {
  setWarnRateLimit(0, 1000);
  std::vector<std::string> lines;
  {
    CaptureStderr cap;
    for (int i = 0; i < 100; ++i) TUTTI_WARN("unlimited %d", i);
    lines = cap.lines();
  }
  EXPECT_EQ(lines.size(), 100u);
  setWarnRateLimit(10, 10000);
}

}  // namespace
}  // namespace tutti::testing
