// The UCX connection between two workers of this process over TCP on loopback. Its direct path,
// driven by hand: a run lands in the caller's buffer or, without a receive reservation, in the
// bounce ring, in order with the ring bytes around it; and a receive abandoned mid-run takes no
// more bytes into the caller's buffer. Workers driven by their own threads (striped UCX): the
// stream flows with the caller only copying, and idle drivers sleep. Skips where libucp.so.0
// does not load.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "transport/ucx_connection.h"

namespace tutti {
namespace {

using Clock = std::chrono::steady_clock;

// Rank 0 (`a`) and rank 1 (`b`), each on its own worker, wired up with the hello.
struct UcxPair {
  const ucx::Api* api = nullptr;
  std::shared_ptr<UcxWorker> wa, wb;
  std::unique_ptr<UcxConnection> a, b;
  std::string skip;  // why the pair could not be made here

  // `driven`: workers with an event fd, for UcxWorker::startDriver.
  UcxPair(UcxStreamShape shape, size_t directMin, bool driven = false) {
    setenv("UCX_TLS", "tcp", 1);
    setenv("UCX_NET_DEVICES", "lo", 1);
    api = ucx::load(&skip);
    if (!api) return;
    std::string tuned;
    if (UcxWorker::open(api, true, &wa, &tuned, driven) != tuttiSuccess ||
        UcxWorker::open(api, true, &wb, &tuned, driven) != tuttiSuccess) {
      skip = std::string("no UCX worker over tcp/lo: ") + lastError();
      return;
    }
    UcxStreamOptions opts;
    opts.stagingBytes = 64u << 10;
    opts.directMinBytes = directMin;
    opts.spanBytes = shape.chunk * shape.slots / 2;
    a = std::make_unique<UcxConnection>(wa, 0, 1, shape, shape, opts);
    b = std::make_unique<UcxConnection>(wb, 1, 0, shape, shape, opts);
    ucx::Address *addrA = nullptr, *addrB = nullptr;
    size_t lenA = 0, lenB = 0;
    EXPECT_EQ(api->workerGetAddress(wa->worker, &addrA, &lenA), ucx::kOk);
    EXPECT_EQ(api->workerGetAddress(wb->worker, &addrB, &lenB), ucx::kOk);
    {
      std::lock_guard<std::mutex> la(wa->mu), lb(wb->mu);
      EXPECT_EQ(a->open(addrB, 7), tuttiSuccess) << lastError();
      EXPECT_EQ(b->open(addrA, 7), tuttiSuccess) << lastError();
    }
    api->workerReleaseAddress(wa->worker, addrA);
    api->workerReleaseAddress(wb->worker, addrB);
    bool doneA = false, doneB = false;
    const auto end = Clock::now() + std::chrono::seconds(10);
    while (!(doneA && doneB) && Clock::now() < end) {
      std::lock_guard<std::mutex> la(wa->mu), lb(wb->mu);
      api->workerProgress(wa->worker);
      api->workerProgress(wb->worker);
      EXPECT_EQ(a->helloDone(&doneA), tuttiSuccess) << lastError();
      EXPECT_EQ(b->helloDone(&doneB), tuttiSuccess) << lastError();
    }
    EXPECT_TRUE(doneA && doneB) << "no hello within 10 s";
  }
  // Both close at once: each side's close waits for the other's worker to answer (bounded by
  // 2 s when the other side has already gone).
  ~UcxPair() {
    std::thread t([this] { a.reset(); });
    b.reset();
    t.join();
  }
};

// Calls `step` (which returns true when finished) until it finishes or 10 s pass.
bool drive(const std::function<bool()>& step) {
  const auto end = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < end)
    if (step()) return true;
  return false;
}

// Commits `bytes` of `src` into b's send ring.
void sendRing(UcxConnection& c, const char* src, size_t bytes) {
  size_t done = 0;
  ASSERT_TRUE(drive([&] {
    void* p;
    size_t n;
    EXPECT_EQ(c.sendSpace(&p, &n), tuttiSuccess) << lastError();
    if (n > bytes - done) n = bytes - done;
    if (n) memcpy(p, src + done, n);  // with n == 0, p may be unset
    EXPECT_EQ(c.sendCommit(n), tuttiSuccess) << lastError();
    done += n;
    return done == bytes;
  }));
}

// Reads `bytes` through recvPeek/recvRelease into dst, progressing `other` meanwhile.
void recvPeeked(UcxConnection& c, UcxConnection& other, char* dst, size_t bytes) {
  size_t done = 0;
  ASSERT_TRUE(drive([&] {
    EXPECT_EQ(other.progress(), tuttiSuccess) << lastError();
    const void* p;
    size_t n;
    EXPECT_EQ(c.recvPeek(&p, &n), tuttiSuccess) << lastError();
    if (n > bytes - done) n = bytes - done;
    if (n) memcpy(dst + done, p, n);
    EXPECT_EQ(c.recvRelease(n), tuttiSuccess) << lastError();
    done += n;
    return done == bytes;
  })) << done
      << " of " << bytes << " bytes";
}

std::vector<char> pattern(size_t bytes, int seed) {
  std::vector<char> v(bytes);
  for (size_t i = 0; i < bytes; ++i)
    v[i] = static_cast<char>((i * 131 + seed * 7 + i / 4096) & 0xff);
  return v;
}

#define MAKE_PAIR(pair, shape, directMin)              \
  UcxPair pair(shape, directMin);                      \
  if (!pair.api || !pair.a) GTEST_SKIP() << pair.skip; \
  if (::testing::Test::HasFailure()) return

// Ring bytes, a direct run, ring bytes again, read as the executor reads them (recvDirect while
// a reservation is open, recvPeek otherwise). To a receiver that takes announced runs, a run
// longer than its slot ring (16 KiB here) is announced: it lands in the caller's buffer inside a
// reservation, in the bounce ring without one (a reduction reads the stream). A shorter run, or
// any run to a receiver that does not take them, goes through the slots. Pieces of 4 KiB, 4
// slots: credits run out many times inside one run.
void directRunsKeepTheirPlace(bool takesRuns) {
  MAKE_PAIR(pair, (UcxStreamShape{4096, 4, takesRuns}), 64);
  const size_t head = 48, tail = 32;
  int seed = 0;
  for (size_t run : {size_t{99984}, size_t{8000}})
    for (bool reserve : {true, false}) {
      SCOPED_TRACE(std::to_string(run) + (reserve ? " reserved" : " not reserved"));
      const std::vector<char> src = pattern(head + run + tail, ++seed);
      std::vector<char> dst(src.size(), 0);
      sendRing(*pair.b, src.data(), head);
      size_t reserved = 0;
      ASSERT_EQ(pair.b->sendDirectReserve(run, &reserved), tuttiSuccess);
      ASSERT_EQ(reserved, run);
      // The tail is committed behind the open reservation: it must arrive after the run.
      sendRing(*pair.b, src.data() + head + run, tail);
      recvPeeked(*pair.a, *pair.b, dst.data(), head);
      size_t got = 0, sent = 0, left = 0, direct = 0;
      if (reserve) {
        ASSERT_EQ(pair.a->recvDirectReserve(run + tail, &left), tuttiSuccess);
      }
      ASSERT_TRUE(drive([&] {
        size_t k;
        if (sent < run) {
          EXPECT_EQ(pair.b->sendDirect(src.data() + head + sent, run - sent, &k), tuttiSuccess)
              << lastError();
          sent += k;
        } else {
          EXPECT_EQ(pair.b->progress(), tuttiSuccess) << lastError();
        }
        if (left > 0) {
          EXPECT_EQ(pair.a->recvDirect(dst.data() + head + got, left, &k), tuttiSuccess)
              << lastError();
          got += k;
          direct += k;
          left -= k;
          if (k > 0) return got == run + tail || ::testing::Test::HasFailure();
        }
        const void* p;
        size_t n;
        EXPECT_EQ(pair.a->recvPeek(&p, &n), tuttiSuccess) << lastError();
        if (n > run + tail - got) n = run + tail - got;
        memcpy(dst.data() + head + got, p, n);
        EXPECT_EQ(pair.a->recvRelease(n), tuttiSuccess);
        got += n;
        return got == run + tail || ::testing::Test::HasFailure();
      })) << got
          << " of " << run + tail << " bytes";
      EXPECT_TRUE(src == dst) << "stream bytes out of place";
      EXPECT_EQ(direct, takesRuns && reserve && run > 4096 * 4 ? run : 0)
          << "bytes handed out by recvDirect";
      EXPECT_TRUE(drive([&] {
        EXPECT_EQ(pair.b->progress(), tuttiSuccess);
        return pair.b->flushed();
      }));
    }
}

TEST(UcxConnection, DirectRunsKeepTheirPlaceInTheStream) { directRunsKeepTheirPlace(true); }
TEST(UcxConnection, DirectSendsToAPlainReceiverUseTheSlots) { directRunsKeepTheirPlace(false); }

// The receiver gives up inside a run while the sender still has pieces on their way: once
// abandonDirect returns, nothing more may land in the caller's buffer, however long the worker
// keeps taking in what arrives; and the stream is failed.
TEST(UcxConnection, AbandonedDirectReceiveTakesNoMoreBytes) {
  MAKE_PAIR(pair, (UcxStreamShape{64u << 10, 16, true}), 64);
  const size_t run = 8u << 20;
  const std::vector<char> src = pattern(run, 3);
  std::vector<char> dst(run, 0);
  size_t reserved = 0, rr = 0, sent = 0, got = 0;
  ASSERT_EQ(pair.b->sendDirectReserve(run, &reserved), tuttiSuccess);
  ASSERT_EQ(pair.a->recvDirectReserve(run, &rr), tuttiSuccess);
  // Take in a little of the run, with the sender posting all its credit.
  ASSERT_TRUE(drive([&] {
    size_t k;
    EXPECT_EQ(pair.b->sendDirect(src.data() + sent, run - sent, &k), tuttiSuccess);
    sent += k;
    EXPECT_EQ(pair.a->recvDirect(dst.data() + got, run - got, &k), tuttiSuccess);
    got += k;
    return got > 0 || ::testing::Test::HasFailure();
  }));
  for (int i = 0; i < 20; ++i) {
    size_t k;
    EXPECT_EQ(pair.b->sendDirect(src.data() + sent, run - sent, &k), tuttiSuccess);
    sent += k;
  }
  ASSERT_LT(got, run);
  pair.a->abandonDirect();
  const std::vector<char> atReturn = dst;
  // The sender pushes out what it had posted; the receiver's worker takes it all in.
  const auto end = Clock::now() + std::chrono::milliseconds(500);
  while (Clock::now() < end) {
    (void)pair.b->progress();
    std::lock_guard<std::mutex> lock(pair.wa->mu);
    pair.api->workerProgress(pair.wa->worker);
  }
  EXPECT_TRUE(dst == atReturn) << "bytes landed in the caller's buffer after abandonDirect";
  size_t k = 0;
  EXPECT_NE(pair.a->recvDirect(dst.data() + got, run - got, &k), tuttiSuccess);
  EXPECT_NE(pair.b->sendDirect(src.data() + sent, run - sent, &k), tuttiSuccess)
      << "the sender was told of the failure";
}

// The CPU share of this process over `ms` milliseconds.
double cpuShareOver(int ms) {
  auto cpuSeconds = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double before = cpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return (cpuSeconds() - before) / (ms / 1e3);
}

// Workers driven by their own threads, as striped UCX runs them: 1 MiB crosses 4 slots of 4 KiB
// (credits run out hundreds of times) with a sender and a receiver thread that only copy and
// commit. Once the stream is idle the drivers sleep on their event fds: the process then uses
// a small share of a core (CI runs many ranks on two).
TEST(UcxConnection, DrivenWorkersMoveTheStreamAndSleepWhenIdle) {
  UcxPair pair(UcxStreamShape{4096, 4, false}, 0, /*driven=*/true);
  if (!pair.api || !pair.a) GTEST_SKIP() << pair.skip;
  if (::testing::Test::HasFailure()) return;
  pair.wa->startDriver("ucx-test-a");
  pair.wb->startDriver("ucx-test-b");
  ASSERT_TRUE(pair.wa->driven() && pair.wb->driven());
  const size_t bytes = 1u << 20;
  const std::vector<char> src = pattern(bytes, 5);
  std::vector<char> dst(bytes, 0);
  std::thread sender([&] { sendRing(*pair.b, src.data(), bytes); });
  recvPeeked(*pair.a, *pair.b, dst.data(), bytes);
  sender.join();
  EXPECT_TRUE(drive([&] { return pair.b->flushed(); }));
  EXPECT_EQ(memcmp(src.data(), dst.data(), bytes), 0);

  const double share = cpuShareOver(500);
  printf("[ measured ] two idle drivers: %.1f%% of a core\n", share * 100);
  EXPECT_LT(share, 0.25) << "idle drivers spin";
}

// A driver with bytes to send but no credit (the receiver reads nothing) sleeps until the
// credit message wakes it: spinning through UCX for it took CPUs from the executors (a 2 x 2
// AllReduce of 64 MiB lost 15-30%, perf/NOTES.md). The stream then completes in order.
TEST(UcxConnection, DriverWithoutCreditSleeps) {
  UcxPair pair(UcxStreamShape{4096, 4, false}, 0, /*driven=*/true);
  if (!pair.api || !pair.a) GTEST_SKIP() << pair.skip;
  if (::testing::Test::HasFailure()) return;
  pair.wa->startDriver("ucx-test-a");
  pair.wb->startDriver("ucx-test-b");
  const size_t bytes = 64u << 10;  // the whole send ring; the peer has credit for 16 KiB
  const std::vector<char> src = pattern(bytes, 9);
  std::vector<char> dst(bytes, 0);
  sendRing(*pair.b, src.data(), bytes);
  EXPECT_FALSE(pair.b->flushed());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double share = cpuShareOver(500);
  printf("[ measured ] a driver waiting for credit: %.1f%% of a core\n", share * 100);
  EXPECT_LT(share, 0.25) << "a driver without credit spins";
  recvPeeked(*pair.a, *pair.b, dst.data(), bytes);
  EXPECT_TRUE(drive([&] { return pair.b->flushed(); }));
  EXPECT_EQ(memcmp(src.data(), dst.data(), bytes), 0);
}

// The executor's calls on a driven worker read and write counters only: with the driver in the
// middle of a pass through UCX (here: its lock held by the test), they still return at once.
// Waiting out a pass, which can take milliseconds, halved 2 x 1 AllReduces (perf/NOTES.md).
TEST(UcxConnection, ExecutorCallsNeverWaitForTheDriversLock) {
  UcxPair pair(UcxStreamShape{4096, 4, false}, 0, /*driven=*/true);
  if (!pair.api || !pair.a) GTEST_SKIP() << pair.skip;
  if (::testing::Test::HasFailure()) return;
  pair.wa->startDriver("ucx-test-a");
  pair.wb->startDriver("ucx-test-b");
  const std::vector<char> src = pattern(8192, 3);
  sendRing(*pair.b, src.data(), src.size());  // two slots' worth, before the locks are taken
  const void* peeked = nullptr;
  size_t got = 0;
  ASSERT_TRUE(drive([&] {
    EXPECT_EQ(pair.a->recvPeek(&peeked, &got), tuttiSuccess) << lastError();
    return got > 0;
  }));
  std::unique_lock<std::mutex> la(pair.wa->mu), lb(pair.wb->mu);
  std::promise<void> done;
  std::thread executor([&] {
    void* p;
    size_t n;
    EXPECT_EQ(pair.b->sendSpace(&p, &n), tuttiSuccess);
    if (n >= 16) {  // the ring is far from full: no space means the call gave up on the lock
      memcpy(p, src.data(), 16);
      EXPECT_EQ(pair.b->sendCommit(16), tuttiSuccess);
    } else {
      ADD_FAILURE() << "sendSpace gave no space while the driver held its lock";
    }
    EXPECT_EQ(pair.a->recvPeek(&peeked, &got), tuttiSuccess);
    EXPECT_EQ(pair.a->recvRelease(got), tuttiSuccess);
    EXPECT_EQ(pair.a->progress(), tuttiSuccess);
    EXPECT_EQ(pair.a->checkPeer(), tuttiSuccess);
    (void)pair.b->flushed();
    done.set_value();
  });
  const bool returned =
      done.get_future().wait_for(std::chrono::seconds(2)) == std::future_status::ready;
  la.unlock();
  lb.unlock();
  executor.join();
  EXPECT_TRUE(returned) << "an executor call waited for the driver's lock";
}

// The memory types come from ucp_context_query through our declaration of ucp_context_attr_t:
// a wrong layout would read another field or garbage. Every UCX supports host memory, and
// ucs_memory_type_t has fewer than 16 values in every 1.x release. The connections report what
// their worker does (the GPU proxy's INFO line reads it).
TEST(UcxConnection, MemoryTypesComeFromTheContext) {
  UcxPair pair({4096, 8}, 0);
  if (!pair.api || !pair.a) GTEST_SKIP() << pair.skip;
  ASSERT_NE(pair.api->contextQuery, nullptr) << "ucp_context_query is in every UCX 1.x";
  ucx::ContextAttr attr;
  memset(&attr, 0xa5, sizeof attr);  // what UCX does not write stays recognisable
  attr.fieldMask = ucx::kAttrFieldMemoryTypes;
  ASSERT_EQ(pair.api->contextQuery(pair.wa->context, &attr), ucx::kOk);
  const uint64_t types = attr.memoryTypes;
  EXPECT_TRUE(types & (uint64_t{1} << ucx::kMemoryTypeHost)) << std::hex << types;
  EXPECT_EQ(types >> 16, 0u) << std::hex << types;
  EXPECT_EQ(pair.wa->memoryTypes, types);
  EXPECT_EQ(pair.wb->memoryTypes, types);
  EXPECT_EQ(pair.a->carriesDeviceMemory(), ((types >> ucx::kMemoryTypeCuda) & 1) != 0);
}

}  // namespace
}  // namespace tutti
