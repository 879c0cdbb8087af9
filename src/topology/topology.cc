// Topology graph construction, validation and multi-host assembly.
#include "topology/topology.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <sstream>

#include "topology/paths.h"

namespace tutti {

const char* nodeTypeName(NodeType t) {
  static const char* names[] = {"gpu", "cpu", "pci_switch", "nvswitch", "nic", "net"};
  return t < NodeType::kCount ? names[static_cast<int>(t)] : "?";
}

const char* linkTypeName(LinkType t) {
  static const char* names[] = {"nvlink", "pcie", "smp", "net"};
  return t < LinkType::kCount ? names[static_cast<int>(t)] : "?";
}

bool parseNodeType(const std::string& name, NodeType* out) {
  for (int i = 0; i < static_cast<int>(NodeType::kCount); ++i)
    if (name == nodeTypeName(static_cast<NodeType>(i))) {
      *out = static_cast<NodeType>(i);
      return true;
    }
  return false;
}

bool parseLinkType(const std::string& name, LinkType* out) {
  for (int i = 0; i < static_cast<int>(LinkType::kCount); ++i)
    if (name == linkTypeName(static_cast<LinkType>(i))) {
      *out = static_cast<LinkType>(i);
      return true;
    }
  return false;
}

double pcieBandwidth(int gen, int width) {
  // Per-lane payload rate after line encoding, GB/s.
  static const double perLane[] = {0, 0.25, 0.5, 0.985, 1.969, 3.938, 7.563};
  if (gen < 1) gen = 1;
  if (gen > 6) gen = 6;
  return perLane[gen] * (width > 0 ? width : 1);
}

double nvlinkBandwidth(int version) {
  switch (version) {
    case 1: return 20.0;
    case 2:
    case 3: return 25.0;
    case 4: return 26.5625;
    default: return version >= 5 ? 50.0 : 25.0;
  }
}

double defaultLinkLatencyUs(LinkType type) {
  switch (type) {
    case LinkType::kNvLink: return 0.5;
    case LinkType::kPcie: return 0.6;
    case LinkType::kSmp: return 0.8;
    case LinkType::kNet: return 1.0;
    default: return 1.0;
  }
}

std::string normalizeBusId(const std::string& busId) {
  std::string s;
  for (char c : busId) s += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  unsigned dom = 0, bus = 0, dev = 0, fn = 0;
  if (sscanf(s.c_str(), "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4 ||
      (dom = 0, sscanf(s.c_str(), "%x:%x.%x", &bus, &dev, &fn) == 3)) {
    char out[32];
    snprintf(out, sizeof(out), "%04x:%02x:%02x.%x", dom & 0xffff, bus & 0xff, dev & 0x1f, fn & 7);
    return out;
  }
  return s;
}

Topology::Topology() = default;
Topology::~Topology() = default;

Topology::Topology(const Topology& o)
    : name(o.name),
      nodes(o.nodes),
      links(o.links),
      hosts(o.hosts),
      gpus(o.gpus),
      nics(o.nics),
      net(o.net),
      netLatencyUs(o.netLatencyUs),
      hostNames(o.hostNames),
      paths_(o.paths_ ? std::make_unique<PathTable>(*o.paths_) : nullptr) {}

Topology::Topology(Topology&& o) noexcept = default;
Topology& Topology::operator=(Topology&& o) noexcept = default;

Topology& Topology::operator=(const Topology& o) {
  if (this == &o) return *this;
  name = o.name;
  hostNames = o.hostNames;
  nodes = o.nodes;
  links = o.links;
  hosts = o.hosts;
  gpus = o.gpus;
  nics = o.nics;
  net = o.net;
  netLatencyUs = o.netLatencyUs;
  paths_ = o.paths_ ? std::make_unique<PathTable>(*o.paths_) : nullptr;
  return *this;
}

int Topology::addNode(const TopoNode& n) {
  nodes.push_back(n);
  nodes.back().links.clear();
  paths_.reset();
  return static_cast<int>(nodes.size()) - 1;
}

int Topology::addLink(const TopoLink& l) {
  TopoLink k = l;
  if (k.count < 1) k.count = 1;
  if (k.bw <= 0) {
    switch (k.type) {
      case LinkType::kNvLink: k.bw = k.count * nvlinkBandwidth(4); break;
      case LinkType::kPcie: k.bw = pcieBandwidth(k.gen ? k.gen : 4, k.width ? k.width : 16); break;
      case LinkType::kSmp: k.bw = 40.0; break;
      default: k.bw = 12.5; break;
    }
  }
  if (k.latUs <= 0) k.latUs = defaultLinkLatencyUs(k.type);
  links.push_back(k);
  const int idx = static_cast<int>(links.size()) - 1;
  if (k.a >= 0 && k.a < static_cast<int>(nodes.size())) nodes[k.a].links.push_back(idx);
  if (k.b >= 0 && k.b < static_cast<int>(nodes.size()) && k.b != k.a)
    nodes[k.b].links.push_back(idx);
  paths_.reset();
  return idx;
}

int Topology::find(int host, const std::string& id) const {
  if (host >= 0 && host < static_cast<int>(hosts.size())) {
    for (int i = hosts[host].firstNode; i < hosts[host].endNode; ++i)
      if (nodes[i].id == id) return i;
    return -1;
  }
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].host == host && nodes[i].id == id) return static_cast<int>(i);
  return -1;
}

