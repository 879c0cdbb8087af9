// PCI tree from sysfs: the chain of bridges above a device becomes CPU -> PCIe switch(es) ->
// device, with each link's current generation and width.
#include <limits.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "topology/detect_internal.h"

namespace tutti {
namespace {

bool looksLikeBusId(const std::string& s) {
  unsigned d, b, v, f;
  char tail;
  return sscanf(s.c_str(), "%x:%x:%x.%x%c", &d, &b, &v, &f, &tail) == 4;
}

int genFromSpeed(const std::string& speed) {
  double gts = atof(speed.c_str());
  if (gts <= 0) return 0;
  if (gts < 4) return 1;
  if (gts < 6) return 2;
  if (gts < 12) return 3;
  if (gts < 24) return 4;
  if (gts < 48) return 5;
  return 6;
}

}  // namespace

std::string readSysfs(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  if (!f || !std::getline(f, line)) return "";
  size_t end = line.find_last_not_of(" \t\r\n");
  return end == std::string::npos ? "" : line.substr(0, end + 1);
}

int PciTreeBuilder::numaOf(const std::string& busId) const {
  std::string v = readSysfs(root_ + "/bus/pci/devices/" + busId + "/numa_node");
  return v.empty() ? -1 : atoi(v.c_str());
}

int PciTreeBuilder::cpuNode(int numa) {
  for (size_t i = 0; i < topo_->nodes.size(); ++i) {
    const TopoNode& n = topo_->nodes[i];
    if (n.type == NodeType::kCpu && n.numa == numa) return static_cast<int>(i);
  }
  TopoNode cpu;
  cpu.type = NodeType::kCpu;
  cpu.id = "cpu" + std::to_string(numa);
  cpu.numa = numa;
  return topo_->addNode(cpu);
}

bool PciTreeBuilder::attach(int node, const std::string& busId) {
  char real[PATH_MAX];
  const std::string link = root_ + "/bus/pci/devices/" + busId;
  if (!realpath(link.c_str(), real)) return false;
  // ".../devices/pci0000:17/0000:17:01.0/0000:18:00.0/0000:19:00.0/0000:1a:00.0"
  std::vector<std::string> chain;
  std::stringstream ss(real);
  std::string part;
  bool inTree = false;
  while (std::getline(ss, part, '/')) {
    if (part.compare(0, 3, "pci") == 0 && part.find(':') != std::string::npos) {
      inTree = true;
      chain.clear();
      continue;
    }
    if (inTree && looksLikeBusId(part)) chain.push_back(part);
  }
  if (chain.empty() || chain.back() != busId) return false;
  int numa = numaOf(busId);
  if (numa < 0 && chain.size() > 1) numa = numaOf(chain.front());
  if (numa < 0) numa = 0;
  topo_->nodes[node].numa = topo_->nodes[node].numa >= 0 ? topo_->nodes[node].numa : numa;
  int parent = cpuNode(numa);
  auto linkTo = [&](int from, int to, const std::string& dev) {
    TopoLink l;
    l.a = from;
    l.b = to;
    l.type = LinkType::kPcie;
    const std::string base = root_ + "/bus/pci/devices/" + dev;
    l.gen = genFromSpeed(readSysfs(base + "/current_link_speed"));
    l.width = atoi(readSysfs(base + "/current_link_width").c_str());
    if (l.width <= 0 || l.width > 32 || (l.width & (l.width - 1))) l.width = 0;
    if (!l.gen || !l.width) {
      l.gen = 0;
      l.width = 0;
      l.bw = pcieBandwidth(4, 16);  // unknown (virtual devices): assume a common x16 gen4 slot
    }
    topo_->addLink(l);
  };
  // chain[0] is the root port (part of the CPU); bridges below it pair up as a switch's
  // upstream and downstream ports. Switches are named after their upstream port.
  std::vector<std::string> bridges;
  if (chain.size() > 2) bridges.assign(chain.begin() + 1, chain.end() - 1);
  for (size_t i = 0; i < bridges.size(); i += 2) {
    const std::string& up = bridges[i];
    const std::string id = "pcisw_" + up;
    int sw = topo_->find(0, id);
    if (sw < 0) {
      TopoNode n;
      n.type = NodeType::kPciSwitch;
      n.id = id;
      n.busId = up;
      sw = topo_->addNode(n);
      linkTo(parent, sw, up);
    }
    parent = sw;
  }
  linkTo(parent, node, busId);
  return true;
}

}  // namespace tutti
