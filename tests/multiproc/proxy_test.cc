// The GPU proxy executor's pipeline on CI machines without a GPU: its streams are emulated by
// host threads (testing/host_stream_ops.h) and its "device buffers" are host memory, but the
// chunking, flags, double-buffered staging, proxy thread, CPU executor and transports are the
// ones a GPU rank without peer mappings runs. tests/gpu runs the same path on a real GPU.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "core/call_checks.h"
#include "core/comm.h"
#include "core/group.h"
#include "multiproc/collective_check.h"
#include "multiproc/executor_check.h"
#include "multiproc/host_proxy.h"
#include "testing/random.h"
#include "testing/reference.h"
#include "testing/run_ranks.h"
#include "testing/thread_names.h"
#include "testing/ucx_loads.h"

namespace tutti::testing {
namespace {

using Clock = std::chrono::steady_clock;

HostStreamOps* gStreams = nullptr;

// Small staging slots, so that every message past a few KiB takes many chunks.
RankOptions proxyOptions() {
  RankOptions opt;
  opt.env = {{"TUTTI_PROXY_CHUNK_BYTES", "8192"}, {"TUTTI_TIMEOUT_MS", "30000"}};
  return opt;
}

// An in-place float sum AllReduce of `buf` on the device path of stream `s`, checked and
// submitted as the API would: the first failure's result, or success.
Result submitOnDevice(tuttiComm_t comm, float* buf, size_t count, StreamHandle s) {
  CollCall c;
  c.collective = Collective::kAllReduce;
  c.sendbuff = c.recvbuff = buf;
  c.count = count;
  c.stream = s;
  TUTTI_TRY(checkCall(comm, c));
  c.onDevice = true;
  return submitCall(comm, std::move(c));
}

struct Sweep {
  Collective collective;
  std::vector<std::string> algorithms;
  bool reduces;
};

void runProxySweep(int nranks, const std::vector<Sweep>& sweeps,
                   const std::vector<std::pair<std::string, std::string>>& env = {}) {
  const uint64_t seed = testSeed();
  RankOptions opt = proxyOptions();
  opt.env.insert(opt.env.end(), env.begin(), env.end());
  runRanks(
      nranks,
      [&](tuttiComm_t comm, int rank, int n) {
        gStreams = installHostProxy(comm);
        StreamHandle stream = gStreams->newStream();
        int failures = 0;
        for (const Sweep& s : sweeps)
          for (const std::string& algo : s.algorithms)
            for (tuttiDataType_t dtype : {tuttiFloat32, tuttiBfloat16, tuttiInt32, tuttiFp8E4M3})
              for (tuttiRedOp_t op : s.reduces ? allOps() : std::vector<tuttiRedOp_t>{tuttiSum})
                for (size_t count : {size_t{1}, size_t{7}, size_t{1001}, size_t{30011}})
                  for (bool inPlace : {false, true}) {
                    if (s.collective == Collective::kAllToAllv && inPlace) continue;
                    if (count > 1001 && op != tuttiSum && op != kTestPreMulSum) continue;
                    const int root = static_cast<int>((count + dtype) % n);
                    CollCase c{s.collective, dtype, op, count, inPlace, root, algo, true};
                    c.stream = stream;
                    c.forceDevicePath = true;
                    std::string err = runCollectiveCase(comm, rank, n, c, seed);
                    if (!err.empty() && failures++ < 5)
                      ADD_FAILURE() << "rank " << rank << ": " << describe(c, n) << " seed=" << seed
                                    << ": " << err;
                  }
      },
      opt);
}

const std::vector<Sweep> kAll = {
    {Collective::kAllReduce, {"ring", "direct", "rd"}, true},
    {Collective::kAllGather, {""}, false},
    {Collective::kReduceScatter, {""}, true},
    {Collective::kAllToAll, {""}, false},
    {Collective::kAllToAllv, {""}, false},
    {Collective::kBroadcast, {""}, false},
    {Collective::kReduce, {""}, true},
};

TEST(ProxyPath, EveryCollectiveTwoRanks) { runProxySweep(2, kAll); }
TEST(ProxyPath, EveryCollectiveThreeRanks) { runProxySweep(3, kAll); }
// The inter-node path of GPU ranks on several hosts: the proxy over sockets striped over three
// streams of 4 KiB chunks (TUTTI_SOCKET_STREAMS), whose threads move the messages from 8 KiB
// on (shorter ones stay on the executor's own socket); payloads from 4 KiB on in direct
// windows to and from the proxy's staging, a 64 KiB ring so that receive windows open too.
TEST(ProxyPath, EveryCollectiveThreeRanksOverStripedSockets) {
  runProxySweep(3, kAll,
                {{"TUTTI_TRANSPORT", "socket"},
                 {"TUTTI_SOCKET_STREAMS", "3"},
                 {"TUTTI_SOCKET_STRIPE_MIN_BYTES", "8192"},
                 {"TUTTI_SOCKET_CHUNK_BYTES", "4096"},
                 {"TUTTI_SOCKET_DIRECT_BYTES", "4096"},
                 {"TUTTI_SOCKET_STAGING_BYTES", "65536"}});
}

// Sends and receives in groups: pieces of several messages per chunk, uneven sizes (one side
// of a pair has more pieces than the other's other messages), and messages to self.
TEST(ProxyPath, SendRecvGroups) {
  runRanks(
      3,
      [](tuttiComm_t comm, int rank, int n) {
        gStreams = installHostProxy(comm);
        StreamHandle s = gStreams->newStream();
        // Floats rank r sends to every peer: a few, many chunks' worth, and in between.
        auto size = [](int r) { return r % 3 == 0 ? 5 : r % 3 == 1 ? 20011 : 4099; };
        std::vector<std::vector<float>> out(n), in(n);
        for (int p = 0; p < n; ++p) {
          out[p].resize(size(rank));
          for (size_t i = 0; i < out[p].size(); ++i) out[p][i] = rank * 1000.0f + p + i * 0.5f;
          in[p].assign(size(p), -1.0f);
        }
        ASSERT_EQ(tuttiGroupStart(), tuttiSuccess);
        for (int k = 0; k < n; ++k) {
          const int to = (rank + k) % n, from = (rank - k + n) % n;
          CollCall send;
          send.collective = Collective::kSend;
          send.sendbuff = out[to].data();
          send.count = out[to].size();
          send.peer = to;
          send.stream = s;
          CollCall recv;
          recv.collective = Collective::kRecv;
          recv.recvbuff = in[from].data();
          recv.count = in[from].size();
          recv.peer = from;
          recv.stream = s;
          for (CollCall* c : {&send, &recv}) {
            ASSERT_EQ(checkCall(comm, *c), tuttiSuccess) << lastError();
            c->onDevice = true;
            ASSERT_EQ(submitCall(comm, std::move(*c)), tuttiSuccess) << lastError();
          }
        }
        ASSERT_EQ(tuttiGroupEnd(), tuttiSuccess) << tuttiGetLastError(comm);
        gStreams->sync(s);
        tuttiResult_t async;
        ASSERT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
        ASSERT_EQ(async, tuttiSuccess) << tuttiGetLastError(comm);
        for (int p = 0; p < n; ++p)
          for (size_t i = 0; i < in[p].size(); ++i)
            ASSERT_EQ(in[p][i], p * 1000.0f + rank + i * 0.5f) << "from " << p << " at " << i;
      },
      proxyOptions());
}

// Calls alternate between two streams and two threads (taking turns, as a program that orders
// its threads must): the proxy serves them in call order on every rank.
TEST(ProxyPath, SeveralStreamsAndThreads) {
  runRanks(
      3,
      [](tuttiComm_t comm, int rank, int n) {
        gStreams = installHostProxy(comm);
        StreamHandle streams[2] = {gStreams->newStream(), gStreams->newStream()};
        constexpr int kCalls = 24;
        constexpr size_t kCount = 5003;
        std::vector<std::vector<float>> bufs(kCalls, std::vector<float>(kCount));
        for (int k = 0; k < kCalls; ++k)
          for (size_t i = 0; i < kCount; ++i) bufs[k][i] = static_cast<float>(rank + k + i % 7);
        std::mutex m;
        std::condition_variable cv;
        int turn = 0;
        auto worker = [&](int t) {
          for (int k = t; k < kCalls; k += 2) {
            std::unique_lock<std::mutex> lock(m);
            cv.wait(lock, [&] { return turn == k; });
            EXPECT_EQ(submitOnDevice(comm, bufs[k].data(), kCount, streams[k % 2]), tuttiSuccess)
                << lastError();
            ++turn;
            cv.notify_all();
          }
        };
        std::thread a(worker, 0), b(worker, 1);
        a.join();
        b.join();
        gStreams->sync(streams[0]);
        gStreams->sync(streams[1]);
        for (int k = 0; k < kCalls; ++k)
          for (size_t i = 0; i < kCount; ++i) {
            float want = 0;
            for (int r = 0; r < n; ++r) want += static_cast<float>(r + k + i % 7);
            ASSERT_EQ(bufs[k][i], want) << "call " << k << " element " << i;
          }
      },
      proxyOptions());
}

TEST(ProxyPath, GraphCaptureIsAClearError) {
  runRanks(2, [](tuttiComm_t comm, int rank, int n) {
    gStreams = installHostProxy(comm);
    StreamHandle s = gStreams->newStream();
    std::vector<float> buf(100, 1.0f);
    CollCall c;
    c.collective = Collective::kAllReduce;
    c.sendbuff = c.recvbuff = buf.data();
    c.count = buf.size();
    c.stream = s;
    ASSERT_EQ(checkCall(comm, c), tuttiSuccess);
    c.onDevice = true;
    gStreams->setCapturing(s, true);
    CollCall copy = c;
    EXPECT_EQ(submitCall(comm, std::move(copy)), tuttiInvalidUsage);
    EXPECT_NE(lastError().find("cannot be captured in a CUDA graph"), std::string::npos)
        << lastError();
    // Nothing was enqueued; the communicator stays usable.
    gStreams->setCapturing(s, false);
    EXPECT_EQ(submitCall(comm, std::move(c)), tuttiSuccess) << lastError();
    gStreams->sync(s);
    EXPECT_EQ(buf[0], static_cast<float>(n));
  });
}

// An idle proxy sleeps: under 1% of a core (10 ms of CPU time per second) with nothing queued.
TEST(ProxyPath, IdleProxySleeps) {
  runRanks(2, [](tuttiComm_t comm, int rank, int n) {
    gStreams = installHostProxy(comm);
    StreamHandle s = gStreams->newStream();
    std::vector<float> buf(4096, 1.0f);
    for (int k = 0; k < 3; ++k) {
      ASSERT_EQ(submitOnDevice(comm, buf.data(), buf.size(), s), tuttiSuccess) << lastError();
    }
    gStreams->sync(s);
    auto cpuSeconds = [] {
      rusage u;
      getrusage(RUSAGE_SELF, &u);
      return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
             (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
    };
    const double before = cpuSeconds();
    sleep(2);
    const double used = cpuSeconds() - before;
    EXPECT_LT(used, 0.02) << "an idle communicator used " << used << " s of CPU in 2 s";
    printf("rank %d: idle CPU %.3f%% of a core\n", rank, used / 2 * 100);
  });
}

// A host-buffer call made after device calls waits for them, so both keep their order on every
// rank even when one rank's stream is late.
TEST(ProxyPath, HostCallsWaitForDeviceWork) {
  runRanks(
      2,
      [](tuttiComm_t comm, int rank, int n) {
        gStreams = installHostProxy(comm);
        StreamHandle s = gStreams->newStream();
        if (rank == 0) {  // a long kernel ahead of the collective on rank 0's stream
          static volatile uint32_t gate = 0;
          gStreams->waitFlag(&gate, 1, s);
          std::thread([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
          }).detach();
        }
        std::vector<float> dev(50000, 1.0f + rank), host(777, 10.0f * (rank + 1));
        ASSERT_EQ(submitOnDevice(comm, dev.data(), dev.size(), s), tuttiSuccess) << lastError();
        ASSERT_EQ(tuttiAllReduce(host.data(), host.data(), host.size(), tuttiFloat32, tuttiSum,
                                 comm, nullptr),
                  tuttiSuccess)
            << tuttiGetLastError(comm);
        gStreams->sync(s);
        EXPECT_EQ(dev[123], 3.0f);
        EXPECT_EQ(host[5], 30.0f);
      },
      proxyOptions());
}

// A peer that dies while chunks are in flight: the proxy fails, releases every stream waiting
// on it, and the error reaches the caller; nothing hangs.
TEST(ProxyPath, DeadPeerReleasesStreams) {
  RankOptions opt = proxyOptions();
  opt.env[1] = {"TUTTI_TIMEOUT_MS", "5000"};
  opt.expectKilled = {1};
  runRanks(
      3,
      [](tuttiComm_t comm, int rank, int n) {
        gStreams = installHostProxy(comm);
        StreamHandle s = gStreams->newStream();
        std::vector<float> buf(4u << 20, 1.0f);  // 16 MiB: thousands of 8 KiB chunks
        if (rank == 1) {
          std::thread([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            kill(getpid(), SIGKILL);
          }).detach();
        }
        const auto t0 = Clock::now();
        for (int k = 0; k < 4; ++k) {
          if (submitOnDevice(comm, buf.data(), buf.size(), s) != tuttiSuccess) break;
        }
        gStreams->sync(s);  // returns: the proxy released the stream
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        tuttiResult_t async = tuttiSuccess;
        ASSERT_EQ(tuttiCommGetAsyncError(comm, &async), tuttiSuccess);
        EXPECT_NE(async, tuttiSuccess);
        EXPECT_LT(secs, 5.0 + 2.0) << tuttiGetLastError(comm);
        EXPECT_NE(std::string(tuttiGetLastError(comm)).find("host proxy"), std::string::npos)
            << tuttiGetLastError(comm);
      },
      opt);
}

// Registered before the communicator exists, so it runs after what the communicator
// registered at exit: by then the proxy thread must be gone, and promptly.
Clock::time_point gExitCalled;
StreamHandle gExitStream;
void failIfTheProxyOutlivesExit() {
  const std::string alive = threadsNamed("tutti-proxy");
  const double secs = std::chrono::duration<double>(Clock::now() - gExitCalled).count();
  if (!alive.empty() || secs > 5.0) {
    fprintf(stderr, "at exit, after %.1f s: proxy threads %s\n", secs,
            alive.empty() ? "none" : alive.c_str());
    _exit(9);
  }
  // The stream waited on the call's flags: it must have been let go (a GPU stream left waiting
  // would hold up the context's teardown).
  std::atomic<bool> released{false};
  std::thread([&released] {
    gStreams->sync(gExitStream);
    released = true;
  }).detach();
  for (int i = 0; i < 200 && !released; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!released) {
    fprintf(stderr, "at exit: the stream is still waiting on the proxy\n");
    _exit(10);
  }
#if defined(__SANITIZE_ADDRESS__)
  _exit(0);  // the rest of exit would be LeakSanitizer reporting the communicator left on purpose
#endif
}

// A process that exits without destroying its communicator while a device call is in flight on
// the proxy (rank 1's AllReduce, which rank 0 never joins): at exit the call ends as an abort
// would end it, the proxy thread is joined and its streams released, before CUDA and the
// network libraries go. Without the stop the proxy thread was still waiting for rank 0.
void expectExitStopsTheProxy(const std::vector<std::pair<std::string, std::string>>& env) {
  int pidPipe[2];
  ASSERT_EQ(pipe(pidPipe), 0);
  RankOptions opt = proxyOptions();
  opt.env.insert(opt.env.end(), env.begin(), env.end());
  opt.beforeInit = [](int rank) {
    if (rank == 1) {
      ASSERT_EQ(atexit(failIfTheProxyOutlivesExit), 0);
    }
  };
  runRanks(
      2,
      [&](tuttiComm_t comm, int rank, int) {
        gStreams = installHostProxy(comm);
        if (rank == 0) {  // waits for rank 1 to be gone, joining nothing
          pid_t peer = 0;
          ASSERT_EQ(read(pidPipe[0], &peer, sizeof(peer)), static_cast<ssize_t>(sizeof(peer)));
          const auto until = Clock::now() + std::chrono::seconds(20);
          while (kill(peer, 0) == 0 && Clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          return;
        }
        StreamHandle s = gStreams->newStream();
        gExitStream = s;
        std::vector<float> buf(1u << 20, 1.0f);
        ASSERT_EQ(submitOnDevice(comm, buf.data(), buf.size(), s), tuttiSuccess) << lastError();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the proxy waits for rank 0
        ASSERT_FALSE(threadsNamed("tutti-proxy").empty());
        const pid_t me = getpid();
        ASSERT_EQ(write(pidPipe[1], &me, sizeof(me)), static_cast<ssize_t>(sizeof(me)));
        fflush(nullptr);
        gExitCalled = Clock::now();
        exit(0);  // no tuttiCommDestroy, no stream sync
      },
      opt);
  close(pidPipe[0]);
  close(pidPipe[1]);
}

TEST(ProxyPath, ExitWithACallInFlightStopsTheProxyFirst) { expectExitStopsTheProxy({}); }

// The same with rank 0 on another host over UCX with 2 stripe workers, whose threads the exit
// stops too (before the proxy's call fails and tells the peer).
TEST(ProxyPath, ExitWithACallInFlightOverUcxStopsTheProxyFirst) {
  if (std::string whyNot; !ucxLoads(&whyNot))
    GTEST_SKIP() << "libucp.so.0 cannot be loaded here: " << whyNot;
  expectExitStopsTheProxy({{"TUTTI_NET", "ucx"},
                           {"UCX_TLS", "tcp"},
                           {"TUTTI_UCX_WORKERS", "2"},
                           {"TUTTI_RANKS_PER_NODE", "1"}});
}

// Device buffers to peers across the network are staged through pinned host memory, and the
// proxy's INFO line says so and why: no network transport takes device memory (sockets; UCX
// without CUDA), or UCX does but Tutti has no GPUDirect RDMA path. Over UCX, which of the two
// must match what the UCX transport's own line reports.
void expectStagingLogged(const std::vector<std::pair<std::string, std::string>>& net, bool ucx) {
  const LogDir dir;
  RankOptions opt = infoLogOptions(dir);
  const RankOptions proxy = proxyOptions();
  opt.env.insert(opt.env.end(), proxy.env.begin(), proxy.env.end());
  opt.env.insert(opt.env.end(), net.begin(), net.end());
  opt.env.push_back({"TUTTI_RANKS_PER_NODE", "1"});  // each rank a host: every peer across
  runRanks(
      2,
      [&](tuttiComm_t comm, int rank, int) {
        gStreams = installHostProxy(comm);
        if (rank != 0) return;  // rank 0 writes the line
        const std::string text = dir.read();
        const size_t at = text.find("GPU path: host proxy");
        ASSERT_NE(at, std::string::npos) << text;
        const std::string line = text.substr(at, text.find('\n', at) - at);
        const bool ucxCuda = text.find(", CUDA memory") != std::string::npos;
        if (ucx) {  // the peer went over UCX, whose line says what memory it takes
          EXPECT_TRUE(ucxCuda || text.find(", host memory only") != std::string::npos) << text;
        }
        if (ucxCuda) {
          EXPECT_NE(line.find("network peers staged too, although UCX takes device memory for 1 "
                              "of 1: Tutti has no GPUDirect RDMA path"),
                    std::string::npos)
              << line;
        } else {
          EXPECT_NE(line.find("network peers staged too (GPUDirect RDMA needs UCX built with "
                              "CUDA: none of this rank's network transports takes device memory)"),
                    std::string::npos)
              << line;
        }
      },
      opt);
}

TEST(ProxyPath, NetworkPeersOverSocketsAreStagedAndLogged) {
  expectStagingLogged({{"TUTTI_NET", "socket"}}, false);
}

TEST(ProxyPath, NetworkPeersOverUcxAreStagedAndLogged) {
  std::string why;
  if (!ucxLoads(&why)) GTEST_SKIP() << "libucp.so.0 cannot be loaded here: " << why;
  expectStagingLogged({{"TUTTI_NET", "ucx"}, {"UCX_TLS", "tcp"}, {"TUTTI_UCX_WORKERS", "1"}}, true);
}

}  // namespace
}  // namespace tutti::testing
