// One process drives every rank of compressed collectives across GPU "nodes": the calls of all
// ranks issued in turn from one thread must not wait for each other.
#include <cuda_runtime.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "gpu/gpu_testing.h"
#include "multiproc/compression_check.h"
#include "testing/random.h"

namespace tutti::testing {
namespace {

// One thread drives 4 ranks of tuttiCommInitAll on 2 GPU "nodes" (all_reduce_perf -g 4
// --compress int8:32,internode): each rank's compressed AllReduce with the flag is issued in
// turn, outside a group, then the streams are synchronised. Any host wait inside a call would
// deadlock (rank 0's exchanges wait for rank 1's, not issued yet); a watchdog turns that into a
// failure after two minutes. (Apart from gpu_compression_test: CUDA in the test process itself
// would not survive the forks of the multi-process tests.)
void driveRanksInTurn(int n) {
  std::vector<tuttiComm_t> comms(n);
  std::vector<int> devs(n);
  for (int i = 0; i < n; ++i) devs[i] = gpuForRank(i);
  ASSERT_EQ(tuttiCommInitAll(comms.data(), n, devs.data()), tuttiSuccess)
      << tuttiGetLastError(nullptr);
  const uint64_t seed = testSeed();
  const size_t count = 300007;
  const tuttiCompression_t comp = compressionOf("int8:32,internode");
  std::vector<float*> in(n), out(n);
  std::vector<cudaStream_t> streams(n);
  for (int r = 0; r < n; ++r) {
    CUDA_OK(cudaSetDevice(devs[r]));
    CUDA_OK(cudaStreamCreate(&streams[r]));
    CUDA_OK(cudaMalloc(&in[r], count * sizeof(float)));
    CUDA_OK(cudaMalloc(&out[r], count * sizeof(float)));
    std::vector<float> h(count);
    fillGaussian(h.data(), count, seed, r, tuttiFloat32);
    CUDA_OK(cudaMemcpy(in[r], h.data(), count * sizeof(float), cudaMemcpyHostToDevice));
  }
  std::vector<double> want(count, 0.0);
  for (size_t i = 0; i < count; ++i)
    for (int r = 0; r < n; ++r) want[i] += gaussianInput(seed, r, i, tuttiFloat32);
  for (int iter = 0; iter < 3; ++iter) {
    const bool inPlace = iter == 2;
    for (int r = 0; r < n; ++r) {
      CUDA_OK(cudaSetDevice(devs[r]));
      ASSERT_EQ(tuttiAllReduceCompressed(in[r], inPlace ? in[r] : out[r], count, tuttiFloat32,
                                         tuttiSum, &comp, nullptr, comms[r], streams[r]),
                tuttiSuccess)
          << "rank " << r << ": " << tuttiGetLastError(comms[r]);
    }
    std::vector<std::vector<float>> got(n, std::vector<float>(count));
    for (int r = 0; r < n; ++r) {
      CUDA_OK(cudaSetDevice(devs[r]));
      CUDA_OK(cudaStreamSynchronize(streams[r]));
      CUDA_OK(cudaMemcpy(got[r].data(), inPlace ? in[r] : out[r], count * sizeof(float),
                         cudaMemcpyDeviceToHost));
    }
    for (int r = 1; r < n; ++r)
      EXPECT_TRUE(got[r] == got[0])
          << "iteration " << iter << ": rank " << r << "'s output differs from rank 0's";
    EXPECT_LE(relativeL2(got[0].data(), tuttiFloat32, want), 1e-2)
        << "iteration " << iter << " seed " << seed;
  }
  for (int r = 0; r < n; ++r) {
    cudaSetDevice(devs[r]);
    cudaFree(in[r]);
    cudaFree(out[r]);
    cudaStreamDestroy(streams[r]);
    tuttiCommDestroy(comms[r]);
  }
}

TEST(GpuCompressionNodes, OneThreadDrivesFourRanks) {
  SKIP_WITHOUT_GPUS(4);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(120), [&] { return done; })) {
      fprintf(stderr, "OneThreadDrivesFourRanks: no progress in 120 s (deadlock?)\n");
      std::_Exit(1);
    }
  });
  setenv("TUTTI_RANKS_PER_NODE", "2", 1);
  driveRanksInTurn(4);
  unsetenv("TUTTI_RANKS_PER_NODE");
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  watchdog.join();
}

}  // namespace
}  // namespace tutti::testing
