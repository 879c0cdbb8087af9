// Text matrix and Graphviz output of a topology.
#include "topology/topo_print.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace tutti {
namespace {

std::string pad(const std::string& s, size_t w) {
  return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' ');
}

std::string linkLabel(const TopoLink& l) {
  char buf[64];
  switch (l.type) {
    case LinkType::kNvLink: snprintf(buf, sizeof(buf), "NV%d %.0f GB/s", l.count, l.bw); break;
    case LinkType::kPcie:
      if (l.gen && l.width)
        snprintf(buf, sizeof(buf), "PCIe%d x%d", l.gen, l.width);
      else
        snprintf(buf, sizeof(buf), "PCIe %.0f GB/s", l.bw);
      break;
    case LinkType::kSmp: snprintf(buf, sizeof(buf), "SMP %.0f GB/s", l.bw); break;
    default: snprintf(buf, sizeof(buf), "%.1f GB/s", l.bw);
  }
  return buf;
}

std::string dotId(const Topology& t, int node) {
  const TopoNode& n = t.nodes[node];
  std::string id = n.host < 0 ? "net" : "h" + std::to_string(n.host) + "_" + n.id;
  for (char& c : id)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  return id;
}

std::string dotEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string topologyMatrix(const Topology& t, int host) {
  std::ostringstream os;
  if (host < 0 || host >= t.numHosts()) return "no such host\n";
  const HostInfo& h = t.hosts[host];
  const int ng = static_cast<int>(h.gpus.size()), nn = static_cast<int>(h.nics.size());
  int gpuBase = 0, nicBase = 0;
  for (int i = 0; i < host; ++i) {
    gpuBase += static_cast<int>(t.hosts[i].gpus.size());
    nicBase += static_cast<int>(t.hosts[i].nics.size());
  }
  std::vector<std::string> names;
  for (int g = 0; g < ng; ++g) names.push_back("GPU" + std::to_string(g));
  for (int k = 0; k < nn; ++k) names.push_back("NIC" + std::to_string(k));
  const size_t w = 7;
  os << "host " << host << " (" << h.name << ")\n" << pad("", w);
  for (const auto& n : names) os << pad(n, w);
  os << pad("NUMA", w) << "\n";
  auto cell = [&](int a, int b) -> std::string {
    // a, b index GPUs then NICs.
    if (a == b) return "X";
    if (a < ng && b < ng) return pathLabel(t.paths().gpuGpu(host, a, b));
    if (a < ng) return pathLabel(t.paths().gpuNic(host, a, b - ng));
    if (b < ng) return pathLabel(t.paths().gpuNic(host, b, a - ng));
    // NIC to NIC: through the PCIe tree; report the worse of their GPU-independent view.
    return t.nodes[h.nics[a - ng]].numa == t.nodes[h.nics[b - ng]].numa ? "NODE" : "SYS";
  };
  for (int a = 0; a < ng + nn; ++a) {
    os << pad(names[a], w);
    for (int b = 0; b < ng + nn; ++b) os << pad(cell(a, b), w);
    const TopoNode& n = t.nodes[a < ng ? h.gpus[a] : h.nics[a - ng]];
    os << pad(n.numa >= 0 ? std::to_string(n.numa) : "N/A", w) << "\n";
  }
  if (nn > 0) {
    os << "\nNIC legend:\n";
    for (int k = 0; k < nn; ++k) {
      const TopoNode& n = t.nodes[h.nics[k]];
      char buf[160];
      snprintf(buf, sizeof(buf), "  NIC%d: %s (%g Gb/s%s%s%s%s)\n", k, n.id.c_str(), n.speedGbps,
               n.rdma ? ", RDMA" : ", no RDMA", n.gdr ? ", GPUDirect" : "",
               n.netdev.empty() ? "" : ", ", n.netdev.c_str());
      os << buf;
    }
  }
  if (ng > 0) {
    os << "\nGPU legend:\n";
    for (int g = 0; g < ng; ++g) {
      const TopoNode& n = t.nodes[h.gpus[g]];
      const int nic = t.paths().nearestNic(gpuBase + g);
      os << "  GPU" << g << ": " << (n.model.empty() ? n.id : n.model)
         << (n.busId.empty() ? "" : " " + n.busId)
         << (nic >= 0 ? ", nearest NIC" + std::to_string(nic - nicBase) : "") << "\n";
    }
  }
  os << "\nLegend:\n"
        "  X    = Self\n"
        "  SYS  = Path traversing PCIe as well as the SMP interconnect between NUMA nodes\n"
        "  NODE = Path within one NUMA node (NICs)\n"
        "  PHB  = Path traversing PCIe as well as a PCIe Host Bridge (typically the CPU)\n"
        "  PXB  = Path traversing multiple PCIe switches (without the host bridge)\n"
        "  PIX  = Path traversing at most a single PCIe switch\n"
        "  NVB  = Path over NVLink forwarded by another GPU\n"
        "  NV#  = Path over # bonded NVLinks (directly or through NVSwitches)\n";
  return os.str();
}

