// Fault injection (TUTTI_FAULT): every kind (kill, hang, close, delay, corrupt with
// TUTTI_CHECKSUM=1) at every hook the CPU path has (send, receive, bootstrap), over shared
// memory, sockets and UCX when registered, on 3 ranks; and at the proxy over host-emulated streams.
// Every rank returns an error within the timeout + 1 s, or for a delay the right result; the killed
// rank dies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "core/call_checks.h"
#include "core/comm.h"
#include "core/group.h"
#include "multiproc/host_proxy.h"
#include "testing/param_name.h"
#include "testing/random.h"
#include "testing/run_ranks.h"
#include "testing/ucx_loads.h"
#include "transport/transport_factory.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRanks = 3, kVictim = 1, kFaultCall = 2, kCalls = 4, kTimeoutMs = 1500;
constexpr size_t kCount = 1001;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool transportRegistered(const std::string& name) {
  PeerConnections pc;
  if (createTransports(&pc) != tuttiSuccess) return false;
  for (const auto& t : pc.types)
    if (name == t->name()) return true;
  return false;
}

struct FaultCase {
  std::string kind, where, transport;
};

// Readable ctest names ("kill at send over auto") instead of the struct's bytes.
void PrintTo(const FaultCase& c, std::ostream* os) {
  *os << c.kind << " at " << c.where << " over " << c.transport;
}

std::string caseName(const ::testing::TestParamInfo<FaultCase>& info) {
  return paramName(info.param.kind) + "_" + info.param.where + "_" + info.param.transport;
}

