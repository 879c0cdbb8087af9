// A communicator's place in the topology: this host's topology (detected or loaded), the GPU
// of every rank on this node, ring orders agreed by all ranks (one bootstrap all-gather) and
// the tuner context derived from them. Called by initComm after transports are connected.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "algorithms/tuner.h"
#include "base/error.h"
#include "topology/paths.h"

namespace tutti {

class Bootstrap;
struct PeerInfo;
struct RankLayout;

// A communicator's view of the machine.
struct CommTopology {
  std::shared_ptr<const Topology> topo;      // this host's topology (detected or loaded)
  int host = 0;                              // this rank's host in `topo`
  std::shared_ptr<const RankLayout> layout;  // node of every rank, ring orders
};

// Collective over the communicator (one bootstrap all-gather of ring orders): fills *out and
// the topology part of *tc (nranks, nodes, layout, topo, localGpus) from the peer table.
Result setupCommTopology(int rank, const std::vector<PeerInfo>& peers, Bootstrap& bootstrap,
                         CommTopology* out, TunerContext* tc);

// Builds the layout of `nranks` ranks placed on a (possibly multi-host) topology: rank r on
// host nodeOf[r] uses that host's GPU gpuOf[r] (host-local index, -1 for none). Ring orders
// come from searchRings per host; ranks without GPUs keep their order. Used by tutti-topo
// and tests; communicators get the same result through setupCommTopology.
Result layoutOnTopology(const Topology& topo, const std::vector<int>& nodeOf,
                        const std::vector<int>& gpuOf, RankLayout* out);

}  // namespace tutti