std::string topologyDot(const Topology& t, const DotOptions& o) {
  const int hosts = o.maxHosts > 0 ? std::min(o.maxHosts, t.numHosts()) : t.numHosts();
  std::ostringstream os;
  os << "graph tutti_topology {\n  graph [fontname=\"Helvetica\", labelloc=t, label=\""
     << dotEscape(o.title.empty() ? t.summary() : o.title) << "\"];\n"
     << "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", "
        "fontsize=8];\n";
  auto drawn = [&](int node) { return t.nodes[node].host < hosts; };
  for (int hIdx = 0; hIdx < hosts; ++hIdx) {
    const HostInfo& h = t.hosts[hIdx];
    os << "  subgraph cluster_h" << hIdx << " {\n    label=\"" << dotEscape(h.name)
       << "\"; color=gray;\n";
    for (int i = h.firstNode; i < h.endNode; ++i) {
      const TopoNode& n = t.nodes[i];
      std::string shape = "box", label = n.id;
      switch (n.type) {
        case NodeType::kGpu:
          shape = "box\", style=\"filled\", fillcolor=\"#c6e5a8";
          label = n.id + (n.model.empty() ? "" : "\\n" + n.model);
          break;
        case NodeType::kCpu:
          shape = "ellipse\", style=\"filled\", fillcolor=\"#cfe0f3";
          label = n.id + " (NUMA " + std::to_string(n.numa) + ")";
          break;
        case NodeType::kPciSwitch: shape = "diamond"; break;
        case NodeType::kNvSwitch: shape = "hexagon\", style=\"filled\", fillcolor=\"#9fd07a"; break;
        case NodeType::kNic: {
          char buf[64];
          snprintf(buf, sizeof(buf), "\\n%g Gb/s%s", n.speedGbps, n.rdma ? " RDMA" : "");
          shape = "box\", style=\"rounded,filled\", fillcolor=\"#f6d7a7";
          label = n.id + buf;
          break;
        }
        default: break;
      }
      os << "    " << dotId(t, i) << " [shape=\"" << shape << "\", label=\"" << dotEscape(label)
         << "\"];\n";
    }
    os << "  }\n";
  }
  if (t.net >= 0) os << "  net [shape=doublecircle, label=\"network\"];\n";
  for (const TopoLink& l : t.links) {
    if (!drawn(l.a) || !drawn(l.b)) continue;  // the network node (host -1) is always drawn
    const char* style = l.type == LinkType::kNvLink ? "color=\"#4a8f1c\", penwidth=2"
                        : l.type == LinkType::kNet  ? "color=gray, style=dashed"
                        : l.type == LinkType::kSmp  ? "color=\"#3060a0\", penwidth=2"
                                                    : "color=black";
    os << "  " << dotId(t, l.a) << " -- " << dotId(t, l.b) << " [" << style << ", label=\""
       << linkLabel(l) << "\"];\n";
  }
  int dropped = 0;
  for (const OverlayEdge& e : o.overlay) {
    if (e.gpuA < 0 || e.gpuB < 0 || e.gpuA >= t.numGpus() || e.gpuB >= t.numGpus()) continue;
    const int a = t.gpus[e.gpuA], b = t.gpus[e.gpuB];
    if (!drawn(a) || !drawn(b)) {
      ++dropped;
      continue;
    }
    os << "  " << dotId(t, a) << " -- " << dotId(t, b) << " [color=\"" << e.color
       << "\", penwidth=2.5, constraint=false, dir=forward, label=\"" << dotEscape(e.label)
       << "\", fontcolor=\"" << e.color << "\"];\n";
  }
  if (dropped || hosts < t.numHosts())
    os << "  note [shape=note, label=\"" << hosts << " of " << t.numHosts() << " hosts drawn; "
       << dropped << " plan edges to other hosts omitted\"];\n";
  os << "}\n";
  return os.str();
}

}  // namespace tutti
