// Paths between GPUs and to NICs, transport classes, and the rings built from them: every
// ring visits each GPU once and joins neighbours over the best link class available.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "algorithms/rank_layout.h"
#include "topology/comm_topology.h"
#include "topology/paths.h"
#include "topology/ring_search.h"
#include "topology/topo_file.h"

namespace tutti {
namespace {

const std::string kTopoDir = std::string(TUTTI_SOURCE_DIR) + "/topologies";

Topology load(const std::string& name) {
  Topology t;
  EXPECT_EQ(loadTopologyFile(kTopoDir + "/" + name, &t), tuttiSuccess) << lastError();
  return t;
}

Topology parse(const std::string& text) {
  Topology t;
  EXPECT_EQ(parseTopologyText(text, "inline", ".", &t), tuttiSuccess) << lastError();
  return t;
}

TEST(Paths, NvSwitchServer) {
  Topology t = load("hgx_h100_8gpu.json");
  for (int a = 0; a < 8; ++a)
    for (int b = 0; b < 8; ++b) {
      Path p = gpuPath(t, a, b);
      if (a == b) {
        EXPECT_EQ(p.type, PathType::kSelf);
        continue;
      }
      EXPECT_EQ(p.type, PathType::kNvLink);
      EXPECT_EQ(pathLabel(p), "NV18");
      EXPECT_EQ(transportFor(t, a, b), TransportClass::kP2pNvLink);
      EXPECT_EQ(pathBetween(t, a, b), PathType::kNvLink);
    }
  // Each GPU's nearest NIC sits under its PCIe switch; rails are GPU i -> NIC i.
  for (int g = 0; g < 8; ++g) {
    EXPECT_EQ(nearestNic(t, g), g);
    Path p = gpuNicPath(t, g, g);
    EXPECT_EQ(p.type, PathType::kPix);
    EXPECT_NEAR(p.bw, pcieBandwidth(5, 16), 1e-9);
    EXPECT_EQ(gpuNicPath(t, g, (g + 2) % 8).type,
              g / 4 == ((g + 2) % 8) / 4 ? PathType::kPhb : PathType::kSys);
  }
}

TEST(Paths, PcieServerAndBridgedPairs) {
  Topology t = load("pcie_8gpu_2switch.json");
  EXPECT_EQ(pathBetween(t, 0, 3), PathType::kPix);
  EXPECT_EQ(pathBetween(t, 0, 4), PathType::kSys);
  EXPECT_EQ(transportFor(t, 0, 3), TransportClass::kP2pPcie);
  EXPECT_EQ(transportFor(t, 0, 4), TransportClass::kHostShm);
  EXPECT_NEAR(gpuPath(t, 0, 4).bw, std::min(pcieBandwidth(4, 16), 48.0), 1e-9);
  Topology b = load("nvlink_pairs_4gpu.json");
  EXPECT_EQ(pathLabel(gpuPath(b, 0, 1)), "NV12");
  EXPECT_NEAR(gpuPath(b, 0, 1).bw, 12 * 25.0, 1e-9);
  EXPECT_EQ(pathBetween(b, 1, 2), PathType::kPhb);
  EXPECT_EQ(transportFor(b, 2, 3), TransportClass::kP2pNvLink);
}

TEST(Paths, NvlinkThroughAGpuSwitchesAndP2pOff) {
  Topology t = parse(R"({"tutti_topology": 1, "nodes": [
    {"id": "cpu0", "type": "cpu", "numa": 0},
    {"id": "sw0", "type": "pci_switch"}, {"id": "sw1", "type": "pci_switch"}, {"id": "sw2", "type": "pci_switch"},
    {"id": "g0", "type": "gpu", "dev": 0, "no_p2p": ["g3"]}, {"id": "g1", "type": "gpu", "dev": 1},
    {"id": "g2", "type": "gpu", "dev": 2}, {"id": "g3", "type": "gpu", "dev": 3},
    {"id": "nic", "type": "nic", "speed_gbps": 200, "rdma": true}],
   "links": [
    {"a": "cpu0", "b": "sw0", "type": "pcie", "gen": 4, "width": 16},
    {"a": "sw0", "b": "sw1", "type": "pcie", "gen": 4, "width": 16},
    {"a": "sw0", "b": "sw2", "type": "pcie", "gen": 4, "width": 16},
    {"a": "sw1", "b": "g0", "type": "pcie", "gen": 4, "width": 16},
    {"a": "sw1", "b": "g1", "type": "pcie", "gen": 4, "width": 16},
    {"a": "sw2", "b": "g2", "type": "pcie", "gen": 4, "width": 16},
    {"a": "sw2", "b": "g3", "type": "pcie", "gen": 4, "width": 8},
    {"a": "sw1", "b": "nic", "type": "pcie", "gen": 4, "width": 16},
    {"a": "g0", "b": "g1", "type": "nvlink", "count": 2},
    {"a": "g1", "b": "g2", "type": "nvlink", "count": 4}]})");
  EXPECT_EQ(pathLabel(gpuPath(t, 0, 1)), "NV2");
  EXPECT_EQ(pathBetween(t, 0, 2), PathType::kNvLinkViaGpu);
  EXPECT_EQ(pathBetween(t, 0, 3), PathType::kPxb);
  EXPECT_NEAR(gpuPath(t, 0, 3).bw, pcieBandwidth(4, 8), 1e-9);
  EXPECT_EQ(transportFor(t, 0, 3), TransportClass::kHostShm);  // no_p2p
  EXPECT_EQ(transportFor(t, 1, 3), TransportClass::kP2pPcie);
  EXPECT_EQ(gpuNicPath(t, 0, 0).type, PathType::kPix);
  EXPECT_EQ(gpuNicPath(t, 3, 0).type, PathType::kPxb);
}

