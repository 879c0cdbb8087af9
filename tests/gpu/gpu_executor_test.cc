// The device executors on a real GPU: every (collective, algorithm) the direct and the proxy
// executor declare runs when forced, is correct and is what the INFO line names; the proxy
// (TUTTI_P2P_DISABLE=1) refuses CUDA-graph capture with a sentence, serves several streams, and
// sleeps when idle.
#include <cuda_runtime.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gpu/gpu_testing.h"
#include "multiproc/executor_check.h"
#include "testing/random.h"
#include "testing/reference.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

// Runs fn(comm, rank, n, stream) on n ranks (one process each) with `opt`'s environment;
// `hostOf(rank)`, when given, is the rank's TUTTI_HOSTID (nodes of any shape).
template <typename Fn>
void onGpuRanks(int nranks, RankOptions opt, Fn fn, const char* (*hostOf)(int) = nullptr) {
  opt.createComm = false;
  runRanks(
      nranks,
      [&](tuttiComm_t, int rank, int n) {
        if (hostOf) setenv("TUTTI_HOSTID", hostOf(rank), 1);
        setDeviceMemoryOps(cudaMemoryOps());
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        cudaStream_t stream;
        CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        fn(comm, rank, n, stream);
        tuttiCommDestroy(comm);
        cudaStreamDestroy(stream);
      },
      opt);
}

TEST(GpuExecutorChoice, EveryDirectPairRunsAndIsLogged) {
  SKIP_WITHOUT_GPUS(2);
  LogDir dir;
  onGpuRanks(2, infoLogOptions(dir), [&](tuttiComm_t comm, int rank, int n, cudaStream_t s) {
    checkEveryPair(comm, rank, n, ExecutorKind::kGpuDirect, gpuDirectCapabilities(), dir, true,
                   false, s);
  });
}

RankOptions proxyOptions(RankOptions opt) {
  opt.env.push_back({"TUTTI_P2P_DISABLE", "1"});
  opt.env.push_back({"TUTTI_PROXY_CHUNK_BYTES", "65536"});
  return opt;
}

TEST(GpuExecutorChoice, EveryProxyPairRunsAndIsLogged) {
  SKIP_WITHOUT_GPUS(3);
  LogDir dir;
  onGpuRanks(3, proxyOptions(infoLogOptions(dir)),
             [&](tuttiComm_t comm, int rank, int n, cudaStream_t s) {
               checkEveryPair(comm, rank, n, ExecutorKind::kGpuProxy, gpuProxyCapabilities(), dir,
                              true, false, s);
             });
}

// GPU "nodes" (TUTTI_RANKS_PER_NODE=2 on 4 ranks): the device executor is the proxy with the
// hierarchical AllReduce (node kernels, rail proxy); every pair it declares runs and is logged,
// and rank 0's log says the hierarchical path was built.
TEST(GpuExecutorChoice, EveryPairAcrossGpuNodesRunsAndIsLogged) {
  SKIP_WITHOUT_GPUS(4);
  LogDir dir;
  RankOptions opt = infoLogOptions(dir);
  opt.env.push_back({"TUTTI_RANKS_PER_NODE", "2"});
  opt.env.push_back({"TUTTI_PROXY_CHUNK_BYTES", "65536"});
  onGpuRanks(4, opt, [&](tuttiComm_t comm, int rank, int n, cudaStream_t s) {
    checkEveryPair(comm, rank, n, ExecutorKind::kGpuProxy, gpuProxyCapabilities(), dir, true, false,
                   s);
  });
  std::string all;
  char line[512];
  FILE* f = popen((std::string("cat ") + dir.path + "/log-*").c_str(), "r");
  ASSERT_NE(f, nullptr);
  while (fgets(line, sizeof(line), f)) all += line;
  pclose(f);
  EXPECT_NE(all.find("Broadcast and Reduce available: 2 nodes of 2 ranks"), std::string::npos)
      << "no hierarchical GPU path in the logs";
  EXPECT_NE(all.find("ran hierarchical/simple on the gpu-proxy executor"), std::string::npos);
}

std::string readLogs(const LogDir& dir) {
  std::string all;
  char line[512];
  FILE* f = popen((std::string("cat ") + dir.path + "/log-*").c_str(), "r");
  if (!f) return all;
  while (fgets(line, sizeof(line), f)) all += line;
  pclose(f);
  return all;
}

