// Human views of a topology: the GPU/NIC path matrix in the style of `nvidia-smi topo -m`,
// and Graphviz DOT of the graph with plan edges (rings, trees) drawn over it.
#pragma once

#include <string>
#include <vector>

#include "topology/paths.h"

namespace tutti {

// Matrix of host `host`: every GPU and NIC against every GPU and NIC, with NUMA nodes and
// the legend.
std::string topologyMatrix(const Topology& topo, int host);

// A plan edge between two global GPU indexes (or any nodes, by node index when gpu < 0).
struct OverlayEdge {
  int gpuA, gpuB;
  std::string color;
  std::string label;
};

struct DotOptions {
  int maxHosts = 8;  // hosts drawn (0: all); overlay edges to other hosts are dropped
  std::vector<OverlayEdge> overlay;
  std::string title;
};
std::string topologyDot(const Topology& topo, const DotOptions& options);

}  // namespace tutti
