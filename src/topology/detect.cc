// Joins the detector parts into one host's Topology, and caches the process's topology
// (TUTTI_TOPO_FILE / detection, TUTTI_TOPO_DUMP_FILE).
#include "topology/detect.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <mutex>

#include "base/env.h"
#include "base/host_id.h"
#include "base/logging.h"
#include "topology/detect_internal.h"
#include "topology/topo_file.h"

namespace tutti {
namespace {

void addCpus(const std::vector<DetectedCpu>& cpus, Topology* t) {
  for (const DetectedCpu& c : cpus) {
    TopoNode n;
    n.type = NodeType::kCpu;
    n.id = "cpu" + std::to_string(c.numa);
    n.numa = c.numa;
    n.cores = c.cores;
    n.model = c.model;
    t->addNode(n);
  }
  // Every pair of NUMA nodes talks over the SMP interconnect; within one package it is the
  // on-die fabric, which is faster.
  for (size_t i = 0; i < cpus.size(); ++i)
    for (size_t j = i + 1; j < cpus.size(); ++j) {
      TopoLink l;
      l.a = static_cast<int>(i);
      l.b = static_cast<int>(j);
      l.type = LinkType::kSmp;
      l.bw = cpus[i].package == cpus[j].package ? 80.0 : 40.0;
      t->addLink(l);
    }
}

int cpuFor(Topology* t, int numa) {
  int first = -1;
  for (size_t i = 0; i < t->nodes.size(); ++i)
    if (t->nodes[i].type == NodeType::kCpu) {
      if (first < 0) first = static_cast<int>(i);
      if (t->nodes[i].numa == numa) return static_cast<int>(i);
    }
  return first;
}

void attachOrDefault(PciTreeBuilder& pci, Topology* t, int node, double bw) {
  const std::string& busId = t->nodes[node].busId;
  if (!busId.empty() && pci.attach(node, busId)) return;
  TopoLink l;
  l.a = cpuFor(t, t->nodes[node].numa);
  l.b = node;
  l.type = LinkType::kPcie;
  l.bw = bw;
  t->addLink(l);
}

std::string expandPath(std::string p) {
  size_t at;
  while ((at = p.find("%h")) != std::string::npos) p.replace(at, 2, hostName());
  while ((at = p.find("%p")) != std::string::npos) p.replace(at, 2, std::to_string(getpid()));
  return p;
}

}  // namespace

Result detectTopology(const DetectOptions& o, Topology* out) {
  Topology t;
  t.name = hostName();
  t.hostNames.push_back(t.name);
  std::string cpuHow, gpuHow, nicHow;
  std::vector<DetectedCpu> cpus;
  detectCpus(o.sysfsRoot, &cpus, &cpuHow);
  addCpus(cpus, &t);
  std::vector<DetectedGpu> gpus;
  if (o.gpus) detectGpus(&gpus, &gpuHow);
  std::vector<DetectedNic> nics;
  if (o.nics) detectNics(o.sysfsRoot, &nics, &nicHow);

  PciTreeBuilder pci(o.sysfsRoot, &t);
  std::vector<int> gpuNodes;
  for (size_t i = 0; i < gpus.size(); ++i) {
    TopoNode n;
    n.type = NodeType::kGpu;
    n.id = "gpu" + std::to_string(gpus[i].dev >= 0 ? gpus[i].dev : static_cast<int>(i));
    if (t.find(0, n.id) >= 0) n.id = "gpu_" + gpus[i].busId;
    n.dev = gpus[i].dev;
    n.busId = gpus[i].busId;
    n.model = gpus[i].model;
    n.numa = pci.numaOf(n.busId);
    gpuNodes.push_back(t.addNode(n));
    attachOrDefault(pci, &t, gpuNodes.back(), pcieBandwidth(4, 16));
  }
  int nvswitch = -1;
  for (size_t i = 0; i < gpus.size(); ++i) {
    const DetectedGpu& g = gpus[i];
    const double laneBw = g.nvlinkLaneBw > 0 ? g.nvlinkLaneBw : nvlinkBandwidth(4);
    for (const auto& [peerBus, lanes] : g.nvlinkPeers) {
      const auto peer = peerBus;  // a copy: lambdas cannot capture structured bindings in C++17
      auto it = std::find_if(gpus.begin(), gpus.end(), [&](auto& o2) { return o2.busId == peer; });
      size_t j = it - gpus.begin();
      if (it == gpus.end() || j <= i) continue;  // each pair once
      TopoLink l;
      l.a = gpuNodes[i];
      l.b = gpuNodes[j];
      l.type = LinkType::kNvLink;
      l.count = lanes;
      l.bw = lanes * laneBw;
      t.addLink(l);
    }
    if (g.nvswitchLanes > 0) {
      if (nvswitch < 0) {
        TopoNode n;
        n.type = NodeType::kNvSwitch;
        n.id = "nvswitch";
        nvswitch = t.addNode(n);
      }
      TopoLink l;
      l.a = gpuNodes[i];
      l.b = nvswitch;
      l.type = LinkType::kNvLink;
      l.count = g.nvswitchLanes;
      l.bw = g.nvswitchLanes * laneBw;
      t.addLink(l);
    }
    for (const std::string& bus : g.noP2p)
      for (size_t j = 0; j < gpus.size(); ++j)
        if (gpus[j].busId == bus) t.nodes[gpuNodes[i]].noP2p.push_back(t.nodes[gpuNodes[j]].id);
  }
  for (const DetectedNic& d : nics) {
    TopoNode n;
    n.type = NodeType::kNic;
    n.id = d.name;
    if (t.find(0, n.id) >= 0) n.id = d.name + "_" + d.busId;
    n.busId = d.busId;
    n.dev = d.port;
    n.speedGbps = d.gbps;
    n.rdma = d.rdma;
    n.gdr = d.gdr;
    n.netdev = d.netdev;
    n.model = d.model;
    n.numa = d.busId.empty() ? -1 : pci.numaOf(d.busId);
    int node = t.addNode(n);
    attachOrDefault(pci, &t, node, std::max(d.gbps / 8.0, 1.0));
  }
  TUTTI_CHECK(t.finalize(), "detected topology of %s", t.name.c_str());
  if (gpus.empty() && nics.empty()) {
    TUTTI_INFO("topology: no GPU and no NIC found on %s: CPU-only topology (%zu NUMA node(s), %s)",
               t.name.c_str(), cpus.size(), cpuHow.c_str());
  } else {
    TUTTI_INFO("topology: %s: %zu GPU(s)%s%s%s, %zu NIC(s) (%s), %zu NUMA node(s) (%s)",
               t.name.c_str(), gpus.size(), gpuHow.empty() ? "" : " (", gpuHow.c_str(),
               gpuHow.empty() ? "" : ")", nics.size(), nicHow.c_str(), cpus.size(), cpuHow.c_str());
  }
  *out = std::move(t);
  return tuttiSuccess;
}

Result processTopology(std::shared_ptr<const Topology>* out) {
  static std::mutex mutex;
  static std::shared_ptr<const Topology> cached;
  std::lock_guard<std::mutex> lock(mutex);
  if (!cached) {
    auto t = std::make_shared<Topology>();
    const std::string file = envString("TUTTI_TOPO_FILE");
    // Like NCCL_TOPO_FILE, a file that cannot be read is skipped with a warning; so is a
    // file in another format (NCCL's XML, which the shim forwards). A Tutti file with an
    // error is an error.
    std::ifstream f(file);
    char first = 0;
    while (f && f.get(first) && isspace(static_cast<unsigned char>(first))) {
    }
    if (!file.empty() && !f) {
      TUTTI_WARN("TUTTI_TOPO_FILE=%s cannot be read; detecting the topology instead", file.c_str());
    } else if (!file.empty() && first != '{') {
      TUTTI_WARN(
          "TUTTI_TOPO_FILE=%s is not a Tutti topology file (JSON, docs/topology.md); "
          "ignoring it and detecting the topology",
          file.c_str());
    } else if (!file.empty()) {
      TUTTI_CHECK(loadTopologyFile(file, t.get()), "TUTTI_TOPO_FILE");
      TUTTI_INFO("topology: loaded %s: %s", file.c_str(), t->summary().c_str());
    }
    if (!t->finalized()) TUTTI_TRY(detectTopology(DetectOptions(), t.get()));
    const std::string dump = envString("TUTTI_TOPO_DUMP_FILE");
    if (!dump.empty()) {
      std::string path = expandPath(dump);
      if (saveTopologyFile(*t, path) == tuttiSuccess)
        TUTTI_INFO("topology: written to %s", path.c_str());
      else
        TUTTI_WARN("TUTTI_TOPO_DUMP_FILE: %s", lastError().c_str());
    }
    cached = std::move(t);
  }
  *out = cached;
  return tuttiSuccess;
}

}  // namespace tutti