class FaultInjection : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultInjection, EveryRankErrorsInTime) {
  const FaultCase fc = GetParam();
  if (fc.transport == "ucx" && (!transportRegistered("ucx") || !ucxLoads()))
    GTEST_SKIP() << "no UCX here (transport not registered or libucp.so.0 does not load)";
  const bool kill = fc.kind == "kill";
  const bool delay = fc.kind.rfind("delay", 0) == 0;
  const bool bootstrap = fc.where == "bootstrap";
  // socket_direct: sockets with every payload from 16 bytes on sent from and received into
  // the caller's buffers (TUTTI_SOCKET_DIRECT_BYTES), the path large messages take.
  // socket_striped: sockets striped over three streams of 4 KiB chunks, each moved by its own
  // threads (TUTTI_SOCKET_STREAMS), with short messages routed to a socket of their own.
  // socket_striped_direct: the same with the stream threads moving payloads straight from and into
  // the caller's buffers (messages of ~53 KB, twice the 24 KiB ring, so receive windows open too).
  const bool stripedDirect = fc.transport == "socket_striped_direct";
  const bool direct = fc.transport == "socket_direct" || stripedDirect;
  const bool striped = fc.transport == "socket_striped" || stripedDirect;
  const size_t count = stripedDirect ? 40001 : kCount;
  RankOptions opt;
  opt.env = {
      {"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)},
      {"TUTTI_TRANSPORT", direct || striped ? "socket" : fc.transport},
      {"TUTTI_SOCKET_STREAMS", striped ? "3" : "1"},
      {"TUTTI_SOCKET_CHUNK_BYTES", "4096"},
      // Striped: messages from 8 KiB on go to the stream threads, shorter ones (the 16-byte
      // agreement tokens, the small collectives) stay on the executor's own socket.
      {"TUTTI_SOCKET_STRIPE_MIN_BYTES", "8192"},
      {"TUTTI_SOCKET_DIRECT_BYTES", direct ? "16" : "0"},
      {"TUTTI_FLIGHT_RECORDER", "0"},
      {"TUTTI_FAULT", "rank=" + std::to_string(kVictim) + ",call=" + std::to_string(kFaultCall) +
                          ",kind=" + fc.kind + ",where=" + fc.where}};
  if (fc.kind == "corrupt") opt.env.push_back({"TUTTI_CHECKSUM", "1"});
  if (kill) opt.expectKilled = {kVictim};
  opt.createComm = false;
  runRanks(
      kRanks,
      [&](tuttiComm_t, int rank, int nranks) {
        const uint64_t seed = testSeed();
        auto t0 = Clock::now();
        tuttiComm_t comm = nullptr;
        tuttiResult_t r = tuttiCommInitRank(&comm, nranks, currentUniqueId(), rank);
        if (bootstrap && !delay) {
          EXPECT_NE(r, tuttiSuccess) << "rank " << rank << " (seed " << seed << ")";
          EXPECT_LT(since(t0), kTimeoutMs / 1000.0 + 1.0) << "rank " << rank;
          // The others' errors name the ring neighbours they lost (both are the victim's
          // neighbours on 3 ranks): "bootstrap all-gather step 0 (from rank 1, to rank 0)".
          const std::string msg = tuttiGetLastError(nullptr);
          if (rank != kVictim) {
            EXPECT_NE(msg.find("bootstrap all-gather step"), std::string::npos) << msg;
            EXPECT_NE(msg.find("rank " + std::to_string(kVictim)), std::string::npos) << msg;
          }
          if (r == tuttiSuccess) tuttiCommDestroy(comm);
          return;
        }
        ASSERT_EQ(r, tuttiSuccess) << "rank " << rank;
        // Integers: the reference sum is exact whatever the reduction order.
        std::vector<int32_t> buf(count), want(count);
        for (int i = 0; i < kCalls; ++i) {
          fillInput(buf.data(), count, seed + i, rank, tuttiInt32, tuttiSum, nranks);
          t0 = Clock::now();
          r = tuttiAllReduce(buf.data(), buf.data(), count, tuttiInt32, tuttiSum, comm, nullptr);
          if (r != tuttiSuccess) break;
          for (size_t e = 0; e < count; ++e) {
            int64_t sum = 0;
            for (int q = 0; q < nranks; ++q)
              sum += static_cast<int64_t>(inputValue(seed + i, q, e, tuttiInt32, tuttiSum, nranks));
            want[e] = static_cast<int32_t>(sum);
          }
          ASSERT_EQ(buf, want) << "rank " << rank << " call " << i << " (seed " << seed << ")";
        }
        if (delay || bootstrap) {
          EXPECT_EQ(r, tuttiSuccess) << "rank " << rank << ": " << tuttiGetLastError(comm);
        } else {
          EXPECT_NE(r, tuttiSuccess) << "rank " << rank << " saw no fault";
          EXPECT_LT(since(t0), kTimeoutMs / 1000.0 + 1.0)
              << "rank " << rank << ": " << tuttiGetLastError(comm);
          if (fc.kind == "corrupt" && rank != kVictim) {
            EXPECT_NE(std::string(tuttiGetLastError(comm)).find("rank"), std::string::npos);
          }
        }
        if (r == tuttiSuccess)
          tuttiCommDestroy(comm);
        else
          tuttiCommAbort(comm);
      },
      opt);
}

std::vector<FaultCase> allCases() {
  std::vector<FaultCase> out;
  for (const char* t :
       {"auto", "socket", "socket_direct", "socket_striped", "socket_striped_direct", "ucx"}) {
    for (const char* w : {"send", "recv"})
      for (const char* k : {"kill", "hang", "close", "delay:300ms", "corrupt"})
        out.push_back({k, w, t});
    if (std::string(t).rfind("socket_", 0) == 0) continue;  // its bootstrap is the socket one
    for (const char* k : {"kill", "hang", "close", "delay:300ms"})
      out.push_back({k, "bootstrap", t});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Matrix, FaultInjection, ::testing::ValuesIn(allCases()), caseName);

// where=proxy: the GPU proxy executor over host-emulated streams (multiproc/host_proxy.h), the
// pipeline a GPU rank without peer mappings runs. Small staging slots: many chunks per call.
class ProxyFault : public ::testing::TestWithParam<std::string> {};

TEST_P(ProxyFault, EveryRankErrorsInTimeOrIsRight) {
  const std::string kind = GetParam();
  const bool kill = kind == "kill", delay = kind.rfind("delay", 0) == 0;
  const bool corrupt = kind == "corrupt";
  RankOptions opt;
  opt.env = {{"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)},
             {"TUTTI_PROXY_CHUNK_BYTES", "8192"},
             {"TUTTI_FLIGHT_RECORDER", "0"},
             {"TUTTI_CHECKSUM", "1"},
             {"TUTTI_FAULT", "rank=" + std::to_string(kVictim) + ",call=" +
                                 std::to_string(kFaultCall) + ",kind=" + kind + ",where=proxy"}};
  if (kill) opt.expectKilled = {kVictim};
  runRanks(
      kRanks,
      [&](tuttiComm_t comm, int rank, int nranks) {
        HostStreamOps* streams = installHostProxy(comm);
        StreamHandle stream = streams->newStream();
        const uint64_t seed = testSeed();
        const size_t count = 5003;  // several 8 KiB chunks
        std::vector<std::vector<int32_t>> bufs(kCalls, std::vector<int32_t>(count));
        const auto t0 = Clock::now();
        for (int k = 0; k < kCalls; ++k) {
          fillInput(bufs[k].data(), count, seed + k, rank, tuttiInt32, tuttiSum, nranks);
          CollCall c;
          c.collective = Collective::kAllReduce;
          c.dtype = tuttiInt32;
          c.sendbuff = c.recvbuff = bufs[k].data();
          c.count = count;
          c.stream = stream;
          if (checkCall(comm, c) != tuttiSuccess) break;
          c.onDevice = true;
          if (submitCall(comm, std::move(c)) != tuttiSuccess) break;
        }
        streams->sync(stream);
        const double secs = since(t0);
        tuttiResult_t async = tuttiSuccess;
        ASSERT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
        if (!delay && !corrupt) {
          EXPECT_NE(async, tuttiSuccess) << "rank " << rank;
          EXPECT_LT(secs, kTimeoutMs / 1000.0 + 1.0)
              << "rank " << rank << ": " << tuttiGetLastError(comm);
          return;
        }
        EXPECT_EQ(async, tuttiSuccess) << "rank " << rank << ": " << tuttiGetLastError(comm);
        size_t wrong = 0;
        for (int k = 0; k < kCalls; ++k)
          for (size_t e = 0; e < count; ++e) {
            int64_t sum = 0;
            for (int q = 0; q < nranks; ++q)
              sum += static_cast<int64_t>(inputValue(seed + k, q, e, tuttiInt32, tuttiSum, nranks));
            wrong += bufs[k][e] != static_cast<int32_t>(sum);
          }
        // A corrupted staged chunk is corrupted before any checksum (like a memory error): one
        // element of the victim's contribution, so every rank holds the same wrong sum.
        EXPECT_EQ(wrong, corrupt ? 1u : 0u) << "rank " << rank << " (seed " << seed << ")";
      },
      opt);
}

INSTANTIATE_TEST_SUITE_P(Kinds, ProxyFault,
                         ::testing::Values("kill", "hang", "close", "delay:300ms", "corrupt"),
                         [](const auto& info) { return paramName(info.param); });

}  // namespace
}  // namespace tutti::testing
