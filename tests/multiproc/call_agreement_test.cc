// Call agreement: ranks that make different calls (dtype with the same byte count, op, root,
// count, collective, PreMulSum against sum) fail on every rank within a second,
// not at the timeout, and the rank that sees the mismatch names both ranks' calls. (A rank of a
// rooted collective whose data came only from ranks that agree with it may finish first; then
// its next call fails at once.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/random.h"
#include "testing/run_ranks.h"
#include "testing/ucx_loads.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

enum class Kind { kDtype, kOp, kBroadcastRoot, kReduceRoot, kCount, kCollective, kPreMulSum };

struct Case {
  Kind kind;
  const char* name;
  // Substrings the odd rank's call and the others' calls show in a mismatch sentence.
  const char* oddCall;
  const char* evenCall;
};

const Case kCases[] = {
    {Kind::kDtype, "DtypeSameBytes", "AllReduce(int32, sum, count 1001", "AllReduce(float32, sum"},
    {Kind::kOp, "Op", "AllReduce(float32, max, count 1001", "AllReduce(float32, sum, count 1001"},
    {Kind::kBroadcastRoot, "BroadcastRoot", "Broadcast(float32, root ODD",
     "Broadcast(float32, root 0"},
    {Kind::kReduceRoot, "ReduceRoot", "Reduce(float32, sum, root ODD",
     "Reduce(float32, sum, root 0"},
    {Kind::kCount, "Count", "AllReduce(float32, sum, count 1000,",
     "AllReduce(float32, sum, count 1001,"},
    {Kind::kCollective, "Collective", "Broadcast(float32, root 0, count 1001",
     "AllReduce(float32, sum, count 1001"},
    {Kind::kPreMulSum, "PreMulSum", "AllReduce(float32, premulsum, count 1001",
     "AllReduce(float32, sum, count 1001"},
};

std::string replaceOdd(std::string s, int odd) {
  size_t p = s.find("ODD");
  if (p != std::string::npos) s.replace(p, 3, std::to_string(odd));
  return s;
}