int Topology::gpuIndex(int host, int local) const {
  if (host < 0 || host >= numHosts() || local < 0 ||
      local >= static_cast<int>(hosts[host].gpus.size()))
    return -1;
  int before = 0;
  for (int h = 0; h < host; ++h) before += static_cast<int>(hosts[h].gpus.size());
  return before + local;
}

int Topology::gpuLocal(int gpu) const {
  const int host = nodes[gpus[gpu]].host;
  const auto& list = hosts[host].gpus;
  return static_cast<int>(std::find(list.begin(), list.end(), gpus[gpu]) - list.begin());
}

int Topology::gpuByBusId(int host, const std::string& busId) const {
  const std::string want = normalizeBusId(busId);
  for (size_t g = 0; g < gpus.size(); ++g) {
    const TopoNode& n = nodes[gpus[g]];
    if (n.host == host && normalizeBusId(n.busId) == want) return static_cast<int>(g);
  }
  return -1;
}

std::string Topology::summary() const {
  // Group identical host shapes: "128 x (8 GPU, 8 NIC, 2 CPU, 4 PCI switch, 1 NVSwitch)".
  std::vector<std::pair<std::string, int>> kinds;
  for (const HostInfo& h : hosts) {
    int counts[static_cast<int>(NodeType::kCount)] = {};
    for (int i = h.firstNode; i < h.endNode; ++i) counts[static_cast<int>(nodes[i].type)]++;
    std::ostringstream os;
    os << counts[0] << " GPU, " << counts[4] << " NIC, " << counts[1] << " CPU, " << counts[2]
       << " PCI switch, " << counts[3] << " NVSwitch";
    std::string k = os.str();
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](auto& p) { return p.first == k; });
    if (it == kinds.end())
      kinds.push_back({k, 1});
    else
      it->second++;
  }
  std::ostringstream os;
  os << (name.empty() ? "topology" : name) << ": " << hosts.size() << " host(s), " << gpus.size()
     << " GPU(s), " << nics.size() << " NIC(s)";
  for (auto& [k, n] : kinds) os << "; " << n << " x (" << k << ")";
  return os.str();
}

