// A communicator's place in the topology: this host's topology (detected or loaded), the GPU
// of every rank on this node, ring orders agreed by all ranks (one bootstrap all-gather) and
// the tuner context derived from them. Called by initComm after transports are connected.
#pragma once

#include <string>
#include <vector>

#include "algorithms/tuner.h"
#include "base/error.h"
#include "topology/paths.h"

struct tuttiComm;

namespace tutti {

struct RankLayout;

// Sets comm->topo, comm->topoHost and comm->layout, and fills `tc` (nranks, nodes, gpu,
// layout, topo, localGpus). Collective over the communicator.
Result setupCommTopology(tuttiComm* comm, TunerContext* tc);

// Transport class between this rank and `peer` as far as the topology knows: kNet across
// nodes, else from the path between their GPUs (kHostShm for host-only ranks).
TransportClass peerTransport(const tuttiComm* comm, int peer);
// "NV18", "PIX", "SYS", "NET", "SHM" (host-only ranks): the path to `peer`, for logs.
std::string peerPathLabel(const tuttiComm* comm, int peer);

// Builds the layout of `nranks` ranks placed on a (possibly multi-host) topology: rank r on
// host nodeOf[r] uses that host's GPU gpuOf[r] (host-local index, -1 for none). Ring orders
// come from searchRings per host; ranks without GPUs keep their order. Used by tutti-topo
// and tests; communicators get the same result through setupCommTopology.
Result layoutOnTopology(const Topology& topo, const std::vector<int>& nodeOf,
                        const std::vector<int>& gpuOf, RankLayout* out);

}  // namespace tutti
