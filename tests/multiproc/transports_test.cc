// The transport factory: one type per pair, the same on both sides, a disagreement fails init on
// every rank naming both, and the choice per peer is logged.
#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/fd_budget.h"
#include "bootstrap/socket.h"

#include "multiproc/collective_check.h"
#include "testing/random.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int allReduceOnce(tuttiComm_t comm, int rank) {
  int v = rank + 1, out = 0;
  EXPECT_EQ(tuttiAllReduce(&v, &out, 1, tuttiInt32, tuttiSum, comm, nullptr), tuttiSuccess)
      << tuttiGetLastError(comm);
  return out;
}

TEST(Transports, DisagreementFailsInitOnEveryRankNamingBothSides) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", "20000"}};
  runRanks(
      3,
      [](tuttiComm_t, int rank, int n) {
        // Rank 2 insists on sockets; ranks 0 and 1 would use shared memory with it.
        if (rank == 2) setenv("TUTTI_TRANSPORT", "socket", 1);
        tuttiComm_t comm = nullptr;
        tuttiResult_t r = tuttiCommInitRank(&comm, n, currentUniqueId(), rank);
        EXPECT_EQ(r, tuttiInvalidUsage) << tuttiGetLastError(nullptr);
        EXPECT_EQ(comm, nullptr);
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_NE(msg.find("rank 0 would reach rank 2 over shm but rank 2 would reach rank 0 "
                           "over socket"),
                  std::string::npos)
            << msg;
      },
      opt);
}

// The IPv4 TCP ports this process listens on (from /proc/self/net/tcp, matched against this
// process's socket inodes), as "a.b.c.d:port".
std::vector<std::string> myListeningAddresses() {
  std::set<std::string> inodes;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      char target[64] = {};
      const std::string link = std::string("/proc/self/fd/") + e->d_name;
      if (readlink(link.c_str(), target, sizeof(target) - 1) > 0 &&
          strncmp(target, "socket:[", 8) == 0)
        inodes.insert(std::string(target + 8, strlen(target) - 9));
    }
    closedir(d);
  }
  std::vector<std::string> out;
  std::istringstream tcp(readFile("/proc/self/net/tcp"));
  std::string line;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer, retr, uid, timeout, inode;
    f >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (state != "0A" || !inodes.count(inode)) continue;  // 0A: LISTEN
    const uint32_t ip = static_cast<uint32_t>(std::stoul(local.substr(0, 8), nullptr, 16));
    const unsigned port = static_cast<unsigned>(std::stoul(local.substr(9), nullptr, 16));
    char text[32];
    snprintf(text, sizeof(text), "%u.%u.%u.%u:%u", ip & 0xff, (ip >> 8) & 0xff, (ip >> 16) & 0xff,
             ip >> 24, port);
    out.push_back(text);
  }
  return out;
}

// A silent stranger on the socket transport's port while a peer is on its way: rank 0 opens
// its transport listener, a thread of its own connects to it and says nothing, and rank 1
// comes 2 s later (held after the rendezvous by TUTTI_FAULT). Init must go through long before
// the 8 s timeout; the acceptor used to wait on the stranger for the whole timeout and fail.
TEST(Transports, SilentStrangerOnTheSocketPortDoesNotHoldInitUp) {
  constexpr int kTimeoutMs = 8000;
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_RANKS_PER_NODE", "1"},
             {"TUTTI_NET", "socket"},
             {"TUTTI_TIMEOUT_MS", std::to_string(kTimeoutMs)},
             {"TUTTI_FAULT", "rank=1,kind=delay:2000ms,where=bootstrap"}};
  runRanks(
      2,
      [](tuttiComm_t, int rank, int n) {
        std::vector<Socket> strangers;
        std::thread stranger;
        if (rank == 0)
          stranger = std::thread([&] {
            // By now the rendezvous is over and the ring listener closed: what listens here is
            // the socket transport, waiting for rank 1.
            std::this_thread::sleep_for(std::chrono::milliseconds(1000));
            for (const std::string& at : myListeningAddresses()) {
              SocketAddress a;
              Socket c;
              if (parseHostPort(at, &a) == tuttiSuccess &&
                  Socket::connect(a, Deadline::afterMs(1000), nullptr, &c) == tuttiSuccess)
                strangers.push_back(std::move(c));
            }
          });
        const auto t0 = std::chrono::steady_clock::now();
        tuttiComm_t comm = nullptr;
        const tuttiResult_t r = tuttiCommInitRank(&comm, n, currentUniqueId(), rank);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (stranger.joinable()) stranger.join();
        if (rank == 0) {
          EXPECT_GE(strangers.size(), 1u) << "nothing was listening for the stranger to hold";
        }
        ASSERT_EQ(r, tuttiSuccess) << "rank " << rank << ": " << tuttiGetLastError(nullptr);
        EXPECT_LT(secs, kTimeoutMs / 2000.0) << "rank " << rank;
        EXPECT_EQ(allReduceOnce(comm, rank), 3);
        tuttiCommDestroy(comm);
      },
      opt);
}

