// Every collective x dtype x op (PreMulSum included) on device buffers of 1 to 4 ranks, one
// process per rank (ranks share GPUs where there are fewer, see gpu_testing.h), against the
// CPU reference: counts 0 to 64M elements (1 GiB for AllReduce), odd counts, pointers offset by
// two bytes, in place and out of place, every GPU algorithm.
#include <cuda_runtime.h>

#include <cstdlib>
#include <string>
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

// Runs `cases(run, n, stream)` on every rank of an n-rank job, one process per rank: device,
// non-blocking stream and communicator are set up around it; `run(c)` checks one case and
// reports (at most six) failures naming the rank, the case and the seed.
template <typename Cases>
void onGpuRanks(int nranks, int timeoutSec, const char* what, Cases cases) {
  const uint64_t seed = testSeed();
  RankOptions opt;
  opt.createComm = false;
  opt.timeoutSec = timeoutSec;
  runRanks(
      nranks,
      [&](tuttiComm_t, int rank, int n) {
        setDeviceMemoryOps(cudaMemoryOps());
        CUDA_OK(cudaSetDevice(gpuForRank(rank)));
        cudaStream_t stream;
        CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        tuttiComm_t comm = nullptr;
        ASSERT_EQ(tuttiCommInitRank(&comm, n, currentUniqueId(), rank), tuttiSuccess)
            << tuttiGetLastError(nullptr);
        int failures = 0;
        auto run = [&](const CollCase& c) {
          std::string err = runCollectiveCase(comm, rank, n, c, seed);
          if (!err.empty() && failures++ < 6)
            ADD_FAILURE() << "rank " << rank << ": " << what << describe(c, n) << " seed=" << seed
                          << ": " << err;
        };
        cases(run, n, stream);
        tuttiCommDestroy(comm);
        cudaStreamDestroy(stream);
      },
      opt);
}

void runGpuSweep(int nranks, const Sweep& s) {
  SKIP_WITHOUT_GPUS(nranks);
  onGpuRanks(nranks, 900, "", [&](auto& run, int n, cudaStream_t stream) {
    for (const std::string& algo : s.algorithms)
      for (tuttiDataType_t dtype : allTypes())
        for (tuttiRedOp_t op : s.reduces ? allOps() : std::vector<tuttiRedOp_t>{tuttiSum})
          for (size_t count : {size_t(0), size_t(1), size_t(7), size_t(1001), size_t(300007)})
            for (bool inPlace : {false, true})
              for (bool misalign : {false, true}) {
                if (s.collective == Collective::kAllToAllv && inPlace) continue;
                if (count > 1001 && (op == tuttiProd || op == tuttiMin || misalign)) continue;
                int root = static_cast<int>((count + dtype) % n);
                run(CollCase{s.collective, dtype, op, count, inPlace, root, algo, true, misalign,
                             stream});
              }
    // Large: past the scratch size so every block iterates many times (float sum only), and
    // for AllReduce one 1 GiB buffer.
    std::vector<size_t> large = {size_t(1) << 24, (size_t(1) << 26) + 5};
    if (s.collective == Collective::kAllReduce) large.push_back(size_t(1) << 28);
    for (size_t count : large) {
      CollCase c{s.collective,        tuttiFloat32, tuttiSum, count, false, 0,
                 s.algorithms.back(), true,         false,    stream};
      if (s.collective == Collective::kAllGather || s.collective == Collective::kReduceScatter ||
          s.collective == Collective::kAllToAll || s.collective == Collective::kAllToAllv)
        c.count /= n;
      run(c);
    }
  });
}

// The host-staged path (what ranks without P2P access take), forced with TUTTI_P2P_DISABLE:
// every collective, a float, a half and an integer type, in and out of place.
void runStagedSweep(int nranks) {
  SKIP_WITHOUT_GPUS(nranks);
  setenv("TUTTI_P2P_DISABLE", "1", 1);  // inherited by the forked ranks
  onGpuRanks(nranks, 300, "staged ", [&](auto& run, int n, cudaStream_t stream) {
    for (Collective coll : {Collective::kAllReduce, Collective::kAllGather,
                            Collective::kReduceScatter, Collective::kAllToAll,
                            Collective::kAllToAllv, Collective::kBroadcast, Collective::kReduce}) {
      const bool reduces = coll == Collective::kAllReduce || coll == Collective::kReduceScatter ||
                           coll == Collective::kReduce;
      for (tuttiDataType_t dtype : {tuttiFloat32, tuttiBfloat16, tuttiInt32})
        for (tuttiRedOp_t op : reduces
                                   ? std::vector<tuttiRedOp_t>{tuttiSum, tuttiAvg, kTestPreMulSum}
                                   : std::vector<tuttiRedOp_t>{tuttiSum})
          for (size_t count : {size_t(7), size_t(300007)})
            for (bool inPlace : {false, true}) {
              if (coll == Collective::kAllToAllv && inPlace) continue;
              run(CollCase{coll, dtype, op, count, inPlace, static_cast<int>(count % n), "", true,
                           false, stream});
            }
    }
  });
  unsetenv("TUTTI_P2P_DISABLE");
}