// 4 ranks in 2 GPU "nodes" of 2: AllGather, ReduceScatter, Broadcast and Reduce with `algo`
// ("hierarchical", a flat one, or "" for the tuner's choice), every root, in and out of place,
// odd counts and 0; each result checked. Returns every rank's INFO log. No AllReduce runs, so
// a collective's line on the gpu-direct executor comes from a node stage of its own hierarchical
// form (the user communicator's executor is the proxy).
std::string runAcrossGpuNodes(const char* algoAg, const char* algoRoot, size_t bigCount,
                              const char* (*hostOf)(int)) {
  LogDir dir;
  RankOptions opt = infoLogOptions(dir);
  if (!hostOf) opt.env.push_back({"TUTTI_RANKS_PER_NODE", "2"});
  opt.env.push_back({"TUTTI_PROXY_CHUNK_BYTES", "65536"});
  const uint64_t seed = testSeed();
  onGpuRanks(
      4, opt,
      [&](tuttiComm_t comm, int rank, int n, cudaStream_t s) {
        for (Collective coll : {Collective::kAllGather, Collective::kReduceScatter,
                                Collective::kBroadcast, Collective::kReduce}) {
          const bool rooted = coll == Collective::kBroadcast || coll == Collective::kReduce;
          const bool reduces = coll == Collective::kReduceScatter || coll == Collective::kReduce;
          const std::string algo =
              *(rooted ? algoRoot : algoAg) == 0
                  ? std::string()
                  : std::string(collectiveName(coll)) + ":" + (rooted ? algoRoot : algoAg);
          for (tuttiRedOp_t op : reduces
                                     ? std::vector<tuttiRedOp_t>{tuttiSum, tuttiAvg, kTestPreMulSum}
                                     : std::vector<tuttiRedOp_t>{tuttiSum})
            for (size_t count : {size_t(0), size_t(1), size_t(7), size_t(1001), bigCount})
              for (int root = 0; root < (rooted ? n : 1); ++root)
                for (bool inPlace : {false, true}) {
                  CollCase c{coll, tuttiFloat32, op, count, inPlace, root, algo, true, false, s};
                  std::string err = runCollectiveCase(comm, rank, n, c, seed);
                  EXPECT_EQ(err, "")
                      << "rank " << rank << ": " << describe(c, n) << " seed=" << seed;
                }
        }
      },
      hostOf);
  return readLogs(dir);
}

bool ranOnNodeKernels(const std::string& logs, Collective c) {
  const std::string name = collectiveName(c);
  for (size_t at = logs.find(name + " "); at != std::string::npos;
       at = logs.find(name + " ", at + 1)) {
    const size_t eol = logs.find('\n', at);
    if (logs.substr(at, eol - at).find("on the gpu-direct executor") != std::string::npos)
      return true;
  }
  return false;
}

constexpr Collective kNodeCollectives[] = {Collective::kAllGather, Collective::kReduceScatter,
                                           Collective::kBroadcast, Collective::kReduce};

TEST(GpuExecutorChoice, HierarchicalAcrossGpuNodesRunsOnTheNodeKernels) {
  SKIP_WITHOUT_GPUS(4);
  const std::string logs = runAcrossGpuNodes("hierarchical", "hierarchical", 300007, nullptr);
  for (Collective c : kNodeCollectives)
    EXPECT_TRUE(ranOnNodeKernels(logs, c)) << collectiveName(c) << ": no node stage in the logs";
}

// Forced flat (ring, tree), the proxy runs everything: no node stage.
TEST(GpuExecutorChoice, FlatAcrossGpuNodesStaysOnTheProxy) {
  SKIP_WITHOUT_GPUS(4);
  const std::string logs = runAcrossGpuNodes("ring", "tree", 1001, nullptr);
  for (Collective c : kNodeCollectives)
    EXPECT_FALSE(ranOnNodeKernels(logs, c)) << collectiveName(c) << " ran a node stage";
}

// The tuner's choice across GPU nodes at 256 KiB per rank is the hierarchical form (its model
// prices the node stages on the device: tests/unit/tuner_model_test.cc has the larger sizes).
TEST(GpuExecutorChoice, TunerPicksHierarchicalAcrossGpuNodes) {
  SKIP_WITHOUT_GPUS(4);
  const std::string logs = runAcrossGpuNodes("", "", 65539, nullptr);
  for (Collective c : kNodeCollectives)
    EXPECT_TRUE(ranOnNodeKernels(logs, c)) << collectiveName(c) << ": the tuner chose flat";
}

// Hosts a, b, b, a: node {0, 3} and node {1, 2}; rail 1 holds ranks 3 and 2, so the node of
// rank 0 is rail rank 0 on rail 0 and rail rank 1 on rail 1 (the per-block copies).
TEST(GpuExecutorChoice, HierarchicalAcrossInterleavedGpuNodes) {
  SKIP_WITHOUT_GPUS(4);
  const std::string logs = runAcrossGpuNodes(
      "hierarchical", "hierarchical", 30011,
      [](int rank) -> const char* { return rank == 0 || rank == 3 ? "host-a" : "host-b"; });
  EXPECT_NE(logs.find("(nodes interleaved)"), std::string::npos);
  for (Collective c : kNodeCollectives) EXPECT_TRUE(ranOnNodeKernels(logs, c)) << collectiveName(c);
}