TEST(Transports, ForcedSocketsOnEveryRankWork) {
  RankOptions opt;
  opt.env = {{"TUTTI_TRANSPORT", "socket"}};
  runRanks(
      3, [](tuttiComm_t comm, int rank, int n) { EXPECT_EQ(allReduceOnce(comm, rank), 6); }, opt);
}

TEST(Transports, SocketsStripedOverSeveralStreamsWork) {
  RankOptions opt;
  opt.env = {{"TUTTI_TRANSPORT", "socket"}, {"TUTTI_SOCKET_STREAMS", "4"}};
  runRanks(
      3, [](tuttiComm_t comm, int rank, int n) { EXPECT_EQ(allReduceOnce(comm, rank), 6); }, opt);
}

// Striped sockets route by length: short messages on the executor's own socket, long ones on
// the stream threads (TUTTI_SOCKET_STRIPE_MIN_BYTES; 0 stripes every message). Both routes, and
// every message in between, keep the stream's order.
TEST(Transports, StripedSocketsRouteShortAndLongMessages) {
  for (const char* stripeMin : {"4096", "0"}) {
    RankOptions opt;
    opt.env = {{"TUTTI_TRANSPORT", "socket"},
               {"TUTTI_SOCKET_STREAMS", "2"},
               {"TUTTI_SOCKET_CHUNK_BYTES", "4096"},
               {"TUTTI_SOCKET_STRIPE_MIN_BYTES", stripeMin}};
    runRanks(
        3,
        [](tuttiComm_t comm, int rank, int n) {
          for (size_t count : {size_t{3}, size_t{5000}, size_t{3}, size_t{70001}, size_t{17}}) {
            std::vector<float> buf(count);
            for (size_t i = 0; i < count; ++i) buf[i] = static_cast<float>((rank + 1) * (i % 7));
            ASSERT_EQ(tuttiAllReduce(buf.data(), buf.data(), count, tuttiFloat32, tuttiSum, comm,
                                     nullptr),
                      tuttiSuccess)
                << tuttiGetLastError(comm);
            for (size_t i = 0; i < count; ++i)
              ASSERT_EQ(buf[i], static_cast<float>(6 * (i % 7))) << "count " << count << " i " << i;
          }
        },
        opt);
  }
}

// Sockets over 16 streams: 2 peers x 17 sockets (16 streams and the executor's own) per rank.
RankOptions manySocketsOptions() {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {
      {"TUTTI_TRANSPORT", "socket"}, {"TUTTI_SOCKET_STREAMS", "16"}, {"TUTTI_TIMEOUT_MS", "30000"}};
  return opt;
}

// A soft limit of open files too short for the connections, under a hard limit that holds
// them: each rank raises its soft limit itself (without that, init failed with "Too many open
// files" on one rank and the others waited).
TEST(Transports, ShortSoftLimitOfOpenFilesIsRaisedForTheSockets) {
  runRanks(
      3,
      [](tuttiComm_t, int rank, int n) {
        rlimit before{};
        ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
        rlimit l = before;
        l.rlim_cur = static_cast<rlim_t>(fdAskHere(0).open + 20);
        ASSERT_LE(l.rlim_cur, l.rlim_max) << "the hard limit here is too short for the test";
        ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &l), 0);
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        rlimit after{};
        ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
        EXPECT_GT(after.rlim_cur, l.rlim_cur);
        EXPECT_EQ(after.rlim_max, before.rlim_max) << "the hard limit is the user's";
        EXPECT_EQ(allReduceOnce(comm, rank), 6);
        tuttiCommDestroy(comm);
      },
      manySocketsOptions());
}

