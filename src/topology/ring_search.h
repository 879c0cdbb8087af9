// Intra-host ring orders: the cycle through a host's GPUs whose slowest hop is the best
// (NVLink before PCIe before the CPU), and rotations of it for further channels so that each
// channel enters and leaves the host at different GPUs (and so through different NICs).
#pragma once

#include <vector>

#include "topology/paths.h"

namespace tutti {

// `gpus`: global GPU indexes of one host. Returns `channels` orders, each a permutation of
// 0..gpus.size()-1 (indexes into `gpus`). Exhaustive for up to 9 GPUs, greedy + 2-opt above.
std::vector<std::vector<int>> searchRings(const Topology& topo, const std::vector<int>& gpus,
                                          int channels);

// Ring channels worth building for these GPUs: one per GPU (each rotation uses different
// rails across hosts), at most 8, at least 1.
int defaultRingChannels(const Topology& topo, const std::vector<int>& gpus);

// The worst path between consecutive entries of `order` (indexes into `gpus`), cyclically.
Path worstRingHop(const Topology& topo, const std::vector<int>& gpus,
                  const std::vector<int>& order);

}  // namespace tutti