// The mismatching call of `rank` (the odd rank makes the different one). Returns its result.
tuttiResult_t mismatchedCall(const Case& c, tuttiComm_t comm, int rank, int n,
                             std::vector<float>& f, std::vector<int32_t>& i32) {
  const bool odd = rank == n - 1;
  const size_t count = 1001;
  switch (c.kind) {
    case Kind::kDtype:
      return odd ? tuttiAllReduce(i32.data(), i32.data(), count, tuttiInt32, tuttiSum, comm,
                                  nullptr)
                 : tuttiAllReduce(f.data(), f.data(), count, tuttiFloat32, tuttiSum, comm, nullptr);
    case Kind::kOp:
      return tuttiAllReduce(f.data(), f.data(), count, tuttiFloat32, odd ? tuttiMax : tuttiSum,
                            comm, nullptr);
    case Kind::kBroadcastRoot:
      return tuttiBroadcast(f.data(), f.data(), count, tuttiFloat32, odd ? rank : 0, comm, nullptr);
    case Kind::kReduceRoot:
      return tuttiReduce(f.data(), f.data(), count, tuttiFloat32, tuttiSum, odd ? rank : 0, comm,
                         nullptr);
    case Kind::kCount:
      return tuttiAllReduce(f.data(), f.data(), odd ? count - 1 : count, tuttiFloat32, tuttiSum,
                            comm, nullptr);
    case Kind::kCollective:
      return odd ? tuttiBroadcast(f.data(), f.data(), count, tuttiFloat32, 0, comm, nullptr)
                 : tuttiAllReduce(f.data(), f.data(), count, tuttiFloat32, tuttiSum, comm, nullptr);
    case Kind::kPreMulSum: {
      if (!odd)
        return tuttiAllReduce(f.data(), f.data(), count, tuttiFloat32, tuttiSum, comm, nullptr);
      tuttiRedOp_t op;
      const float scalar = 1.0f;  // scaling by one: only the op's kind differs
      EXPECT_EQ(tuttiRedOpCreatePreMulSum(&op, &scalar, tuttiFloat32, comm), tuttiSuccess);
      return tuttiAllReduce(f.data(), f.data(), count, tuttiFloat32, op, comm, nullptr);
    }
  }
  return tuttiInternalError;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void runCase(const Case& c, int n, const char* transport) {
  char dir[] = "/tmp/tutti-agreement-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string out = dir;
  RankOptions opt;
  opt.env = {
      {"TUTTI_TIMEOUT_MS", "20000"}, {"TUTTI_TRANSPORT", transport}, {"TUTTI_FLIGHT_DIR", out}};
  runRanks(
      n,
      [&](tuttiComm_t comm, int rank, int nranks) {
        const uint64_t seed = testSeed();
        std::vector<float> f(1001);
        std::vector<int32_t> i32(1001);
        fillInput(f.data(), f.size(), seed, rank, tuttiFloat32, tuttiSum, nranks);
        fillInput(i32.data(), i32.size(), seed, rank, tuttiInt32, tuttiSum, nranks);
        // One agreeing call first: the mismatch is not the communicator's first message.
        ASSERT_EQ(tuttiAllReduce(f.data(), f.data(), 77, tuttiFloat32, tuttiSum, comm, nullptr),
                  tuttiSuccess)
            << tuttiGetLastError(comm) << " (seed " << seed << ")";
        auto t0 = Clock::now();
        tuttiResult_t r = mismatchedCall(c, comm, rank, nranks, f, i32);
        double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        if (r == tuttiSuccess) {
          // Broadcast and Reduce: a rank whose data came from ranks that agree with it (the
          // root's chain) may finish first; its next call must fail at once.
          EXPECT_TRUE(c.kind == Kind::kBroadcastRoot || c.kind == Kind::kReduceRoot)
              << "rank " << rank << " did not notice the mismatch";
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          auto t1 = Clock::now();
          EXPECT_NE(tuttiAllReduce(f.data(), f.data(), 3, tuttiFloat32, tuttiSum, comm, nullptr),
                    tuttiSuccess)
              << "rank " << rank << ": the next call after a mismatch succeeded";
          secs = std::chrono::duration<double>(Clock::now() - t1).count();
          std::ofstream(out + "/" + std::to_string(rank)) << "finished first";
        } else {
          std::ofstream(out + "/" + std::to_string(rank)) << tuttiGetLastError(comm);
        }
        EXPECT_NE(r, tuttiTimeout) << tuttiGetLastError(comm);
        EXPECT_LT(secs, 1.0) << "rank " << rank << ": " << tuttiGetLastError(comm);
      },
      opt);
  // Every rank names its own call; some rank (the one that saw the mismatch) names both.
  const std::string oddCall = replaceOdd(c.oddCall, n - 1), evenCall = c.evenCall;
  bool both = false;
  std::string all;
  for (int r = 0; r < n; ++r) {
    const std::string path = out + "/" + std::to_string(r);
    const std::string msg = readFile(path);
    unlink(path.c_str());
    all += "\n  rank " + std::to_string(r) + ": " + msg;
    if (msg == "finished first") continue;
    EXPECT_NE(msg.find(r == n - 1 ? oddCall : evenCall), std::string::npos)
        << "rank " << r << " does not name its own call: " << msg;
    both |= msg.find(oddCall) != std::string::npos && msg.find(evenCall) != std::string::npos;
  }
  system(("rm -rf " + out).c_str());  // the flight records of the failed ranks too
  EXPECT_TRUE(both) << "no rank named both calls (" << oddCall << " and " << evenCall
                    << "):" << all;
}

class CallAgreement : public ::testing::TestWithParam<std::tuple<int, int, const char*>> {};

TEST_P(CallAgreement, MismatchFailsEveryRankAtOnce) {
  const auto [caseIndex, n, transport] = GetParam();
  if (std::string(transport) == "ucx" && !ucxLoads()) GTEST_SKIP() << "libucp.so.0 does not load";
  runCase(kCases[caseIndex], n, transport);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, CallAgreement,
    ::testing::Combine(::testing::Range(0, static_cast<int>(std::size(kCases))),
                       ::testing::Values(2, 3), ::testing::Values("auto", "socket", "ucx")),
    [](const auto& info) {
      return std::string(kCases[std::get<0>(info.param)].name) + "_" +
             std::to_string(std::get<1>(info.param)) + "ranks_" + std::get<2>(info.param);
    });

// Headers are 32 bytes and the streams 16-byte aligned, so a header can start one slot before
// a FIFO's end and goes in two halves. Tiny FIFOs and staging rings, sizes that shift the
// stream position by odd slots, Broadcast's header-only ring messages, and checksum trailers
// on and off: every result must be right.
class HeadersAcrossTheWrap : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {
};

TEST_P(HeadersAcrossTheWrap, ResultsStayRight) {
  const auto [transport, checksum] = GetParam();
  // socket_direct: every payload from 16 bytes on skips the staging rings (sendDirect,
  // recvDirect) while headers, odd tails and trailers still wrap around the small ring.
  const std::string kind = transport;
  const bool direct = kind == "socket_direct";
  RankOptions opt;
  opt.env = {{"TUTTI_TRANSPORT", direct ? "socket" : transport},
             {"TUTTI_SHM_FIFO_BYTES", "4096"},
             {"TUTTI_SOCKET_STAGING_BYTES", "4096"},
             {"TUTTI_SOCKET_DIRECT_BYTES", direct ? "16" : "0"},
             {"TUTTI_CHECKSUM", checksum},
             {"TUTTI_TIMEOUT_MS", "20000"}};
  runRanks(
      3,
      [](tuttiComm_t comm, int rank, int nranks) {
        const uint64_t seed = testSeed();
        std::vector<int32_t> buf(600), want(600);
        for (int i = 0; i < 300; ++i) {
          const size_t count = 1 + (i * 37) % 67 + (i % 5 == 0 ? 500 : 0);
          fillInput(buf.data(), count, seed + i, rank, tuttiInt32, tuttiSum, nranks);
          if (i % 3 == 2) {
            const int root = i % nranks;
            ASSERT_EQ(
                tuttiBroadcast(buf.data(), buf.data(), count, tuttiInt32, root, comm, nullptr),
                tuttiSuccess)
                << tuttiGetLastError(comm);
            for (size_t e = 0; e < count; ++e)
              ASSERT_EQ(buf[e], static_cast<int32_t>(
                                    inputValue(seed + i, root, e, tuttiInt32, tuttiSum, nranks)))
                  << "call " << i << " element " << e << " (seed " << seed << ")";
            continue;
          }
          ASSERT_EQ(
              tuttiAllReduce(buf.data(), buf.data(), count, tuttiInt32, tuttiSum, comm, nullptr),
              tuttiSuccess)
              << tuttiGetLastError(comm);
          for (size_t e = 0; e < count; ++e) {
            int64_t sum = 0;
            for (int q = 0; q < nranks; ++q)
              sum += static_cast<int64_t>(inputValue(seed + i, q, e, tuttiInt32, tuttiSum, nranks));
            ASSERT_EQ(buf[e], static_cast<int32_t>(sum))
                << "call " << i << " element " << e << " (seed " << seed << ")";
          }
        }
      },
      opt);
}

INSTANTIATE_TEST_SUITE_P(Streams, HeadersAcrossTheWrap,
                         ::testing::Combine(::testing::Values("auto", "socket", "socket_direct"),
                                            ::testing::Values("0", "1")),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_checksum" +
                                  std::get<1>(info.param);
                         });