Result Topology::finalize() {
  paths_.reset();
  hosts.clear();
  gpus.clear();
  nics.clear();
  // Drop a previous network node and its links: they are rebuilt below.
  if (net >= 0) {
    std::vector<TopoNode> keptNodes;
    std::vector<int> remap(nodes.size(), -1);
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].type != NodeType::kNet) {
        remap[i] = static_cast<int>(keptNodes.size());
        keptNodes.push_back(nodes[i]);
      }
    std::vector<TopoLink> keptLinks;
    for (const TopoLink& l : links)
      if (l.type != LinkType::kNet) {
        TopoLink k = l;
        k.a = remap[l.a];
        k.b = remap[l.b];
        keptLinks.push_back(k);
      }
    nodes.swap(keptNodes);
    links.clear();
    for (TopoNode& n : nodes) n.links.clear();
    net = -1;
    for (const TopoLink& l : keptLinks) addLink(l);
  }
  const int nn = static_cast<int>(nodes.size());
  for (size_t li = 0; li < links.size(); ++li) {
    const TopoLink& l = links[li];
    if (l.a < 0 || l.b < 0 || l.a >= nn || l.b >= nn)
      return setError(tuttiInvalidArgument, "link %zu joins a node that does not exist", li);
    const TopoNode &a = nodes[l.a], &b = nodes[l.b];
    if (l.a == l.b)
      return setError(tuttiInvalidArgument, "link %zu joins node '%s' to itself", li, a.id.c_str());
    if (a.host != b.host)
      return setError(tuttiInvalidArgument, "link %zu joins '%s' and '%s' of different hosts", li,
                      a.id.c_str(), b.id.c_str());
    auto is = [](const TopoNode& n, std::initializer_list<NodeType> ts) {
      for (NodeType t : ts)
        if (n.type == t) return true;
      return false;
    };
    bool ok = true;
    switch (l.type) {
      case LinkType::kNvLink:
        ok = is(a, {NodeType::kGpu, NodeType::kNvSwitch}) &&
             is(b, {NodeType::kGpu, NodeType::kNvSwitch}) &&
             !(a.type == NodeType::kNvSwitch && b.type == NodeType::kNvSwitch);
        break;
      case LinkType::kPcie:
        ok = !is(a, {NodeType::kNvSwitch, NodeType::kNet}) &&
             !is(b, {NodeType::kNvSwitch, NodeType::kNet}) &&
             !(a.type == NodeType::kCpu && b.type == NodeType::kCpu);
        break;
      case LinkType::kSmp: ok = a.type == NodeType::kCpu && b.type == NodeType::kCpu; break;
      default: ok = false;
    }
    if (!ok)
      return setError(tuttiInvalidArgument, "a %s link cannot join %s '%s' and %s '%s'",
                      linkTypeName(l.type), nodeTypeName(a.type), a.id.c_str(),
                      nodeTypeName(b.type), b.id.c_str());
  }
  // Hosts are contiguous ranges of nodes with non-decreasing host numbers.
  for (int i = 0; i < nn; ++i) {
    const TopoNode& n = nodes[i];
    if (n.host < 0) return setError(tuttiInvalidArgument, "node '%s' has no host", n.id.c_str());
    if (n.host >= static_cast<int>(hosts.size())) {
      if (n.host != static_cast<int>(hosts.size()))
        return setError(tuttiInvalidArgument, "nodes of host %d are not contiguous", n.host);
      hosts.push_back(HostInfo{});
      hosts.back().firstNode = i;
      hosts.back().name = n.host < static_cast<int>(hostNames.size()) && !hostNames[n.host].empty()
                              ? hostNames[n.host]
                              : "host" + std::to_string(n.host);
    }
    if (n.host != static_cast<int>(hosts.size()) - 1)
      return setError(tuttiInvalidArgument, "nodes of host %d are not contiguous", n.host);
    HostInfo& h = hosts.back();
    h.endNode = i + 1;
    if (n.type == NodeType::kGpu) h.gpus.push_back(i);
    if (n.type == NodeType::kNic) h.nics.push_back(i);
    if (n.type == NodeType::kCpu) h.cpus.push_back(i);
    if (n.type != NodeType::kCpu && n.links.empty())
      return setError(tuttiInvalidArgument, "%s '%s' of host %d is not linked to anything",
                      nodeTypeName(n.type), n.id.c_str(), n.host);
  }
  if (hosts.empty()) return setError(tuttiInvalidArgument, "the topology has no nodes");
  for (HostInfo& h : hosts) {
    std::map<std::string, int> seen;
    for (int i = h.firstNode; i < h.endNode; ++i)
      if (!seen.emplace(nodes[i].id, i).second)
        return setError(tuttiInvalidArgument, "two nodes of host %d are named '%s'", nodes[i].host,
                        nodes[i].id.c_str());
    // GPUs in CUDA device order where known (stable otherwise).
    std::stable_sort(h.gpus.begin(), h.gpus.end(), [&](int x, int y) {
      int dx = nodes[x].dev < 0 ? 1 << 30 : nodes[x].dev,
          dy = nodes[y].dev < 0 ? 1 << 30 : nodes[y].dev;
      return dx < dy;
    });
    for (int g : h.gpus)
      for (const std::string& peer : nodes[g].noP2p)
        if (!seen.count(peer))
          return setError(tuttiInvalidArgument, "gpu '%s': no_p2p names unknown node '%s'",
                          nodes[g].id.c_str(), peer.c_str());
    gpus.insert(gpus.end(), h.gpus.begin(), h.gpus.end());
    nics.insert(nics.end(), h.nics.begin(), h.nics.end());
  }
  if (!nics.empty()) {
    TopoNode n;
    n.type = NodeType::kNet;
    n.id = "net";
    n.host = -1;
    nodes.push_back(n);
    net = static_cast<int>(nodes.size()) - 1;
    for (int nic : nics) {
      TopoLink l;
      l.a = nic;
      l.b = net;
      l.type = LinkType::kNet;
      l.bw = nodes[nic].speedGbps > 0 ? nodes[nic].speedGbps / 8.0 : 1.25;
      addLink(l);
    }
  }
  paths_ = PathTable::compute(*this);
  return tuttiSuccess;
}