// GPU "nodes" on one machine: TUTTI_RANKS_PER_NODE splits the ranks into nodes, so every
// inter-node byte goes through the proxy and the socket transport. The collectives with a
// hierarchical form (node kernels, rail proxy) forced hierarchical, flat (ring or tree through
// the proxy) and the tuner's pick; counts 0, odd and past several proxy chunks; every root
// position (local 0 and 1 of either node).
void runNodesSweep(int nranks, int perNode) {
  SKIP_WITHOUT_GPUS(nranks);
  setenv("TUTTI_RANKS_PER_NODE", std::to_string(perNode).c_str(), 1);
  setenv("TUTTI_PROXY_CHUNK_BYTES", "262144", 1);  // several chunks per large case
  onGpuRanks(nranks, 900, "nodes ", [&](auto& run, int n, cudaStream_t stream) {
    for (Collective coll : {Collective::kAllReduce, Collective::kAllGather,
                            Collective::kReduceScatter, Collective::kAllToAll,
                            Collective::kAllToAllv, Collective::kBroadcast, Collective::kReduce}) {
      const bool reduces = coll == Collective::kAllReduce || coll == Collective::kReduceScatter ||
                           coll == Collective::kReduce;
      const bool rooted = coll == Collective::kBroadcast || coll == Collective::kReduce;
      const bool hier = coll != Collective::kAllToAll && coll != Collective::kAllToAllv;
      const std::string flat = rooted ? "tree" : "ring";
      const std::vector<std::string> algos =
          hier ? std::vector<std::string>{"hierarchical", flat, ""} : std::vector<std::string>{""};
      for (const std::string& algo : algos)
        for (tuttiDataType_t dtype : {tuttiFloat32, tuttiBfloat16, tuttiInt32})
          for (tuttiRedOp_t op :
               reduces ? std::vector<tuttiRedOp_t>{tuttiSum, tuttiAvg, tuttiMax, kTestPreMulSum}
                       : std::vector<tuttiRedOp_t>{tuttiSum})
            for (size_t count : {size_t(0), size_t(1), size_t(7), size_t(1001), size_t(300007)})
              for (bool inPlace : {false, true}) {
                if (coll == Collective::kAllToAllv && inPlace) continue;
                const int root = static_cast<int>((count + dtype) % n);
                run(CollCase{coll, dtype, op, count, inPlace, root,
                             algo.empty() ? algo : std::string(collectiveName(coll)) + ":" + algo,
                             true, false, stream});
              }
    }
  });
  unsetenv("TUTTI_RANKS_PER_NODE");
  unsetenv("TUTTI_PROXY_CHUNK_BYTES");
}

TEST(GpuNodes, TwoNodesOfTwoRanks) { runNodesSweep(4, 2); }
TEST(GpuNodes, ThreeNodesOfOneRank) { runNodesSweep(3, 1); }
// Nodes of 2, 2 and 1: no node kernels (the nodes differ), the proxy runs the CPU executor's
// hierarchical plans, where each node's second rank folds into its first.
TEST(GpuNodes, UnevenNodesOfTwoTwoOne) { runNodesSweep(5, 2); }

TEST(GpuStagedPath, EveryCollectiveTwoRanks) { runStagedSweep(2); }
TEST(GpuStagedPath, EveryCollectiveThreeRanks) { runStagedSweep(3); }

class GpuCollectivesTest : public ::testing::TestWithParam<int> {};

TEST_P(GpuCollectivesTest, AllReduce) {
  runGpuSweep(GetParam(), {Collective::kAllReduce, {"direct", "two_shot"}, true});
}
TEST_P(GpuCollectivesTest, AllGather) {
  runGpuSweep(GetParam(), {Collective::kAllGather, {""}, false});
}
TEST_P(GpuCollectivesTest, ReduceScatter) {
  runGpuSweep(GetParam(), {Collective::kReduceScatter, {""}, true});
}
TEST_P(GpuCollectivesTest, AllToAll) {
  runGpuSweep(GetParam(), {Collective::kAllToAll, {""}, false});
}
TEST_P(GpuCollectivesTest, AllToAllv) {
  runGpuSweep(GetParam(), {Collective::kAllToAllv, {""}, false});
}
TEST_P(GpuCollectivesTest, Broadcast) {
  runGpuSweep(GetParam(), {Collective::kBroadcast, {""}, false});
}
TEST_P(GpuCollectivesTest, Reduce) { runGpuSweep(GetParam(), {Collective::kReduce, {""}, true}); }

INSTANTIATE_TEST_SUITE_P(Gpus, GpuCollectivesTest, ::testing::Values(1, 2, 3, 4),
                         [](const ::testing::TestParamInfo<int>& i) {
                           return std::to_string(i.param) + "ranks";
                         });

}  // namespace
}  // namespace tutti::testing