// TUTTI_ROOT_CHECK=0: no agreement ring; Broadcast and Reduce stay right on every root.
TEST(RootCheckOff, BroadcastAndReduceStayRight) {
  RankOptions opt;
  opt.env = {{"TUTTI_ROOT_CHECK", "0"}, {"TUTTI_TIMEOUT_MS", "20000"}};
  runRanks(
      3,
      [](tuttiComm_t comm, int rank, int nranks) {
        const uint64_t seed = testSeed();
        std::vector<int32_t> buf(257), out(257);
        for (int i = 0; i < 30; ++i) {
          const size_t count = 1 + (i * 41) % 257;
          const int root = i % nranks;
          fillInput(buf.data(), count, seed + i, rank, tuttiInt32, tuttiSum, nranks);
          if (i % 2) {
            ASSERT_EQ(
                tuttiBroadcast(buf.data(), buf.data(), count, tuttiInt32, root, comm, nullptr),
                tuttiSuccess)
                << tuttiGetLastError(comm);
            for (size_t e = 0; e < count; ++e)
              ASSERT_EQ(buf[e], static_cast<int32_t>(
                                    inputValue(seed + i, root, e, tuttiInt32, tuttiSum, nranks)));
          } else {
            ASSERT_EQ(tuttiReduce(buf.data(), out.data(), count, tuttiInt32, tuttiSum, root, comm,
                                  nullptr),
                      tuttiSuccess)
                << tuttiGetLastError(comm);
            if (rank != root) continue;
            for (size_t e = 0; e < count; ++e) {
              int64_t sum = 0;
              for (int q = 0; q < nranks; ++q)
                sum +=
                    static_cast<int64_t>(inputValue(seed + i, q, e, tuttiInt32, tuttiSum, nranks));
              ASSERT_EQ(out[e], static_cast<int32_t>(sum));
            }
          }
        }
      },
      opt);
}

}  // namespace
}  // namespace tutti::testing
