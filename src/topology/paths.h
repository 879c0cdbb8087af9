// Best paths between GPUs and from GPUs to NICs: the path type (the same classes
// `nvidia-smi topo -m` prints), the bottleneck bandwidth and the latency. The transport
// class of a peer pair (NVLink P2P, PCIe P2P, host shared memory, network) follows from it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "topology/topology.h"

namespace tutti {

// Ordered from best to worst.
enum class PathType : uint8_t {
  kSelf,          // X: the same GPU
  kNvLink,        // NV#: direct NVLink, or through NVSwitches
  kNvLinkViaGpu,  // NVB: NVLink hops forwarded by another GPU
  kPix,           // PIX: through one PCIe switch
  kPxb,           // PXB: through several PCIe switches, not the CPU
  kPhb,           // PHB: through the CPU's PCIe host bridge
  kSys,           // SYS: across the SMP interconnect between CPUs / NUMA nodes
  kNet,           // NET: across the network (different hosts)
  kNone,          // no path
};
const char* pathTypeName(PathType t);  // "X", "NV", "NVB", "PIX", "PXB", "PHB", "SYS", "NET", "-"

// How two ranks' GPUs exchange data, from their path and P2P capability.
enum class TransportClass : uint8_t { kSelf, kP2pNvLink, kP2pPcie, kHostShm, kNet };
const char* transportClassName(TransportClass t);  // "self", "p2p-nvlink", "p2p-pcie", ...

struct Path {
  PathType type = PathType::kNone;
  double bw = 0;     // bottleneck bandwidth, GB/s per direction
  double latUs = 0;  // sum of link latencies (plus the fabric for NET)
  int hops = 0;
  int nvlinks = 0;   // lanes of the narrowest NVLink hop (the "18" of NV18)
  int nic = -1;      // GPU-NIC paths and NET paths: global NIC index used on the source side
  int peerNic = -1;  // NET paths: global NIC index on the destination side
};
// "X", "NV18", "NVB", "PIX", "PXB", "PHB", "SYS", "NET", "-".
std::string pathLabel(const Path& p);

// Intra-host paths of every host, computed once by Topology::finalize().
class PathTable {
 public:
  static std::unique_ptr<PathTable> compute(const Topology& topo);
  // Host-local GPU indexes la, lb (and NIC index ln) of host h.
  const Path& gpuGpu(int h, int la, int lb) const;
  const Path& gpuNic(int h, int lg, int ln) const;
  // Global NIC index the GPU should use (best path, rail-aligned on ties), or -1.
  int nearestNic(int gpu) const { return nearest_[gpu]; }

 private:
  struct HostPaths {
    int ngpus = 0, nnics = 0;
    std::vector<Path> gg;  // ngpus x ngpus
    std::vector<Path> gn;  // ngpus x nnics
  };
  std::vector<HostPaths> hosts_;
  std::vector<int> nearest_;
};

// Global GPU indexes (Topology::gpus). Across hosts the path goes GPU -> nearest NIC ->
// network -> the peer's nearest NIC -> peer GPU.
Path gpuPath(const Topology& topo, int gpuA, int gpuB);
PathType pathBetween(const Topology& topo, int gpuA, int gpuB);
// Global GPU and NIC indexes (the NIC must be on the GPU's host).
Path gpuNicPath(const Topology& topo, int gpu, int nic);
int nearestNic(const Topology& topo, int gpu);
// P2P (NVLink or PCIe up to PXB, when the GPUs allow peer access), host shm or network.
TransportClass transportFor(const Topology& topo, int gpuA, int gpuB);

}  // namespace tutti