TEST(Paths, AcrossHostsThroughNearestNics) {
  Topology t = load("cluster_16x8_h100.json");
  Path p = gpuPath(t, 3, 8 + 3);
  EXPECT_EQ(p.type, PathType::kNet);
  EXPECT_EQ(p.nic, 3);
  EXPECT_EQ(p.peerNic, 8 + 3);
  EXPECT_NEAR(p.bw, 50.0, 1e-9);  // 400 Gb/s
  EXPECT_EQ(transportFor(t, 3, 11), TransportClass::kNet);
  EXPECT_GT(p.latUs, t.netLatencyUs);
}

// Brute force: the best achievable worst hop and NVLink hop count over all cycles.
struct Best {
  int worstType;
  int nvHops;
};
Best bruteForce(const Topology& t, const std::vector<int>& gpus) {
  std::vector<int> perm(gpus.size());
  std::iota(perm.begin(), perm.end(), 0);
  Best best{1 << 30, -1};
  do {
    int worst = 0, nv = 0;
    for (size_t i = 0; i < perm.size(); ++i) {
      PathType p = pathBetween(t, gpus[perm[i]], gpus[perm[(i + 1) % perm.size()]]);
      worst = std::max(worst, static_cast<int>(p));
      nv += p == PathType::kNvLink;
    }
    if (worst < best.worstType || (worst == best.worstType && nv > best.nvHops)) best = {worst, nv};
  } while (std::next_permutation(perm.begin() + 1, perm.end()));
  return best;
}

TEST(Rings, EveryGpuOnceJoinedByTheBestLinks) {
  for (const char* f : {"hgx_h100_8gpu.json", "pcie_8gpu_2switch.json", "nvlink_pairs_4gpu.json",
                        "h200_nvswitch_4gpu.json"}) {
    Topology t = load(f);
    std::vector<int> gpus(t.numGpus());
    std::iota(gpus.begin(), gpus.end(), 0);
    auto rings = searchRings(t, gpus, defaultRingChannels(t, gpus));
    ASSERT_FALSE(rings.empty()) << f;
    const Best best = bruteForce(t, gpus);
    for (const auto& r : rings) {
      std::vector<int> sorted = r;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(sorted, gpus) << f << ": each GPU exactly once";
      int worst = 0, nv = 0;
      for (size_t i = 0; i < r.size(); ++i) {
        PathType p = pathBetween(t, gpus[r[i]], gpus[r[(i + 1) % r.size()]]);
        worst = std::max(worst, static_cast<int>(p));
        nv += p == PathType::kNvLink;
      }
      EXPECT_EQ(worst, best.worstType) << f;
      EXPECT_EQ(nv, best.nvHops) << f << ": NVLink hops before PCIe";
    }
  }
  // Shuffled device numbering: the search still pairs NVLink neighbours.
  Topology t = parse(R"({"tutti_topology": 1, "nodes": [
    {"id": "cpu0", "type": "cpu"}, {"id": "a", "type": "gpu"}, {"id": "b", "type": "gpu"},
    {"id": "c", "type": "gpu"}, {"id": "d", "type": "gpu"}, {"id": "e", "type": "gpu"}, {"id": "f", "type": "gpu"}],
   "links": [
    {"a": "cpu0", "b": "a", "type": "pcie", "gen": 4, "width": 16}, {"a": "cpu0", "b": "b", "type": "pcie", "gen": 4, "width": 16},
    {"a": "cpu0", "b": "c", "type": "pcie", "gen": 4, "width": 16}, {"a": "cpu0", "b": "d", "type": "pcie", "gen": 4, "width": 16},
    {"a": "cpu0", "b": "e", "type": "pcie", "gen": 4, "width": 16}, {"a": "cpu0", "b": "f", "type": "pcie", "gen": 4, "width": 16},
    {"a": "a", "b": "d", "type": "nvlink", "count": 4}, {"a": "b", "b": "f", "type": "nvlink", "count": 4},
    {"a": "c", "b": "e", "type": "nvlink", "count": 4}]})");
  std::vector<int> gpus = {0, 1, 2, 3, 4, 5};
  auto r = searchRings(t, gpus, 1)[0];
  int nv = 0;
  for (size_t i = 0; i < r.size(); ++i)
    nv += pathBetween(t, r[i], r[(i + 1) % r.size()]) == PathType::kNvLink;
  EXPECT_EQ(nv, 3);
}

