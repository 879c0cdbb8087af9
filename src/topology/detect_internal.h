// What each detector part reports before the pieces are joined into a Topology (detect.cc).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "topology/topology.h"

namespace tutti {

struct DetectedGpu {
  int dev = -1;       // CUDA device index (-1: not visible to CUDA)
  std::string busId;  // normalized PCI bus id
  std::string model;
  double nvlinkLaneBw = 0;  // GB/s per lane and direction (0: no NVLink seen)
  std::vector<std::pair<std::string, int>> nvlinkPeers;  // remote GPU bus id -> lanes
  int nvswitchLanes = 0;           // lanes that end at an NVSwitch (or an unknown remote)
  std::vector<std::string> noP2p;  // bus ids of GPUs without peer access
};

struct DetectedCpu {
  int numa = 0;
  int package = 0;
  int cores = 0;
  std::string model;
};

struct DetectedNic {
  std::string name;   // "mlx5_0" or "eth0"
  std::string busId;  // PCI device of the NIC ("" for virtual devices)
  int port = 1;
  double gbps = 0;
  bool rdma = false;
  bool gdr = false;
  std::string netdev;
  std::string model;
};

// GPUs via NVML (+ CUDA device numbers via the runtime); `how` says what was used.
void detectGpus(std::vector<DetectedGpu>* gpus, std::string* how);
// NUMA nodes via hwloc when built with it, else /sys/devices/system/node.
void detectCpus(const std::string& sysfsRoot, std::vector<DetectedCpu>* cpus, std::string* how);
// RDMA devices via libibverbs (sysfs for their PCI device), then plain net interfaces.
void detectNics(const std::string& sysfsRoot, std::vector<DetectedNic>* nics, std::string* how);

// Builds the PCIe links from CPUs through switches to devices, sharing switch nodes.
class PciTreeBuilder {
 public:
  PciTreeBuilder(const std::string& sysfsRoot, Topology* topo) : root_(sysfsRoot), topo_(topo) {}
  // Links `node` (a GPU or NIC with a bus id) to its PCI parent, creating switches and the
  // CPU of its NUMA node as needed. Returns false when sysfs does not know the device.
  bool attach(int node, const std::string& busId);
  // NUMA node sysfs reports for a PCI device, or -1.
  int numaOf(const std::string& busId) const;

 private:
  int cpuNode(int numa);
  std::string root_;
  Topology* topo_;
};

// Reads a small sysfs file (first line, trimmed); "" when missing.
std::string readSysfs(const std::string& path);

}  // namespace tutti
