// Topology-aware plans on the CPU executor with emulated nodes (TUTTI_RANKS_PER_NODE=2: shm
// inside a node, sockets between nodes): hierarchical, double-tree, two-shot, recursive-doubling
// and multi-channel ring plans give the reference results on 2x2 and 3x2 layouts; topology files
// load, dump and fail cleanly.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "algorithms/rank_layout.h"
#include "core/comm.h"
#include "multiproc/collective_check.h"
#include "testing/random.h"
#include "testing/run_ranks.h"
#include "topology/topo_file.h"
#include "topology/topology.h"

namespace tutti::testing {
namespace {

struct Sweep {
  Collective collective;
  std::vector<std::string> algorithms;
  bool reduces;
};

const std::vector<Sweep> kSweeps = {
    {Collective::kAllReduce,
     {"hierarchical", "tree", "two_shot", "ring", "recursive_doubling"},
     true},
    {Collective::kAllGather, {"hierarchical", "ring"}, false},
    {Collective::kReduceScatter, {"hierarchical", "ring"}, true},
    {Collective::kBroadcast, {"hierarchical"}, false},
    {Collective::kReduce, {"hierarchical"}, true},
};

void runLayout(int nranks, const RankOptions& options, int expectNodes) {
  const uint64_t seed = testSeed();
  runRanks(
      nranks,
      [&](tuttiComm_t comm, int rank, int n) {
        ASSERT_NE(comm->topology.layout, nullptr);
        EXPECT_EQ(comm->topology.layout->nnodes, expectNodes);
        EXPECT_EQ(comm->topology.layout->localRanks(), n / expectNodes);
        EXPECT_EQ(comm->topology.layout->check(), "");
        int failures = 0;
        for (const Sweep& s : kSweeps)
          for (const std::string& algo : s.algorithms)
            for (tuttiDataType_t dtype : {tuttiFloat32, tuttiInt32, tuttiBfloat16})
              for (tuttiRedOp_t op : s.reduces
                                         ? std::vector<tuttiRedOp_t>{tuttiSum, tuttiAvg, tuttiMax}
                                         : std::vector<tuttiRedOp_t>{tuttiSum})
                for (size_t count : {size_t{0}, size_t{1}, size_t{7}, size_t{1001}, size_t{300007}})
                  for (bool inPlace : {false, true}) {
                    if (count > 1001 && (dtype != tuttiFloat32 || op != tuttiSum)) continue;
                    int root = (s.collective == Collective::kBroadcast ||
                                s.collective == Collective::kReduce)
                                   ? static_cast<int>((count + dtype) % n)
                                   : 0;
                    CollCase c{s.collective, dtype, op, count, inPlace, root, algo};
                    std::string err = runCollectiveCase(comm, rank, n, c, seed);
                    if (!err.empty() && failures++ < 5)
                      ADD_FAILURE() << "rank " << rank << ": " << describe(c, n) << " seed=" << seed
                                    << ": " << err;
                  }
        // Finalize before Destroy: a rank that closes its sockets while its peers still
        // finish a call must not look to them like a failed peer.
        EXPECT_EQ(tuttiCommFinalize(comm), tuttiSuccess) << tuttiGetLastError(comm);
      },
      options);
}

TEST(TopologyPlans, TwoNodesOfTwo) {
  RankOptions o;
  o.env = {{"TUTTI_RANKS_PER_NODE", "2"}};
  runLayout(4, o, 2);
}

TEST(TopologyPlans, ThreeNodesOfTwo) {
  RankOptions o;
  o.env = {{"TUTTI_RANKS_PER_NODE", "2"}};
  runLayout(6, o, 3);
}

TEST(TopologyPlans, TwoRingChannelsOnTwoNodes) {
  RankOptions o;
  o.env = {{"TUTTI_RANKS_PER_NODE", "2"}, {"TUTTI_MIN_CHANNELS", "2"}};
  const uint64_t seed = testSeed();
  runRanks(
      4,
      [&](tuttiComm_t comm, int rank, int n) {
        EXPECT_GE(comm->topology.layout->channels(), 2);
        for (Collective c :
             {Collective::kAllReduce, Collective::kAllGather, Collective::kReduceScatter})
          for (size_t count : {size_t{3}, size_t{1001}, size_t{262147}})
            for (bool inPlace : {false, true}) {
              CollCase cc{c, tuttiFloat32, tuttiSum, count, inPlace, 0, "ring"};
              std::string err = runCollectiveCase(comm, rank, n, cc, seed);
              EXPECT_EQ(err, "") << "rank " << rank << ": " << describe(cc, n);
            }
        // Finalize before Destroy: a rank that closes its sockets while its peers still
        // finish a call must not look to them like a failed peer.
        EXPECT_EQ(tuttiCommFinalize(comm), tuttiSuccess) << tuttiGetLastError(comm);
      },
      o);
}

// The comm's own tuner (built at init from the emulated layout) picks hierarchical plans for
// large AllReduce across nodes, and its choices give correct sums.
TEST(TopologyPlans, TunerChoicesOnThreeNodes) {
  RankOptions o;
  o.env = {{"TUTTI_RANKS_PER_NODE", "2"}};
  runRanks(
      6,
      [&](tuttiComm_t comm, int rank, int n) {
        EXPECT_EQ(
            comm->tuner.decide(ExecutorKind::kCpu, Collective::kAllReduce, 64u << 20).algorithm,
            Algorithm::kHierarchical);
        for (size_t count : {size_t{5}, size_t{70001}, size_t{1u << 20}}) {
          std::vector<float> in(count), out(count, -1.0f);
          for (size_t j = 0; j < count; ++j) in[j] = static_cast<float>(rank + (j % 97));
          ASSERT_EQ(
              tuttiAllReduce(in.data(), out.data(), count, tuttiFloat32, tuttiSum, comm, nullptr),
              tuttiSuccess)
              << tuttiGetLastError(comm);
          for (size_t j = 0; j < count; ++j) {
            const float want = static_cast<float>(n * (n - 1) / 2 + n * static_cast<int>(j % 97));
            if (out[j] != want) {
              ADD_FAILURE() << "rank " << rank << " count " << count << " element " << j << ": "
                            << out[j] << " != " << want;
              break;
            }
          }
        }
        // Finalize before Destroy: a rank that closes its sockets while its peers still
        // finish a call must not look to them like a failed peer.
        EXPECT_EQ(tuttiCommFinalize(comm), tuttiSuccess) << tuttiGetLastError(comm);
      },
      o);
}

// TUTTI_TOPO_FILE drives the layout (host ranks follow the file's GPUs) and
// TUTTI_TOPO_DUMP_FILE writes what was used; a bad file fails init with its name.
TEST(TopologyPlans, TopologyFilesAtInit) {
  char dir[] = "/tmp/tutti-topo-mp-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string dump = std::string(dir) + "/rank-%p.json";
  RankOptions o;
  o.env = {
      {"TUTTI_TOPO_FILE", std::string(TUTTI_SOURCE_DIR) + "/topologies/nvlink_pairs_4gpu.json"},
      {"TUTTI_TOPO_DUMP_FILE", dump}};
  runRanks(
      4,
      [&](tuttiComm_t comm, int rank, int n) {
        ASSERT_NE(comm->topology.topo, nullptr);
        EXPECT_EQ(comm->topology.topo->numGpus(), 4);
        // Ranks follow GPUs 0..3: the ring pairs the NVLink-bridged GPUs.
        const auto& ring = comm->topology.layout->rings[0];
        for (int i = 0; i < n; i += 2) {
          int a = ring[i], b = ring[i + 1];
          EXPECT_EQ(a / 2, b / 2) << comm->topology.layout->describe();
        }
        CollCase cc{Collective::kAllReduce, tuttiFloat32, tuttiSum, 1001, false, 0, "ring"};
        EXPECT_EQ(runCollectiveCase(comm, rank, n, cc, testSeed()), "");
        // Finalize before Destroy: a rank that closes its sockets while its peers still
        // finish a call must not look to them like a failed peer.
        EXPECT_EQ(tuttiCommFinalize(comm), tuttiSuccess) << tuttiGetLastError(comm);
      },
      o);
  int dumps = 0;
  if (DIR* d = opendir(dir)) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 5 && name.substr(name.size() - 5) == ".json") {
        Topology t;
        EXPECT_EQ(loadTopologyFile(std::string(dir) + "/" + name, &t), tuttiSuccess) << lastError();
        ++dumps;
      }
    }
    closedir(d);
  }
  EXPECT_EQ(dumps, 4);
  if (system((std::string("rm -rf ") + dir).c_str()) != 0) ADD_FAILURE() << "cleanup failed";

  // A Tutti file with an error fails init on every rank, naming the line and field; a
  // missing file or one in another format (NCCL's XML) is skipped with a warning.
  char badDir[] = "/tmp/tutti-topo-bad-XXXXXX";
  ASSERT_NE(mkdtemp(badDir), nullptr);
  const std::string badFile = std::string(badDir) + "/bad.json";
  const std::string xmlFile = std::string(badDir) + "/nccl.xml";
  std::ofstream(badFile)
      << "{\"tutti_topology\": 1,\n \"nodes\": [{\"id\": \"g\", \"type\": \"gpu\", \"dve\": 0}]}\n";
  std::ofstream(xmlFile) << "<system version=\"1\">\n</system>\n";
  for (const std::string& file : {badFile, xmlFile, std::string("/nonexistent/cluster.json")}) {
    RankOptions o2;
    o2.createComm = false;
    o2.env = {{"TUTTI_TOPO_FILE", file}};
    const bool fails = file == badFile;
    tuttiUniqueId id;
    ASSERT_EQ(tuttiGetUniqueId(&id), tuttiSuccess);
    runRanks(
        2,
        [&](tuttiComm_t, int rank, int n) {
          tuttiComm_t c = nullptr;
          tuttiResult_t r = tuttiCommInitRank(&c, n, id, rank);
          if (fails) {
            EXPECT_NE(r, tuttiSuccess);
            EXPECT_NE(std::string(tuttiGetLastError(nullptr)).find("bad.json:2:"),
                      std::string::npos)
                << tuttiGetLastError(nullptr);
            EXPECT_NE(std::string(tuttiGetLastError(nullptr)).find("'dve'"), std::string::npos);
          } else {
            EXPECT_EQ(r, tuttiSuccess) << file << ": " << tuttiGetLastError(nullptr);
            if (c) tuttiCommDestroy(c);
          }
        },
        o2);
  }
  EXPECT_EQ(system((std::string("rm -rf ") + badDir).c_str()), 0);
}

}  // namespace
}  // namespace tutti::testing