// One rank whose hard limit cannot hold its sockets fails every rank's init at once, naming
// itself and its limits, instead of one "Too many open files" and timeouts elsewhere.
TEST(Transports, OneRanksShortHardLimitOfOpenFilesFailsEveryRankNamingIt) {
  runRanks(
      3,
      [](tuttiComm_t, int rank, int n) {
        if (rank == 1) {
          // Room for the bootstrap, not for 34 sockets and the reserve.
          const rlim_t cap = static_cast<rlim_t>(fdAskHere(0).open + 80);
          const rlimit l{cap, cap};
          ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &l), 0);
        }
        const auto t0 = std::chrono::steady_clock::now();
        tuttiComm_t comm = nullptr;
        const tuttiResult_t r = tuttiCommInitRank(&comm, n, currentUniqueId(), rank);
        EXPECT_EQ(r, rank == 1 ? tuttiSystemError : tuttiRemoteError) << tuttiGetLastError(nullptr);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20))
            << "rank " << rank << " waited for the timeout";
        const std::string msg = tuttiGetLastError(nullptr);
        for (const char* s : {"rank 1 cannot open the 34 file descriptors its socket connections",
                              "hard limit (RLIMIT_NOFILE) is", "TUTTI_SOCKET_STREAMS=1"})
          EXPECT_NE(msg.find(s), std::string::npos) << msg;
      },
      manySocketsOptions());
}

// Each receiver sizes its own shared-memory FIFOs and senders take the size from the
// segment: ranks of one host with different TUTTI_SHM_FIFO_BYTES (8 KiB, 64 KiB, and the
// automatic size) run every collective correctly, messages wrapping the small FIFOs many times.
TEST(Transports, ShmFifoSizesMayDifferBetweenRanks) {
  RankOptions opt;
  opt.env = {{"TUTTI_TRANSPORT", "shm"}};
  opt.beforeInit = [](int rank) {
    if (rank == 0) setenv("TUTTI_SHM_FIFO_BYTES", "8192", 1);
    if (rank == 1) setenv("TUTTI_SHM_FIFO_BYTES", "64K", 1);
  };
  const uint64_t seed = testSeed();
  runRanks(
      3,
      [&](tuttiComm_t comm, int rank, int n) {
        for (Collective c : {Collective::kAllReduce, Collective::kAllGather,
                             Collective::kReduceScatter, Collective::kAllToAll})
          for (size_t count : {size_t{3}, size_t{5001}, size_t{70001}})
            for (bool inPlace : {false, true}) {
              CollCase cc{c, tuttiFloat32, tuttiSum, count, inPlace, 0, ""};
              EXPECT_EQ(runCollectiveCase(comm, rank, n, cc, seed), "")
                  << "rank " << rank << ": " << describe(cc, n);
            }
      },
      opt);
}

TEST(Transports, ShmFifoSizeOutOfRangeNamesTheVariable) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {
      {"TUTTI_TRANSPORT", "shm"}, {"TUTTI_SHM_FIFO_BYTES", "100"}, {"TUTTI_TIMEOUT_MS", "30000"}};
  runRanks(
      2,
      [](tuttiComm_t, int rank, int n) {
        const auto t0 = std::chrono::steady_clock::now();
        tuttiComm_t comm = nullptr;
        EXPECT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiInvalidArgument);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20))
            << "rank " << rank << " waited for the timeout";
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_NE(msg.find("TUTTI_SHM_FIFO_BYTES=100: expected 4096 bytes to 1 GiB"),
                  std::string::npos)
            << msg;
      },
      opt);
}

