// Communicator topology setup: node grouping from host hashes, each node's ring orders from
// its topology, one all-gather so every rank knows every node's orders.
#include "topology/comm_topology.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "algorithms/rank_layout.h"
#include "base/logging.h"
#include "bootstrap/bootstrap.h"
#include "bootstrap/peer_info.h"
#include "topology/detect.h"
#include "topology/ring_search.h"

namespace tutti {
namespace {

constexpr int kMaxRingChannels = 8;

// Ring orders of one node's ranks (indexes into `gpus`): along the fastest GPU links when
// every rank has a distinct GPU, else in local order and its reverse.
std::vector<std::vector<int>> nodeOrders(const Topology* topo, const std::vector<int>& gpus) {
  const int l = static_cast<int>(gpus.size());
  bool allGpus = topo && l > 1;
  for (int g : gpus) allGpus &= g >= 0;
  std::vector<int> sorted = gpus;
  std::sort(sorted.begin(), sorted.end());
  allGpus &= std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  if (allGpus)
    return searchRings(*topo, gpus, std::min(kMaxRingChannels, defaultRingChannels(*topo, gpus)));
  std::vector<int> fwd(l);
  std::iota(fwd.begin(), fwd.end(), 0);
  return {fwd, std::vector<int>(fwd.rbegin(), fwd.rend())};
}

std::string busIdText(int64_t id) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%04x:%02x:%02x.0", static_cast<unsigned>(id >> 16) & 0xffff,
           static_cast<unsigned>(id >> 8) & 0xff, static_cast<unsigned>(id) & 0xff);
  return buf;
}

}  // namespace

Result layoutOnTopology(const Topology& topo, const std::vector<int>& nodeOf,
                        const std::vector<int>& gpuOf, RankLayout* out) {
  const int n = static_cast<int>(nodeOf.size());
  std::vector<std::vector<int>> members;
  std::vector<int> hostOf;
  for (int r = 0; r < n; ++r) {
    auto it = std::find(hostOf.begin(), hostOf.end(), nodeOf[r]);
    if (it == hostOf.end()) {
      hostOf.push_back(nodeOf[r]);
      members.push_back({});
      it = hostOf.end() - 1;
    }
    members[it - hostOf.begin()].push_back(r);
  }
  std::vector<std::vector<std::vector<int>>> orders;  // [node][channel] -> member indexes
  size_t channels = kMaxRingChannels;
  std::vector<int> gpuGlobal(n, -1);
  for (size_t k = 0; k < members.size(); ++k) {
    std::vector<int> gpus;
    for (int r : members[k]) {
      int g =
          gpuOf[r] >= 0 && hostOf[k] < topo.numHosts() ? topo.gpuIndex(hostOf[k], gpuOf[r]) : -1;
      gpuGlobal[r] = g;
      gpus.push_back(g);
    }
    orders.push_back(nodeOrders(&topo, gpus));
    channels = std::min(channels, orders.back().size());
  }
  std::vector<std::vector<int>> pos(channels, std::vector<int>(n));
  for (size_t k = 0; k < members.size(); ++k)
    for (size_t c = 0; c < channels; ++c)
      for (size_t i = 0; i < orders[k][c].size(); ++i)
        pos[c][members[k][orders[k][c][i]]] = static_cast<int>(i);
  TUTTI_TRY(buildRankLayout(nodeOf, pos, out));
  out->gpu = gpuGlobal;
  return tuttiSuccess;
}

