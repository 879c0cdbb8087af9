// Collectives captured in a CUDA graph and replayed: device-side sequence numbers keep flags
// valid across replays, so every replay must give the right answer.
#include <cuda_runtime.h>

#include <vector>

#include "gpu/gpu_testing.h"
#include "testing/random.h"
#include "testing/reference.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

void runGraph(int nranks, size_t count, const char* algo) {
  SKIP_WITHOUT_GPUS(nranks);
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_ALGO", algo}};
  runRanks(
      nranks,
      [&](tuttiComm_t, int rank, int n) {
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        const uint64_t seed = testSeed();
        cudaStream_t s;
        CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
        float *in, *out;
        CUDA_OK(cudaMalloc(&in, count * sizeof(float)));
        CUDA_OK(cudaMalloc(&out, count * sizeof(float)));
        std::vector<float> h(count);
        fillInput(h.data(), count, seed, rank, tuttiFloat32, tuttiSum, n);
        CUDA_OK(cudaMemcpy(in, h.data(), count * sizeof(float), cudaMemcpyHostToDevice));
        CUDA_OK(
            cudaDeviceSynchronize());  // the copy may still be in flight; s does not wait for it
        cudaGraph_t graph;
        cudaGraphExec_t exec;
        CUDA_OK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
        for (int i = 0; i < 5; ++i)
          ASSERT_EQ(tuttiAllReduce(in, out, count, tuttiFloat32, tuttiSum, comm, s), tuttiSuccess)
              << tuttiGetLastError(comm);
        CUDA_OK(cudaStreamEndCapture(s, &graph));
        CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
        for (int replay = 0; replay < 3; ++replay) {
          CUDA_OK(
              cudaMemsetAsync(out, 0xA5, count * sizeof(float), s));  // ordered before the replay
          CUDA_OK(cudaGraphLaunch(exec, s));
          CUDA_OK(cudaStreamSynchronize(s));
          CUDA_OK(cudaMemcpy(h.data(), out, count * sizeof(float), cudaMemcpyDeviceToHost));
          std::vector<double> v(n);
          int bad = 0;
          for (size_t i = 0; i < count && bad < 3; ++i) {
            for (int p = 0; p < n; ++p) v[p] = inputValue(seed, p, i, tuttiFloat32, tuttiSum, n);
            std::string e = checkElement(h[i], referenceReduce(v, tuttiFloat32, tuttiSum),
                                         tolerance(v, tuttiFloat32, tuttiSum), i);
            if (!e.empty()) {
              ++bad;
              ADD_FAILURE() << "replay " << replay << " rank " << rank << ": " << e;
            }
          }
        }
        cudaGraphExecDestroy(exec);
        cudaGraphDestroy(graph);
        cudaFree(in);
        cudaFree(out);
        tuttiCommDestroy(comm);
      },
      opt);
}

TEST(GpuGraph, OneShotTwoRanks) { runGraph(2, 4099, "direct"); }
TEST(GpuGraph, TwoShotTwoRanks) { runGraph(2, (1 << 22) + 1, "two_shot"); }
TEST(GpuGraph, FourRanks) { runGraph(4, 300007, "two_shot"); }

}  // namespace
}  // namespace tutti::testing