// Two ranks whose variable `var` differs (rank 0: value0, rank 1: value1) over `env`: init
// fails at once on both, with tuttiInvalidArgument and every string of `named` in the error,
// instead of waiting for the timeout.
void expectMismatchFailsInit(const std::vector<std::pair<std::string, std::string>>& env,
                             const std::string& var, const std::string& value0,
                             const std::string& value1, const std::vector<std::string>& named) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = env;
  opt.env.push_back({"TUTTI_TIMEOUT_MS", "30000"});
  runRanks(
      2,
      [&](tuttiComm_t, int rank, int n) {
        setenv(var.c_str(), (rank == 0 ? value0 : value1).c_str(), 1);
        const auto t0 = std::chrono::steady_clock::now();
        tuttiComm_t comm = nullptr;
        EXPECT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiInvalidArgument)
            << tuttiGetLastError(nullptr);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20))
            << "rank " << rank << " waited for the timeout";
        const std::string msg = tuttiGetLastError(nullptr);
        for (const std::string& s : named) EXPECT_NE(msg.find(s), std::string::npos) << msg;
      },
      opt);
}

// Ranks striping differently could not find each other's bytes: init fails on both sides,
// naming both settings.
TEST(Transports, StripingMismatchFailsInitNamingBothSettings) {
  expectMismatchFailsInit({{"TUTTI_TRANSPORT", "socket"}}, "TUTTI_SOCKET_STREAMS", "2", "3",
                          {"socket striping differs between ranks", "TUTTI_SOCKET_STREAMS=2",
                           "TUTTI_SOCKET_STREAMS=3"});
}

// Routed sockets find each message's route from its length, which the checksum trailer
// changes: ranks that differ in TUTTI_CHECKSUM fail init naming it.
TEST(Transports, RoutedSocketsRefuseADifferentChecksumSetting) {
  expectMismatchFailsInit({{"TUTTI_TRANSPORT", "socket"}, {"TUTTI_SOCKET_STREAMS", "2"}},
                          "TUTTI_CHECKSUM", "1", "0", {"TUTTI_CHECKSUM differs between ranks"});
}

TEST(Transports, UnknownTransportNameListsRegisteredOnes) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TRANSPORT", "carrier-pigeon"}, {"TUTTI_TIMEOUT_MS", "5000"}};
  runRanks(
      2,
      [](tuttiComm_t, int rank, int n) {
        tuttiComm_t comm = nullptr;
        EXPECT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiInvalidArgument);
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_NE(msg.find("TUTTI_TRANSPORT=carrier-pigeon: no such transport (registered: shm"),
                  std::string::npos)
            << msg;
      },
      opt);
}

// Emulated nodes of two ranks: shared memory inside a node, sockets between them, logged per peer.
TEST(Transports, ChoicePerPeerIsLoggedAtInfo) {
  char dir[] = "/tmp/tutti-transports-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string log = std::string(dir) + "/log-%p";
  RankOptions opt;
  opt.env = {{"TUTTI_RANKS_PER_NODE", "2"},
             {"TUTTI_NET", "socket"},  // UCX, where it loads, would carry the inter-node pairs
             {"TUTTI_DEBUG", "INFO"},
             {"TUTTI_DEBUG_FILE", log}};
  runRanks(
      4,
      [dir](tuttiComm_t comm, int rank, int n) {
        EXPECT_EQ(allReduceOnce(comm, rank), 10);
        const std::string text = readFile(std::string(dir) + "/log-" + std::to_string(getpid()));
        const char* want[] = {"rank 0: shm to rank 1; socket (", "rank 1: shm to rank 0; socket (",
                              "rank 2: shm to rank 3; socket (", "rank 3: shm to rank 2; socket ("};
        EXPECT_NE(text.find(want[rank]), std::string::npos) << text;
        // The socket transport names its interface and address, then the peers.
        EXPECT_NE(text.find(rank < 2 ? ") to ranks 2-3" : ") to ranks 0-1"), std::string::npos)
            << text;
      },
      opt);
  std::string cmd = std::string("rm -rf ") + dir;
  EXPECT_EQ(system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace tutti::testing
