// Every collective x dtype x op on device buffers of 2 and 4 GPUs, one process per GPU,
// against the CPU reference: counts 0 to 64M elements, odd counts, pointers offset by two
// bytes, in place and out of place, every GPU algorithm.
#include <cuda_runtime.h>

#include <vector>

#include "gpu/gpu_testing.h"
#include "testing/random.h"
#include "testing/reference.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {


struct Sweep {
  Collective collective;
  std::vector<std::string> algorithms;
  bool reduces;
};

void runGpuSweep(int nranks, const Sweep& s) {
  SKIP_WITHOUT_GPUS(nranks);
  const uint64_t seed = testSeed();
  RankOptions opt;
  opt.createComm = false;
  opt.timeoutSec = 900;
  runRanks(nranks, [&](tuttiComm_t, int rank, int n) {
    setDeviceMemoryOps(cudaMemoryOps());
    CUDA_OK(cudaSetDevice(rank));
    cudaStream_t stream;
    CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    tuttiComm_t comm = nullptr;
    ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess) << tuttiGetLastError(nullptr);
    int failures = 0;
    auto run = [&](const CollCase& c) {
      std::string err = runCollectiveCase(comm, rank, n, c, seed);
      if (!err.empty() && failures++ < 6)
        ADD_FAILURE() << "rank " << rank << ": " << describe(c, n) << " seed=" << seed << ": " << err;
    };
    for (const std::string& algo : s.algorithms)
      for (tuttiDataType_t dtype : allTypes())
        for (tuttiRedOp_t op : s.reduces ? allOps() : std::vector<tuttiRedOp_t>{tuttiSum})
          for (size_t count : {size_t(0), size_t(1), size_t(7), size_t(1001), size_t(300007)})
            for (bool inPlace : {false, true})
              for (bool misalign : {false, true}) {
                if (s.collective == Collective::kAllToAllv && inPlace) continue;
                if (count > 1001 && (op == tuttiProd || op == tuttiMin || misalign)) continue;
                int root = static_cast<int>((count + dtype) % n);
                CollCase c{s.collective, dtype, op, count, inPlace, root, algo, true, misalign, stream};
                run(c);
              }
    // Large: past the scratch size so every block iterates many times (float sum only).
    for (size_t count : {size_t(1) << 24, (size_t(1) << 26) + 5}) {
      CollCase c{s.collective, tuttiFloat32, tuttiSum, count, false, 0, s.algorithms.back(), true, false, stream};
      if (s.collective == Collective::kAllGather || s.collective == Collective::kReduceScatter ||
          s.collective == Collective::kAllToAll || s.collective == Collective::kAllToAllv)
        c.count /= n;
      run(c);
    }
    tuttiCommDestroy(comm);
    cudaStreamDestroy(stream);
  }, opt);
}

class GpuCollectivesTest : public ::testing::TestWithParam<int> {};

TEST_P(GpuCollectivesTest, AllReduce) {
  runGpuSweep(GetParam(), {Collective::kAllReduce, {"direct", "two_shot"}, true});
}
TEST_P(GpuCollectivesTest, AllGather) { runGpuSweep(GetParam(), {Collective::kAllGather, {""}, false}); }
TEST_P(GpuCollectivesTest, ReduceScatter) { runGpuSweep(GetParam(), {Collective::kReduceScatter, {""}, true}); }
TEST_P(GpuCollectivesTest, AllToAll) { runGpuSweep(GetParam(), {Collective::kAllToAll, {""}, false}); }
TEST_P(GpuCollectivesTest, AllToAllv) { runGpuSweep(GetParam(), {Collective::kAllToAllv, {""}, false}); }
TEST_P(GpuCollectivesTest, Broadcast) { runGpuSweep(GetParam(), {Collective::kBroadcast, {""}, false}); }
TEST_P(GpuCollectivesTest, Reduce) { runGpuSweep(GetParam(), {Collective::kReduce, {""}, true}); }

INSTANTIATE_TEST_SUITE_P(Gpus, GpuCollectivesTest, ::testing::Values(2, 4),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::to_string(i.param) + "gpus";
                         });

}  // namespace
}  // namespace tutti::testing
