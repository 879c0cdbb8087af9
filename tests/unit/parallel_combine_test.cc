// The split host reduction: the same bits as the serial one for every dtype, combine, count,
// aliasing and thread count; split copies; two callers at once; a forked child;
// TUTTI_REDUCE_THREADS.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "cpu/parallel_combine.h"
#include "testing/random.h"

namespace tutti {
namespace {

using testing::fillInput;
using testing::testSeed;

constexpr CombineKind kKinds[] = {CombineKind::kSum, CombineKind::kProd, CombineKind::kMax,
                                  CombineKind::kMin};

tuttiRedOp_t opOf(CombineKind k) {
  switch (k) {
    case CombineKind::kProd: return tuttiProd;
    case CombineKind::kMax: return tuttiMax;
    case CombineKind::kMin: return tuttiMin;
    default: return tuttiSum;
  }
}

// Two ranks' inputs of `count` elements (never zeros, no overflow for the op).
struct Inputs {
  std::vector<char> a, b;
  Inputs(tuttiDataType_t dt, CombineKind k, size_t count, uint64_t seed)
      : a(count * dtypeSize(dt)), b(count * dtypeSize(dt)) {
    fillInput(a.data(), count, seed, 0, dt, opOf(k), 2);
    fillInput(b.data(), count, seed, 1, dt, opOf(k), 2);
  }
};

TEST(ParallelCombine, BitIdenticalToSerial) {
  const uint64_t seed = testSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const uint64_t jobsBefore = parallelCombineJobs();
  for (int t = 0; t < tuttiNumTypes; ++t) {
    const auto dt = static_cast<tuttiDataType_t>(t);
    const size_t es = dtypeSize(dt);
    for (CombineKind kind : kKinds) {
      const ReduceSpec spec{dt, kind};
      for (size_t count : {size_t{1}, size_t{7}, size_t{262147}, size_t{1000003}}) {
        SCOPED_TRACE(std::string(dtypeName(dt)) + " combine " +
                     std::to_string(static_cast<int>(kind)) + " count " + std::to_string(count));
        Inputs in(dt, kind, count, seed);
        std::vector<char> want(count * es);
        hostCombine(spec, want.data(), in.a.data(), in.b.data(), count);
        for (int threads : {1, 2, 3, 4}) {
          std::vector<char> out(count * es), a = in.a, b = in.b;
          hostCombineParallel(spec, out.data(), in.a.data(), in.b.data(), count, threads);
          EXPECT_EQ(0, memcmp(out.data(), want.data(), want.size())) << threads << " threads";
          hostCombineParallel(spec, a.data(), a.data(), in.b.data(), count, threads);
          EXPECT_EQ(0, memcmp(a.data(), want.data(), want.size())) << threads << " dst = a";
          hostCombineParallel(spec, b.data(), in.a.data(), b.data(), count, threads);
          EXPECT_EQ(0, memcmp(b.data(), want.data(), want.size())) << threads << " dst = b";
        }
      }
    }
  }
  EXPECT_GT(parallelCombineJobs(), jobsBefore) << "no call was split: the test tests nothing";
}

// Parts start on dst's cache lines; a dst off a line, or not even element-aligned, still
// covers every element exactly once.
TEST(ParallelCombine, UnalignedDestination) {
  const size_t count = 600001;
  Inputs in(tuttiFloat32, CombineKind::kSum, count, testSeed());
  std::vector<char> want(count * 4);
  const ReduceSpec spec{tuttiFloat32, CombineKind::kSum};
  hostCombine(spec, want.data(), in.a.data(), in.b.data(), count);
  for (size_t shift : {size_t{4}, size_t{1}, size_t{60}}) {
    std::vector<char> out(count * 4 + 64);
    hostCombineParallel(spec, out.data() + shift, in.a.data(), in.b.data(), count, 4);
    EXPECT_EQ(0, memcmp(out.data() + shift, want.data(), want.size())) << "shift " << shift;
  }
}

// Staging copies split the same way: every byte lands once, whatever the sizes and alignments.
TEST(ParallelCombine, CopyMatchesMemcpy) {
  std::vector<char> src((4u << 20) + 64);
  fillInput(src.data(), src.size(), testSeed(), 0, tuttiUint8, tuttiSum, 1);
  const uint64_t before = parallelCombineJobs();
  for (size_t bytes : {size_t{1}, size_t{4097}, size_t{(1u << 20) + 3}, size_t{4u << 20}})
    for (size_t shift : {size_t{0}, size_t{1}, size_t{37}})
      for (int threads : {1, 2, 3, 4}) {
        std::vector<char> dst(bytes + 64, 0);
        hostCopyParallel(dst.data() + shift, src.data() + (shift ^ 5), bytes, threads);
        EXPECT_EQ(0, memcmp(dst.data() + shift, src.data() + (shift ^ 5), bytes))
            << bytes << " bytes, shift " << shift << ", " << threads << " threads";
        EXPECT_EQ(dst[bytes + shift], 0) << "wrote past the end";
      }
  EXPECT_GT(parallelCombineJobs(), before) << "no copy was split";
}

TEST(ParallelCombine, ManyMatchesSerial) {
  const size_t count = 1000003;
  const uint64_t seed = testSeed();
  for (tuttiDataType_t dt : {tuttiFloat16, tuttiBfloat16, tuttiFp8E4M3, tuttiFloat32}) {
    const size_t es = dtypeSize(dt);
    std::vector<std::vector<char>> in(3, std::vector<char>(count * es));
    for (int r = 0; r < 3; ++r) fillInput(in[r].data(), count, seed, r, dt, tuttiSum, 3);
    const void* srcs[] = {in[0].data(), in[1].data(), in[2].data()};
    const ReduceSpec spec{dt, CombineKind::kSum};
    std::vector<char> want(count * es), out(count * es);
    hostCombineMany(spec, want.data(), srcs, 3, count);
    hostCombineManyParallel(spec, out.data(), srcs, 3, count, 4);
    EXPECT_EQ(0, memcmp(out.data(), want.data(), want.size())) << dtypeName(dt);
  }
}

// Two communicators' threads at once: one gets the pool, the other runs serially; both right.
TEST(ParallelCombine, TwoCallersAtOnce) {
  const size_t count = 1 << 20;
  const ReduceSpec spec{tuttiFloat32, CombineKind::kSum};
  Inputs x(tuttiFloat32, CombineKind::kSum, count, testSeed());
  Inputs y(tuttiFloat32, CombineKind::kSum, count, testSeed() + 1);
  std::vector<char> wantX(count * 4), wantY(count * 4);
  hostCombine(spec, wantX.data(), x.a.data(), x.b.data(), count);
  hostCombine(spec, wantY.data(), y.a.data(), y.b.data(), count);
  auto loop = [&](const Inputs& in, const std::vector<char>& want, int* bad) {
    std::vector<char> out(count * 4);
    for (int i = 0; i < 50; ++i) {
      memset(out.data(), 0, out.size());
      hostCombineParallel(spec, out.data(), in.a.data(), in.b.data(), count, 4);
      *bad += memcmp(out.data(), want.data(), want.size()) != 0;
    }
  };
  int badX = 0, badY = 0;
  std::thread tx(loop, std::cref(x), std::cref(wantX), &badX);
  std::thread ty(loop, std::cref(y), std::cref(wantY), &badY);
  tx.join();
  ty.join();
  EXPECT_EQ(badX, 0);
  EXPECT_EQ(badY, 0);
}

// Waits up to 10 s for a forked child; false (the child killed) when it did not end.
bool waitChild(pid_t pid, int* status) {
  for (int i = 0; i < 1000; ++i) {
    if (waitpid(pid, status, WNOHANG) != 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, status, 0);
  return false;
}

// The fork tests: 1M floats to sum, their serial result, and no run under TSan, whose runtime
// does not support the threads a child starts after a multi-threaded fork ("dup thread with
// used id"), as flight_recorder_test notes.
class ParallelCombineFork : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "TSan: threads started after a multi-threaded fork";
#endif
    hostCombine(spec, want.data(), in.a.data(), in.b.data(), count);
  }
  // The child's sum, split over 4 threads, is the serial one.
  bool childSumIsRight() const {
    std::vector<char> mine(count * 4);
    hostCombineParallel(spec, mine.data(), in.a.data(), in.b.data(), count, 4);
    return memcmp(mine.data(), want.data(), want.size()) == 0;
  }
  const size_t count = 1 << 20;
  const ReduceSpec spec{tuttiFloat32, CombineKind::kSum};
  const Inputs in{tuttiFloat32, CombineKind::kSum, count, testSeed()};
  std::vector<char> want = std::vector<char>(count * 4);
};

// A child forked after the parent started the pool has none of its threads: it must not wait
// for them, and makes its own pool.
TEST_F(ParallelCombineFork, ForkedChildDoesNotHang) {
  std::vector<char> out(count * 4);
  const uint64_t before = parallelCombineJobs();
  hostCombineParallel(spec, out.data(), in.a.data(), in.b.data(), count, 4);
  ASSERT_GT(parallelCombineJobs(), before) << "the parent did not start the pool";
  fflush(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const uint64_t jobs = parallelCombineJobs();
    const bool same = childSumIsRight();
    const bool split = parallelCombineJobs() > jobs;
    exit(!same ? 2 : !split ? 3 : 0);  // exit, not _exit: the child's workers are joined too
  }
  int status = 0;
  if (!waitChild(pid, &status)) FAIL() << "the forked child hung in the parallel combine";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: wrong result, 3: the child never split a combine";
}

// Forks while another thread's job holds the pool's locks: the child inherits them held, by
// threads it does not have, and must still finish.
TEST_F(ParallelCombineFork, ForkDuringAJob) {
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    std::vector<char> out(count * 4);
    while (!stop.load()) hostCombineParallel(spec, out.data(), in.a.data(), in.b.data(), count, 4);
  });
  fflush(nullptr);
  std::vector<pid_t> kids;
  for (int i = 0; i < 8; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      _exit(childSumIsRight() ? 0 : 2);
    }
    if (pid > 0) kids.push_back(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  stop = true;
  busy.join();
  for (pid_t pid : kids) {
    int status = 0;
    if (!waitChild(pid, &status)) {
      ADD_FAILURE() << "a child forked during a job hung";
      continue;
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
}

TEST(ReduceThreads, Auto) {
  EXPECT_EQ(chooseReduceThreads(0, 2, 2, false), 1);  // CI: 2 CPUs, 2+ ranks: off
  EXPECT_EQ(chooseReduceThreads(0, 2, 8, false), 1);
  EXPECT_EQ(chooseReduceThreads(0, 2, 1, false), 2);
  EXPECT_EQ(chooseReduceThreads(0, 16, 2, false), 8);
  EXPECT_EQ(chooseReduceThreads(0, 16, 4, false), 4);
  EXPECT_EQ(chooseReduceThreads(0, 16, 8, false), 2);
  EXPECT_EQ(chooseReduceThreads(0, 128, 1, false), kAutoReduceThreads);
  EXPECT_EQ(chooseReduceThreads(0, 0, 0, false), 1);
  EXPECT_EQ(chooseReduceThreads(-3, 16, 1, false), 8);
}

// Ranks with peers on other hosts share their CPUs with the network transport's threads.
TEST(ReduceThreads, AutoLeavesCpusToTheNetwork) {
  EXPECT_EQ(chooseReduceThreads(0, 16, 2, true), kAutoReduceThreadsNet);
  EXPECT_EQ(chooseReduceThreads(0, 128, 1, true), kAutoReduceThreadsNet);
  EXPECT_EQ(chooseReduceThreads(0, 16, 8, true), 2);
  EXPECT_EQ(chooseReduceThreads(0, 2, 2, true), 1);
  EXPECT_EQ(chooseReduceThreads(6, 16, 2, true), 6);  // a setting is taken as it is
}

TEST(ReduceThreads, Explicit) {
  EXPECT_EQ(chooseReduceThreads(1, 64, 1, false), 1);
  EXPECT_EQ(chooseReduceThreads(3, 2, 8, false), 3);  // asked for: more than the auto share
  EXPECT_EQ(chooseReduceThreads(99, 2, 1, false), kMaxReduceThreads);
}

TEST(ReduceThreads, Env) {
  const int autoThreads = chooseReduceThreads(0, allowedCpus(), 2, false);
  unsetenv("TUTTI_REDUCE_THREADS");
  EXPECT_EQ(reduceThreadsFor(2, false), autoThreads);
  setenv("TUTTI_REDUCE_THREADS", "0", 1);
  EXPECT_EQ(reduceThreadsFor(2, false), autoThreads);
  setenv("TUTTI_REDUCE_THREADS", "1", 1);
  EXPECT_EQ(reduceThreadsFor(2, false), 1);
  setenv("TUTTI_REDUCE_THREADS", "6", 1);
  EXPECT_EQ(reduceThreadsFor(2, false), 6);
  setenv("TUTTI_REDUCE_THREADS", "40", 1);
  EXPECT_EQ(reduceThreadsFor(2, false), kMaxReduceThreads);
  // Bad values warn and fall back to auto, as other TUTTI_ integers fall back to defaults.
  for (const char* bad : {"-2", "four", "2x", "1.5"}) {
    setenv("TUTTI_REDUCE_THREADS", bad, 1);
    EXPECT_EQ(reduceThreadsFor(2, false), autoThreads) << bad;
  }
  unsetenv("TUTTI_REDUCE_THREADS");
}

TEST(ReduceThreads, AllowedCpus) {
  EXPECT_GE(allowedCpus(), 1);
  EXPECT_LE(allowedCpus(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace tutti