void appendHosts(const Topology& src, Topology* dst) {
  int base = 0;
  for (const TopoNode& n : dst->nodes)
    if (n.type != NodeType::kNet) base = std::max(base, n.host + 1);
  int srcHosts = 0;
  for (const TopoNode& n : src.nodes)
    if (n.type != NodeType::kNet) srcHosts = std::max(srcHosts, n.host + 1);
  if (static_cast<int>(dst->hostNames.size()) < base + srcHosts)
    dst->hostNames.resize(base + srcHosts);
  for (int h = 0; h < srcHosts; ++h) {
    std::string name = h < static_cast<int>(src.hostNames.size()) ? src.hostNames[h] : "";
    if (name.empty() && srcHosts == 1) name = src.name;
    if (dst->hostNames[base + h].empty()) dst->hostNames[base + h] = name;
  }
  std::vector<int> remap(src.nodes.size(), -1);
  for (size_t i = 0; i < src.nodes.size(); ++i) {
    if (src.nodes[i].type == NodeType::kNet) continue;
    TopoNode n = src.nodes[i];
    n.host += base;
    remap[i] = dst->addNode(n);
  }
  for (const TopoLink& l : src.links) {
    if (l.type == LinkType::kNet) continue;
    TopoLink k = l;
    k.a = remap[l.a];
    k.b = remap[l.b];
    dst->addLink(k);
  }
}

Result replicateHosts(const Topology& host, int count, Topology* out) {
  if (count < 1)
    return setError(tuttiInvalidArgument, "a cluster needs at least 1 node, not %d", count);
  for (const TopoNode& n : host.nodes)
    if (n.type != NodeType::kNet && n.host != 0)
      return setError(tuttiInvalidArgument, "a node file must describe one host");
  Topology t;
  t.name = out->name;
  t.netLatencyUs = out->netLatencyUs;
  const std::string base = host.hostNames.empty() ? host.name : host.hostNames[0];
  for (int i = 0; i < count; ++i)
    t.hostNames.push_back((base.empty() ? "node" : base) + "-" + std::to_string(i));
  // Reserve once: 128 hosts x ~40 nodes is cheap but avoid repeated growth.
  t.nodes.reserve(host.nodes.size() * count + 1);
  t.links.reserve((host.links.size() + 8) * count);
  for (int i = 0; i < count; ++i) appendHosts(host, &t);
  *out = std::move(t);
  return tuttiSuccess;
}

}  // namespace tutti
