// Every (collective, algorithm) an executor declares runs when forced, gives the reference
// result, and is what the INFO line says ran; forcing what an executor lacks is a clear error
// naming what it has: at init for TUTTI_ALGO, at the call for an executor the env did not
// name. The GPU direct executor's pairs are checked the same way in tests/gpu.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "algorithms/capabilities.h"
#include "core/comm.h"
#include "multiproc/collective_check.h"
#include "multiproc/executor_check.h"
#include "multiproc/host_proxy.h"
#include "testing/random.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

RankOptions infoOptions(const LogDir& dir, const char* ranksPerNode) {
  RankOptions opt = infoLogOptions(dir);
  opt.env.push_back({"TUTTI_RANKS_PER_NODE", ranksPerNode});
  opt.env.push_back({"TUTTI_PROXY_CHUNK_BYTES", "8192"});
  return opt;
}

// Four ranks on two emulated nodes, so hierarchical plans have two levels.
TEST(ExecutorChoice, EveryCpuPairRunsAndIsLogged) {
  LogDir dir;
  runRanks(
      4,
      [&](tuttiComm_t comm, int rank, int n) {
        checkEveryPair(comm, rank, n, ExecutorKind::kCpu, cpuCapabilities(), dir, false, false,
                       nullptr);
      },
      infoOptions(dir, "2"));
}

TEST(ExecutorChoice, EveryProxyPairRunsAndIsLogged) {
  LogDir dir;
  runRanks(
      4,
      [&](tuttiComm_t comm, int rank, int n) {
        HostStreamOps* streams = installHostProxy(comm);
        checkEveryPair(comm, rank, n, ExecutorKind::kGpuProxy, gpuProxyCapabilities(), dir, true,
                       true, streams->newStream());
      },
      infoOptions(dir, "2"));
}

TEST(ExecutorChoice, ForcingWhatTheExecutorLacksFailsInitWithTheList) {
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_ALGO", "allgather:tree"}, {"TUTTI_TIMEOUT_MS", "10000"}};
  runRanks(
      2,
      [](tuttiComm_t, int rank, int n) {
        tuttiComm_t comm = nullptr;
        EXPECT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiInvalidArgument);
        const std::string msg = tuttiGetLastError(nullptr);
        EXPECT_NE(msg.find("TUTTI_ALGO=allgather:tree: the cpu executor does not run AllGather "
                           "with tree (it runs: ring/simple, direct/simple, hierarchical/simple)"),
                  std::string::npos)
            << msg;
      },
      opt);
}

// The env names an algorithm the main executor has; a call that lands on another executor that
// lacks it fails at the call, naming what that executor runs, and nothing moves.
TEST(ExecutorChoice, ForcingWhatTheCallsExecutorLacksFailsTheCall) {
  runRanks(2, [](tuttiComm_t comm, int rank, int n) {
    HostStreamOps* streams = installHostProxy(comm);
    ASSERT_EQ(comm->tuner.applyAlgoString("alltoallv:p2p"), tuttiSuccess) << lastError();
    // Host buffers run on the CPU executor, whose AllToAllv is pairwise.
    std::vector<size_t> counts(n, 3), displs(n);
    for (int p = 0; p < n; ++p) displs[p] = 3 * p;
    std::vector<float> in(3 * n, 1.0f), out(3 * n, -7.0f);
    EXPECT_EQ(tuttiAllToAllv(in.data(), counts.data(), displs.data(), out.data(), counts.data(),
                             displs.data(), tuttiFloat32, comm, nullptr),
              tuttiInvalidUsage);
    EXPECT_NE(std::string(tuttiGetLastError(comm))
                  .find("TUTTI_ALGO=alltoallv:p2p forces p2p for AllToAllv, which the cpu "
                        "executor running this call does not run (it runs: pairwise/simple)"),
              std::string::npos)
        << tuttiGetLastError(comm);
    EXPECT_EQ(out[0], -7.0f);
    (void)streams;
  });
}

}  // namespace
}  // namespace tutti::testing
