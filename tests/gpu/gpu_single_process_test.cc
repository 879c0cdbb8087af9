// One process drives every GPU: tuttiCommInitAll, then each collective issued for all ranks
// from one thread inside a group (the launches must not wait for each other).
#include <cuda_runtime.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gpu/gpu_testing.h"
#include "testing/random.h"
#include "testing/reference.h"

namespace tutti::testing {
namespace {

void runSingleProcess(int n, size_t count) {
  SKIP_WITHOUT_GPUS(n);
  std::vector<tuttiComm_t> comms(n);
  std::vector<int> devs(n);
  for (int i = 0; i < n; ++i) devs[i] = gpuForRank(i);
  ASSERT_EQ(tuttiCommInitAll(comms.data(), n, devs.data()), tuttiSuccess)
      << tuttiGetLastError(nullptr);
  const uint64_t seed = testSeed();
  std::vector<float*> in(n), out(n);
  std::vector<cudaStream_t> streams(n);
  for (int r = 0; r < n; ++r) {
    CUDA_OK(cudaSetDevice(gpuForRank(r)));
    CUDA_OK(cudaStreamCreate(&streams[r]));
    CUDA_OK(cudaMalloc(&in[r], count * n * sizeof(float)));
    CUDA_OK(cudaMalloc(&out[r], count * n * sizeof(float)));
    std::vector<float> h(count * n);
    fillInput(h.data(), h.size(), seed, r, tuttiFloat32, tuttiSum, n);
    CUDA_OK(cudaMemcpy(in[r], h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice));
  }
  // AllReduce, AllGather, ReduceScatter, AllToAll, each for all ranks in one group.
  for (int which = 0; which < 4; ++which) {
    ASSERT_EQ(tuttiGroupStart(), tuttiSuccess);
    for (int r = 0; r < n; ++r) {
      tuttiResult_t res = tuttiSuccess;
      if (which == 0)
        res = tuttiAllReduce(in[r], out[r], count, tuttiFloat32, tuttiSum, comms[r], streams[r]);
      if (which == 1)
        res = tuttiAllGather(in[r], out[r], count, tuttiFloat32, comms[r], streams[r]);
      if (which == 2)
        res =
            tuttiReduceScatter(in[r], out[r], count, tuttiFloat32, tuttiSum, comms[r], streams[r]);
      if (which == 3) res = tuttiAllToAll(in[r], out[r], count, tuttiFloat32, comms[r], streams[r]);
      ASSERT_EQ(res, tuttiSuccess) << tuttiGetLastError(comms[r]);
    }
    ASSERT_EQ(tuttiGroupEnd(), tuttiSuccess) << tuttiGetLastError(nullptr);
    for (int r = 0; r < n; ++r) {
      CUDA_OK(cudaSetDevice(gpuForRank(r)));
      CUDA_OK(cudaStreamSynchronize(streams[r]));
      std::vector<float> h(count * n);
      CUDA_OK(cudaMemcpy(h.data(), out[r], h.size() * sizeof(float), cudaMemcpyDeviceToHost));
      auto input = [&](int src, size_t j) {
        return inputValue(seed, src, j, tuttiFloat32, tuttiSum, n);
      };
      int bad = 0;
      std::vector<double> v(n);
      size_t outCount = which == 0 || which == 2 ? count : count * n;
      for (size_t i = 0; i < outCount && bad < 3; ++i) {
        double expect = 0, tol = 0;
        if (which == 0 || which == 2) {
          size_t j = which == 0 ? i : r * count + i;
          for (int p = 0; p < n; ++p) v[p] = input(p, j);
          expect = referenceReduce(v, tuttiFloat32, tuttiSum);
          tol = tolerance(v, tuttiFloat32, tuttiSum);
        } else if (which == 1) {
          expect = input(static_cast<int>(i / count), i % count);
        } else {
          expect = input(static_cast<int>(i / count), r * count + i % count);
        }
        std::string e = checkElement(h[i], expect, tol, i);
        if (!e.empty()) {
          ++bad;
          ADD_FAILURE() << "collective " << which << " rank " << r << ": " << e;
        }
      }
    }
  }
  for (int r = 0; r < n; ++r) {
    cudaSetDevice(gpuForRank(r));
    cudaFree(in[r]);
    cudaFree(out[r]);
    cudaStreamDestroy(streams[r]);
    tuttiCommDestroy(comms[r]);
  }
}

TEST(GpuSingleProcess, TwoRanksSmall) { runSingleProcess(2, 1001); }
TEST(GpuSingleProcess, TwoRanksLarge) { runSingleProcess(2, (1 << 22) + 3); }
TEST(GpuSingleProcess, ThreeRanks) { runSingleProcess(3, 300007); }
TEST(GpuSingleProcess, FourRanks) { runSingleProcess(4, 300007); }

// The same through the proxy (peer mappings disabled): each communicator's proxy thread serves
// its rank, so one thread enqueueing for every rank cannot deadlock (the host callback of the
// old staged path did, until the timeout).
void runProxySingleProcess(int n, size_t count) {
  setenv("TUTTI_P2P_DISABLE", "1", 1);
  runSingleProcess(n, count);
  unsetenv("TUTTI_P2P_DISABLE");
}
// GPU "nodes" in one process: 2 nodes of 2 ranks with the hierarchical AllReduce forced, and
// 3 nodes of one rank (everything through the proxy and sockets).
void runNodesSingleProcess(int n, int perNode, const char* algo, size_t count) {
  setenv("TUTTI_RANKS_PER_NODE", std::to_string(perNode).c_str(), 1);
  if (algo) setenv("TUTTI_ALGO", algo, 1);
  runSingleProcess(n, count);
  unsetenv("TUTTI_RANKS_PER_NODE");
  unsetenv("TUTTI_ALGO");
}
TEST(GpuSingleProcessNodes, TwoNodesOfTwoHierarchical) {
  runNodesSingleProcess(4, 2, "allreduce:hierarchical", 300007);
}
TEST(GpuSingleProcessNodes, TwoNodesOfTwoTunersChoice) {
  runNodesSingleProcess(4, 2, nullptr, (1 << 22) + 3);
}
TEST(GpuSingleProcessNodes, ThreeNodesOfOne) { runNodesSingleProcess(3, 1, nullptr, 1001); }

TEST(GpuSingleProcessProxy, TwoRanksSmall) { runProxySingleProcess(2, 1001); }
TEST(GpuSingleProcessProxy, TwoRanksLarge) { runProxySingleProcess(2, (1 << 22) + 3); }
TEST(GpuSingleProcessProxy, FourRanks) { runProxySingleProcess(4, 300007); }

}  // namespace
}  // namespace tutti::testing
