// Detection of this host's topology: GPUs (CUDA runtime and NVML, loaded at run time), the
// PCI tree (sysfs), CPUs and NUMA nodes (hwloc, else sysfs) and NICs (ibverbs, sysfs net).
// A machine without GPUs or NICs yields a valid CPU-only topology.
#pragma once

#include <memory>
#include <string>

#include "topology/topology.h"

namespace tutti {

struct DetectOptions {
  std::string sysfsRoot = "/sys";  // tests point this at a fake tree
  bool gpus = true;                // query CUDA/NVML
  bool nics = true;                // query ibverbs and /sys/class/net
};

// Detects one host (host 0), finalized. Never fails for lack of hardware; errors only for
// inconsistent data (reported, with what was found, in the message).
Result detectTopology(const DetectOptions& options, Topology* out);

// This process's host topology, computed once: TUTTI_TOPO_FILE when set (a cluster file
// is allowed: callers pick their host), else detected. TUTTI_TOPO_DUMP_FILE receives the
// result ("%h" is replaced by the host name, "%p" by the process id).
Result processTopology(std::shared_ptr<const Topology>* out);

}  // namespace tutti
