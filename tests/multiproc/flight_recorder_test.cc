// Flight recorder: a rank that skips a call leaves its peers to time out; every rank leaves a
// dump (the failed ones when they fail, the lagging one on TUTTI_FLIGHT_SIGNAL) and
// tools/tutti-flight names the lagging rank and the call it never made. Also the dump API and
// the recorder switched off.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/random.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct TempDir {
  std::string path;
  TempDir() {
    char d[] = "/tmp/tutti-flight-test-XXXXXX";
    path = mkdtemp(d) ? d : "";
  }
  ~TempDir() {
    if (!path.empty()) system(("rm -rf " + path).c_str());
  }
};

// Runs tools/tutti-flight on `dir`; returns its output and sets *rc.
std::string runTool(const std::string& dir, int* rc) {
  const std::string cmd = "python3 " TUTTI_SOURCE_DIR "/tools/tutti-flight " + dir + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

int countDumps(const std::string& dir) {
  int rc;
  (void)rc;
  std::string cmd = "ls " + dir + "/tutti-flight-*.json 2>/dev/null | wc -l";
  FILE* p = popen(cmd.c_str(), "r");
  int n = 0;
  if (p) {
    if (fscanf(p, "%d", &n) != 1) n = 0;
    pclose(p);
  }
  return n;
}

TEST(FlightRecorder, SkippedCallNamesTheLaggingRank) {
#if defined(__SANITIZE_THREAD__)
  // The signal watcher is a thread started in a rank forked from the multi-threaded test
  // process; TSan does not support that ("dup thread with used id" in a minimal program).
  GTEST_SKIP() << "TSan: threads started after a multi-threaded fork";
#endif
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  RankOptions opt;
  opt.env = {{"TUTTI_TIMEOUT_MS", "1500"},
             {"TUTTI_FLIGHT_DIR", dir.path},
             {"TUTTI_FLIGHT_SIGNAL", "SIGUSR2"}};
  const int kCalls = 5, kLagging = 1;
  runRanks(
      3,
      [&](tuttiComm_t comm, int rank, int nranks) {
        const uint64_t seed = testSeed();
        std::vector<float> buf(1001);
        fillInput(buf.data(), buf.size(), seed, rank, tuttiFloat32, tuttiSum, nranks);
        tuttiResult_t r = tuttiSuccess;
        for (int i = 0; i < kCalls && r == tuttiSuccess; ++i) {
          if (rank == kLagging && i == kCalls - 1) break;  // the skipped call
          r = tuttiAllReduce(buf.data(), buf.data(), buf.size(), tuttiFloat32, tuttiSum, comm,
                             nullptr);
        }
        if (rank != kLagging) {
          EXPECT_TRUE(r == tuttiTimeout || r == tuttiRemoteError) << tuttiGetLastError(comm);
          return;
        }
        EXPECT_EQ(r, tuttiSuccess) << tuttiGetLastError(comm);
        // The lagging rank is busy elsewhere; an operator signals it once the others failed.
        sleep(3);
        const int before = countDumps(dir.path);
        raise(SIGUSR2);
        for (int i = 0; i < 200 && countDumps(dir.path) == before; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(countDumps(dir.path), before + 1) << "no dump after TUTTI_FLIGHT_SIGNAL";
      },
      opt);
  EXPECT_EQ(countDumps(dir.path), 3) << "every rank leaves one dump";
  int rc = 0;
  const std::string out = runTool(dir.path, &rc);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("BEHIND: rank 1 never called AllReduce(float32, sum, count 1001, seq 4)"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("DISAGREE"), std::string::npos) << out;
}

TEST(FlightRecorder, DumpOnRequestAndAgreeingRanks) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  runRanks(3, [&](tuttiComm_t comm, int rank, int nranks) {
    std::vector<double> buf(37);
    fillInput(buf.data(), buf.size(), testSeed(), rank, tuttiFloat64, tuttiMax, nranks);
    for (int i = 0; i < 4; ++i) {
      ASSERT_EQ(tuttiAllReduce(buf.data(), buf.data(), 37, tuttiFloat64, tuttiMax, comm, nullptr),
                tuttiSuccess);
      ASSERT_EQ(tuttiBroadcast(buf.data(), buf.data(), 5, tuttiFloat64, i % nranks, comm, nullptr),
                tuttiSuccess);
    }
    const std::string path = dir.path + "/tutti-flight-test-r" + std::to_string(rank) + ".json";
    ASSERT_EQ(tuttiCommDumpFlightRecord(comm, path.c_str()), tuttiSuccess)
        << tuttiGetLastError(comm);
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0);
    // Times are wall-clock microseconds, in order, and recent.
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string dump = text.str();
    auto field = [&](const char* name) {
      const size_t p = dump.rfind(std::string("\"") + name + "\": ");
      return p == std::string::npos ? -1LL : std::atoll(dump.c_str() + p + strlen(name) + 4);
    };
    const long long enq = field("enqueuedUs"), start = field("startedUs"),
                    fin = field("finishedUs");
    const long long now = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    EXPECT_LE(enq, start) << dump;
    EXPECT_LE(start, fin) << dump;
    EXPECT_LT(std::llabs(now - fin), 60LL * 1000 * 1000) << "finished " << fin << ", now " << now;
    EXPECT_EQ(tuttiCommDumpFlightRecord(nullptr, nullptr), tuttiInvalidArgument);
  });
  int rc = 0;
  const std::string out = runTool(dir.path, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("all ranks agree up to seq 7"), std::string::npos) << out;
}

// A dump that cannot be written is only a warning: the call still reports why it failed.
TEST(FlightRecorder, UnwritableDirKeepsTheFailureSentence) {
  RankOptions opt;
  opt.env = {{"TUTTI_FLIGHT_DIR", "/nonexistent-tutti-flight-dir"}};
  runRanks(
      2,
      [](tuttiComm_t comm, int rank, int) {
        std::vector<float> buf(33, 1.5f);
        const tuttiResult_t r = tuttiAllReduce(buf.data(), buf.data(), 33, tuttiFloat32,
                                               rank ? tuttiMax : tuttiSum, comm, nullptr);
        EXPECT_EQ(r, tuttiRemoteError);
        const std::string msg = tuttiGetLastError(comm);
        EXPECT_NE(msg.find("call mismatch"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("flight"), std::string::npos) << msg;
      },
      opt);
}

TEST(FlightRecorder, OffMeansNoRecorder) {
  RankOptions opt;
  opt.env = {{"TUTTI_FLIGHT_RECORDER", "0"}};
  runRanks(
      2,
      [](tuttiComm_t comm, int, int) {
        EXPECT_EQ(tuttiCommDumpFlightRecord(comm, "/tmp/never-written.json"), tuttiInvalidUsage);
      },
      opt);
}

}  // namespace
}  // namespace tutti::testing