TEST(Rings, GreedySearchForLargeHosts) {
  // 12 GPUs in NVLink pairs: beyond the exhaustive limit, 2-opt still finds all pairs.
  std::string nodes = R"({"id": "cpu0", "type": "cpu"})", links;
  for (int g = 0; g < 12; ++g) {
    nodes += ", {\"id\": \"g" + std::to_string(g) +
             "\", \"type\": \"gpu\", \"dev\": " + std::to_string(g) + "}";
    links += std::string(g ? ", " : "") + "{\"a\": \"cpu0\", \"b\": \"g" + std::to_string(g) +
             "\", \"type\": \"pcie\", \"gen\": 4, \"width\": 16}";
  }
  for (int g = 0; g < 6; ++g)
    links += ", {\"a\": \"g" + std::to_string(g) + "\", \"b\": \"g" + std::to_string(g + 6) +
             "\", \"type\": \"nvlink\"}";
  Topology t =
      parse("{\"tutti_topology\": 1, \"nodes\": [" + nodes + "], \"links\": [" + links + "]}");
  std::vector<int> gpus(12);
  std::iota(gpus.begin(), gpus.end(), 0);
  auto r = searchRings(t, gpus, 1)[0];
  int nv = 0;
  for (size_t i = 0; i < r.size(); ++i)
    nv += pathBetween(t, r[i], r[(i + 1) % r.size()]) == PathType::kNvLink;
  EXPECT_EQ(nv, 6);
}

// Across hosts, the rings of a layout join GPU i of one host to GPU i of the next.
TEST(Rings, ClusterLayoutIsRailAligned) {
  Topology t = load("cluster_16x8_h100.json");
  const int n = 128;
  std::vector<int> nodeOf(n), gpuOf(n);
  for (int r = 0; r < n; ++r) {
    nodeOf[r] = r / 8;
    gpuOf[r] = r % 8;
  }
  RankLayout l;
  ASSERT_EQ(layoutOnTopology(t, nodeOf, gpuOf, &l), tuttiSuccess) << lastError();
  EXPECT_EQ(l.check(), "");
  EXPECT_EQ(l.nnodes, 16);
  EXPECT_EQ(l.localRanks(), 8);
  EXPECT_EQ(l.channels(), 8);
  std::vector<int> railsUsed(8, 0);
  for (int c = 0; c < l.channels(); ++c)
    for (int i = 0; i < n; ++i) {
      const int a = l.rings[c][i], b = l.rings[c][(i + 1) % n];
      const PathType p = pathBetween(t, l.gpu[a], l.gpu[b]);
      if (l.nodeOf[a] == l.nodeOf[b]) {
        EXPECT_EQ(p, PathType::kNvLink);
        continue;
      }
      EXPECT_EQ(p, PathType::kNet);
      EXPECT_EQ(gpuOf[a], gpuOf[b]) << "ring " << c << " hop " << a << "->" << b;
      EXPECT_EQ(nearestNic(t, l.gpu[a]) % 8, gpuOf[a]);
      railsUsed[gpuOf[a]]++;
    }
  for (int rail = 0; rail < 8; ++rail)
    EXPECT_GT(railsUsed[rail], 0) << "rail " << rail << " unused";
}

}  // namespace
}  // namespace tutti
