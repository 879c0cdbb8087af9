// The machine model: nodes (GPUs, CPU/NUMA nodes, PCI switches, NVSwitches, NICs, the
// network) joined by links with bandwidth and latency. One Topology can hold many hosts; the
// best path between every GPU pair and GPU-NIC pair is computed by finalize() (paths.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace tutti {

enum class NodeType : uint8_t { kGpu, kCpu, kPciSwitch, kNvSwitch, kNic, kNet, kCount };
enum class LinkType : uint8_t { kNvLink, kPcie, kSmp, kNet, kCount };

const char* nodeTypeName(NodeType t);  // "gpu", "cpu", "pci_switch", "nvswitch", "nic", "net"
const char* linkTypeName(LinkType t);  // "nvlink", "pcie", "smp", "net"
bool parseNodeType(const std::string& name, NodeType* out);
bool parseLinkType(const std::string& name, LinkType* out);

// Per-direction bandwidth of one PCIe link in GB/s (gen 1-6, any width).
double pcieBandwidth(int gen, int width);
// Per-direction bandwidth of one NVLink lane of `version` (1-5) in GB/s.
double nvlinkBandwidth(int version);
// Default latency in microseconds of one link of `type`, used when a file gives none.
double defaultLinkLatencyUs(LinkType type);

struct TopoNode {
  NodeType type = NodeType::kCpu;
  int host = 0;
  std::string id;                  // unique within its host: "gpu0", "cpu1", "mlx5_0"
  std::string model;               // "NVIDIA H100 80GB HBM3", "ConnectX-7", CPU model
  std::string busId;               // PCI bus id "0000:18:00.0" ("" when unknown or not PCI)
  int numa = -1;                   // NUMA node of a GPU, NIC or CPU
  int dev = -1;                    // GPU: CUDA device index; NIC: port number
  int cores = 0;                   // CPU: cores of this NUMA node
  double speedGbps = 0;            // NIC: port speed in Gb/s
  bool rdma = false;               // NIC: RDMA capable (ibverbs device)
  bool gdr = false;                // NIC: GPUDirect RDMA available (nvidia_peermem loaded)
  std::string netdev;              // NIC: network interface name
  std::vector<std::string> noP2p;  // GPU: ids of GPUs of this host it cannot access directly
  std::vector<int> links;          // indexes into Topology::links
};

struct TopoLink {
  int a = -1, b = -1;  // node indexes
  LinkType type = LinkType::kPcie;
  double bw = 0;     // GB/s per direction
  double latUs = 0;  // one traversal
  int count = 1;     // NVLink: lanes bundled in this link
  int gen = 0;       // PCIe generation
  int width = 0;     // PCIe lanes
  int other(int n) const { return n == a ? b : a; }
};

struct HostInfo {
  std::string name;
  int firstNode = 0, endNode = 0;  // nodes [firstNode, endNode) belong to this host
  std::vector<int> gpus;           // node indexes, in CUDA device order
  std::vector<int> nics;
  std::vector<int> cpus;
};

class PathTable;  // paths.h

class Topology {
 public:
  Topology();
  ~Topology();
  Topology(const Topology& other);
  Topology& operator=(const Topology& other);
  Topology(Topology&& other) noexcept;
  Topology& operator=(Topology&& other) noexcept;

  std::string name;
  std::vector<TopoNode> nodes;
  std::vector<TopoLink> links;
  std::vector<HostInfo> hosts;         // filled by finalize()
  std::vector<int> gpus;               // global GPU index -> node, host-major
  std::vector<int> nics;               // global NIC index -> node, host-major
  int net = -1;                        // the network node (-1: no NIC anywhere)
  double netLatencyUs = 2.0;           // latency of the fabric between two NICs
  std::vector<std::string> hostNames;  // optional, by host number; default "host<i>"

  // Adds a node of `host`; returns its index.
  int addNode(const TopoNode& n);
  // Adds a link; a non-positive bw or latency takes the default of the link type.
  int addLink(const TopoLink& l);
  // Node index of `id` on `host`, or -1.
  int find(int host, const std::string& id) const;

  // Checks the graph (every GPU, NIC and switch attached, no self links), fills hosts, gpus
  // and nics, attaches NICs to the network node and computes every path.
  Result finalize();
  bool finalized() const { return paths_ != nullptr; }
  const PathTable& paths() const { return *paths_; }

  int numHosts() const { return static_cast<int>(hosts.size()); }
  int numGpus() const { return static_cast<int>(gpus.size()); }
  // Global GPU index of the `local`-th GPU of `host`.
  int gpuIndex(int host, int local) const;
  // Host-local index of a global GPU.
  int gpuLocal(int gpu) const;
  // Global GPU index of the GPU with `busId` on `host`, or -1.
  int gpuByBusId(int host, const std::string& busId) const;
  // One line per host kind, e.g. "2 hosts: 8 GPU, 8 NIC, 2 CPU".
  std::string summary() const;

 private:
  std::unique_ptr<PathTable> paths_;
};

// Builds a topology of `count` copies of `host` (a single-host topology) joined by the
// network. Node ids keep their names; hosts are named "<name>-<i>" unless `host` had names.
Result replicateHosts(const Topology& host, int count, Topology* out);
// Appends every host of `src` to `dst` (not finalized).
void appendHosts(const Topology& src, Topology* dst);

// Normalizes "18:00.0", "0000:18:00.0" and "00000000:18:00.0" to "0000:18:00.0" (lower case).
std::string normalizeBusId(const std::string& busId);

}  // namespace tutti