Result setupCommTopology(int me, const std::vector<PeerInfo>& peers, Bootstrap& bootstrap,
                         CommTopology* out, TunerContext* tc) {
  std::shared_ptr<const Topology> topo;
  TUTTI_TRY(processTopology(&topo));
  const int n = static_cast<int>(peers.size());
  // Nodes numbered by their first rank; my node's ranks in rank order.
  std::vector<int> nodeOf(n);
  std::vector<uint64_t> hashes;
  for (int r = 0; r < n; ++r) {
    auto it = std::find(hashes.begin(), hashes.end(), peers[r].hostHash);
    if (it == hashes.end()) it = hashes.insert(hashes.end(), peers[r].hostHash);
    nodeOf[r] = static_cast<int>(it - hashes.begin());
  }
  std::vector<int> mine;
  for (int r = 0; r < n; ++r)
    if (nodeOf[r] == nodeOf[me]) mine.push_back(r);
  // A topology file may describe a whole cluster: node i of the communicator is host i.
  const int host = topo->numHosts() > 1 ? nodeOf[me] % topo->numHosts() : 0;
  std::vector<int> gpus;
  bool anyGpu = false;
  for (int r : mine) {
    const PeerInfo& p = peers[r];
    int g = p.busId >= 0 ? topo->gpuByBusId(host, busIdText(p.busId)) : -1;
    if (g < 0 && p.cudaDev >= 0) g = topo->gpuIndex(host, p.cudaDev);
    gpus.push_back(g);
    anyGpu |= g >= 0;
  }
  // Host-only ranks on a host with enough GPUs (TUTTI_TOPO_FILE emulation): rank i of the
  // node follows GPU i, so rings take the file's fast links.
  if (!anyGpu && static_cast<int>(topo->hosts[host].gpus.size()) >= static_cast<int>(mine.size()))
    for (size_t i = 0; i < mine.size(); ++i) gpus[i] = topo->gpuIndex(host, static_cast<int>(i));
  const std::vector<std::vector<int>> orders = nodeOrders(topo.get(), gpus);
  struct Info {
    int32_t channels;
    int16_t pos[kMaxRingChannels];
  };
  std::vector<Info> infos(n);
  Info& my = infos[me];
  my = Info{};
  my.channels = static_cast<int32_t>(std::min<size_t>(orders.size(), kMaxRingChannels));
  const int myIndex = static_cast<int>(std::find(mine.begin(), mine.end(), me) - mine.begin());
  for (int c = 0; c < my.channels; ++c)
    my.pos[c] = static_cast<int16_t>(std::find(orders[c].begin(), orders[c].end(), myIndex) -
                                     orders[c].begin());
  TUTTI_CHECK(bootstrap.allGather(infos.data(), sizeof(Info)), "exchanging ring orders");
  int channels = kMaxRingChannels;
  for (const Info& i : infos) channels = std::min<int>(channels, std::max(1, i.channels));
  std::vector<std::vector<int>> pos(channels, std::vector<int>(n));
  for (int c = 0; c < channels; ++c)
    for (int r = 0; r < n; ++r) pos[c][r] = infos[r].pos[c];
  auto layout = std::make_shared<RankLayout>();
  if (buildRankLayout(nodeOf, pos, layout.get()) != tuttiSuccess) {
    // Ranks of one node disagreed (different topology files?): fall back to rank order.
    TUTTI_WARN("ring orders from the topology are inconsistent (%s); using rank order",
               lastError().c_str());
    std::vector<std::vector<int>> local(1, std::vector<int>(n));
    for (int r = 0; r < n; ++r) local[0][r] = peers[r].nodeLocalRank;
    TUTTI_TRY(buildRankLayout(nodeOf, local, layout.get()));
  }
  layout->gpu.assign(n, -1);
  for (size_t i = 0; i < mine.size(); ++i) layout->gpu[mine[i]] = gpus[i];
  out->topo = topo;
  out->host = host;
  out->layout = layout;
  tc->nranks = n;
  tc->nodes = layout->nnodes;
  tc->layout = layout.get();
  tc->topo = topo.get();
  tc->localGpus.clear();
  for (int r : layout->nodeRanks[layout->nodeOf[me]]) tc->localGpus.push_back(layout->gpu[r]);
  if (me == 0) TUTTI_INFO("layout: %s", layout->describe().c_str());
  return tuttiSuccess;
}

}  // namespace tutti
