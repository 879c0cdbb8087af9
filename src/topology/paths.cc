// Best-path search inside each host (a label-setting search that ranks paths by type, then
// bandwidth, then latency) and the derived GPU-GPU, GPU-NIC and cross-host answers.
#include "topology/paths.h"

#include <algorithm>
#include <queue>

namespace tutti {
namespace {

// What a partial path has crossed so far; the path type follows from it.
struct Label {
  double bw = 1e30;
  double lat = 0;
  int hops = 0;
  int nvlinks = 1 << 30;
  bool nvOnly = true;
  bool viaGpu = false;
  bool smp = false;
  int cpus = 0;
  int switches = 0;

  PathType type() const {
    if (hops == 0) return PathType::kSelf;
    if (nvOnly) return viaGpu ? PathType::kNvLinkViaGpu : PathType::kNvLink;
    if (smp) return PathType::kSys;
    if (cpus > 0) return PathType::kPhb;
    return switches >= 2 ? PathType::kPxb : PathType::kPix;
  }
  // True when this label is strictly preferable to `o`.
  bool better(const Label& o) const {
    PathType t = type(), u = o.type();
    if (t != u) return t < u;
    if (bw != o.bw) return bw > o.bw;
    if (lat != o.lat) return lat < o.lat;
    return hops < o.hops;
  }
};

Path toPath(const Label& l) {
  Path p;
  p.type = l.type();
  p.bw = l.hops ? l.bw : 0;
  p.latUs = l.lat;
  p.hops = l.hops;
  p.nvlinks = l.nvOnly && l.hops ? l.nvlinks : 0;
  return p;
}

// Best labels from `src` to every node of its host.
std::vector<Label> search(const Topology& t, int src, const HostInfo& h) {
  const int base = h.firstNode, n = h.endNode - h.firstNode;
  std::vector<Label> best(n);
  std::vector<bool> done(n, false), reached(n, false);
  reached[src - base] = true;
  // n is small (tens of nodes): a linear scan for the next node is simpler than a heap.
  for (;;) {
    int u = -1;
    for (int i = 0; i < n; ++i)
      if (reached[i] && !done[i] && (u < 0 || best[i].better(best[u]))) u = i;
    if (u < 0) break;
    done[u] = true;
    const TopoNode& node = t.nodes[base + u];
    const Label& cur = best[u];
    if (base + u != src) {
      // Endpoints do not forward: NICs never, GPUs only NVLink to NVLink (NVB).
      if (node.type == NodeType::kNic || node.type == NodeType::kNet) continue;
      if (node.type == NodeType::kGpu && !cur.nvOnly) continue;
    }
    for (int li : node.links) {
      const TopoLink& l = t.links[li];
      if (l.type == LinkType::kNet) continue;
      const int v = l.other(base + u);
      if (v < base || v >= h.endNode || done[v - base]) continue;
      if (base + u != src && node.type == NodeType::kGpu && l.type != LinkType::kNvLink) continue;
      Label next = cur;
      next.bw = std::min(cur.bw, l.bw);
      next.lat = cur.lat + l.latUs;
      next.hops = cur.hops + 1;
      if (l.type == LinkType::kNvLink)
        next.nvlinks = std::min(cur.nvlinks, l.count);
      else
        next.nvOnly = false;
      if (l.type == LinkType::kSmp) next.smp = true;
      if (base + u != src) {
        if (node.type == NodeType::kGpu) next.viaGpu = true;
        if (node.type == NodeType::kCpu) next.cpus++;
        if (node.type == NodeType::kPciSwitch) next.switches++;
      }
      if (!reached[v - base] || next.better(best[v - base])) {
        best[v - base] = next;
        reached[v - base] = true;
      }
    }
  }
  for (int i = 0; i < n; ++i)
    if (!reached[i]) best[i].hops = -1;
  return best;
}

bool p2pAllowed(const Topology& t, int nodeA, int nodeB) {
  const TopoNode &a = t.nodes[nodeA], &b = t.nodes[nodeB];
  return std::find(a.noP2p.begin(), a.noP2p.end(), b.id) == a.noP2p.end() &&
         std::find(b.noP2p.begin(), b.noP2p.end(), a.id) == b.noP2p.end();
}

}  // namespace

const char* pathTypeName(PathType t) {
  static const char* names[] = {"X", "NV", "NVB", "PIX", "PXB", "PHB", "SYS", "NET", "-"};
  return names[static_cast<int>(t) <= static_cast<int>(PathType::kNone) ? static_cast<int>(t) : 8];
}

const char* transportClassName(TransportClass t) {
  static const char* names[] = {"self", "p2p-nvlink", "p2p-pcie", "host-shm", "net"};
  return names[static_cast<int>(t)];
}

std::string pathLabel(const Path& p) {
  if (p.type == PathType::kNvLink) return "NV" + std::to_string(p.nvlinks);
  return pathTypeName(p.type);
}

std::unique_ptr<PathTable> PathTable::compute(const Topology& t) {
  auto table = std::make_unique<PathTable>();
  table->nearest_.assign(t.gpus.size(), -1);
  int gpuBase = 0, nicBase = 0;
  for (const HostInfo& h : t.hosts) {
    HostPaths hp;
    hp.ngpus = static_cast<int>(h.gpus.size());
    hp.nnics = static_cast<int>(h.nics.size());
    hp.gg.resize(hp.ngpus * hp.ngpus);
    hp.gn.resize(hp.ngpus * hp.nnics);
    for (int a = 0; a < hp.ngpus; ++a) {
      std::vector<Label> best = search(t, h.gpus[a], h);
      auto pathTo = [&](int node) {
        const Label& l = best[node - h.firstNode];
        return l.hops < 0 ? Path() : toPath(l);
      };
      for (int b = 0; b < hp.ngpus; ++b) hp.gg[a * hp.ngpus + b] = pathTo(h.gpus[b]);
      int pick = -1;
      for (int k = 0; k < hp.nnics; ++k) {
        Path p = pathTo(h.nics[k]);
        p.nic = nicBase + k;
        hp.gn[a * hp.nnics + k] = p;
        if (p.type == PathType::kNone) continue;
        if (pick < 0) {
          pick = k;
          continue;
        }
        const Path& q = hp.gn[a * hp.nnics + pick];
        // Prefer the better path; on a tie, the NIC whose index matches the GPU's (rails).
        bool better = p.type != q.type ? p.type < q.type
                      : p.bw != q.bw   ? p.bw > q.bw
                                       : (k == a % hp.nnics && pick != a % hp.nnics);
        if (better) pick = k;
      }
      table->nearest_[gpuBase + a] = pick < 0 ? -1 : nicBase + pick;
    }
    table->hosts_.push_back(std::move(hp));
    gpuBase += static_cast<int>(h.gpus.size());
    nicBase += static_cast<int>(h.nics.size());
  }
  return table;
}

const Path& PathTable::gpuGpu(int h, int la, int lb) const {
  const HostPaths& hp = hosts_[h];
  return hp.gg[la * hp.ngpus + lb];
}

const Path& PathTable::gpuNic(int h, int lg, int ln) const {
  const HostPaths& hp = hosts_[h];
  return hp.gn[lg * hp.nnics + ln];
}

Path gpuNicPath(const Topology& t, int gpu, int nic) {
  const int host = t.nodes[t.gpus[gpu]].host;
  if (t.nodes[t.nics[nic]].host != host) return Path();
  const auto& list = t.hosts[host].nics;
  int ln = static_cast<int>(std::find(list.begin(), list.end(), t.nics[nic]) - list.begin());
  return t.paths().gpuNic(host, t.gpuLocal(gpu), ln);
}

int nearestNic(const Topology& t, int gpu) { return t.paths().nearestNic(gpu); }

Path gpuPath(const Topology& t, int a, int b) {
  const int ha = t.nodes[t.gpus[a]].host, hb = t.nodes[t.gpus[b]].host;
  if (ha == hb) return t.paths().gpuGpu(ha, t.gpuLocal(a), t.gpuLocal(b));
  const int na = nearestNic(t, a), nb = nearestNic(t, b);
  if (na < 0 || nb < 0) return Path();
  Path pa = gpuNicPath(t, a, na), pb = gpuNicPath(t, b, nb);
  const TopoNode &nicA = t.nodes[t.nics[na]], &nicB = t.nodes[t.nics[nb]];
  Path p;
  p.type = PathType::kNet;
  p.bw = std::min({pa.bw, pb.bw, nicA.speedGbps / 8.0, nicB.speedGbps / 8.0});
  p.latUs = pa.latUs + pb.latUs + 2 * defaultLinkLatencyUs(LinkType::kNet) + t.netLatencyUs;
  p.hops = pa.hops + pb.hops + 2;
  p.nic = na;
  p.peerNic = nb;
  return p;
}

PathType pathBetween(const Topology& t, int a, int b) { return gpuPath(t, a, b).type; }

TransportClass transportFor(const Topology& t, int a, int b) {
  if (a == b) return TransportClass::kSelf;
  Path p = gpuPath(t, a, b);
  switch (p.type) {
    case PathType::kNet:
    case PathType::kNone: return TransportClass::kNet;
    case PathType::kSelf: return TransportClass::kSelf;
    default: break;
  }
  if (!p2pAllowed(t, t.gpus[a], t.gpus[b])) return TransportClass::kHostShm;
  if (p.type == PathType::kNvLink) return TransportClass::kP2pNvLink;
  if (p.type <= PathType::kPxb) return TransportClass::kP2pPcie;
  return TransportClass::kHostShm;
}

}  // namespace tutti