TEST(GpuProxy, GraphCaptureIsAClearError) {
  SKIP_WITHOUT_GPUS(2);
  onGpuRanks(2, proxyOptions({}), [](tuttiComm_t comm, int rank, int n, cudaStream_t s) {
    float* buf = nullptr;
    CUDA_OK(cudaMalloc(&buf, 1024 * sizeof(float)));
    CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    EXPECT_EQ(tuttiAllReduce(buf, buf, 1024, tuttiFloat32, tuttiSum, comm, s), tuttiInvalidUsage);
    cudaGraph_t graph = nullptr;
    CUDA_OK(cudaStreamEndCapture(s, &graph));
    if (graph) cudaGraphDestroy(graph);
    EXPECT_NE(std::string(tuttiGetLastError(comm)).find("cannot be captured in a CUDA graph"),
              std::string::npos)
        << tuttiGetLastError(comm);
    // Nothing was enqueued: the communicator still works outside the capture.
    std::vector<float> h(1024, 1.0f + rank);
    CUDA_OK(cudaMemcpyAsync(buf, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice, s));
    ASSERT_EQ(tuttiAllReduce(buf, buf, 1024, tuttiFloat32, tuttiSum, comm, s), tuttiSuccess)
        << tuttiGetLastError(comm);
    CUDA_OK(cudaStreamSynchronize(s));
    CUDA_OK(cudaMemcpy(h.data(), buf, h.size() * sizeof(float), cudaMemcpyDeviceToHost));
    EXPECT_EQ(h[1000], 3.0f);
    cudaFree(buf);
  });
}

// Calls alternate between two streams; every result checked.
TEST(GpuProxy, SeveralStreams) {
  SKIP_WITHOUT_GPUS(3);
  onGpuRanks(3, proxyOptions({}), [](tuttiComm_t comm, int rank, int n, cudaStream_t s0) {
    cudaStream_t s1;
    CUDA_OK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
    constexpr int kCalls = 8;
    constexpr size_t kCount = 300007;
    std::vector<float*> bufs(kCalls);
    for (int k = 0; k < kCalls; ++k) {
      std::vector<float> h(kCount, static_cast<float>(rank + k));
      CUDA_OK(cudaMalloc(&bufs[k], kCount * sizeof(float)));
      CUDA_OK(cudaMemcpy(bufs[k], h.data(), kCount * sizeof(float), cudaMemcpyHostToDevice));
    }
    CUDA_OK(cudaDeviceSynchronize());  // pageable copies may return before their DMA lands
    for (int k = 0; k < kCalls; ++k)
      ASSERT_EQ(
          tuttiAllReduce(bufs[k], bufs[k], kCount, tuttiFloat32, tuttiSum, comm, k % 2 ? s1 : s0),
          tuttiSuccess)
          << tuttiGetLastError(comm);
    CUDA_OK(cudaStreamSynchronize(s0));
    CUDA_OK(cudaStreamSynchronize(s1));
    for (int k = 0; k < kCalls; ++k) {
      std::vector<float> h(kCount);
      CUDA_OK(cudaMemcpy(h.data(), bufs[k], kCount * sizeof(float), cudaMemcpyDeviceToHost));
      float want = 0;
      for (int r = 0; r < n; ++r) want += static_cast<float>(r + k);
      EXPECT_EQ(h[0], want);
      EXPECT_EQ(h[kCount - 1], want);
      cudaFree(bufs[k]);
    }
    cudaStreamDestroy(s1);
  });
}

// With nothing queued the proxy thread sleeps: the whole process (CUDA's own threads included)
// stays under 1% of a core.
TEST(GpuProxy, IdleProxySleeps) {
  SKIP_WITHOUT_GPUS(2);
  onGpuRanks(2, proxyOptions({}), [](tuttiComm_t comm, int rank, int n, cudaStream_t s) {
    float* buf = nullptr;
    CUDA_OK(cudaMalloc(&buf, 4096 * sizeof(float)));
    ASSERT_EQ(tuttiAllReduce(buf, buf, 4096, tuttiFloat32, tuttiSum, comm, s), tuttiSuccess);
    CUDA_OK(cudaStreamSynchronize(s));
    auto cpu = [] {
      rusage u;
      getrusage(RUSAGE_SELF, &u);
      return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
             (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
    };
    const double before = cpu();
    sleep(3);
    const double used = cpu() - before;
    printf("[ measured ] rank %d: idle process CPU %.3f%% of a core over 3 s\n", rank,
           used / 3 * 100);
    EXPECT_LT(used / 3, 0.01);
    cudaFree(buf);
  });
}

}  // namespace
}  // namespace tutti::testing
