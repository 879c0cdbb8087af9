// Where every rank sits: its node, its place in the node, and the ring orders (one per
// channel) that plans follow. Built once per communicator and shared by every call.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace tutti {

struct RankLayout {
  int nranks = 1;
  int nnodes = 1;
  std::vector<int> nodeOf;                  // node of each rank (numbered by first rank)
  std::vector<int> localOf;                 // index of the rank in nodeRanks[nodeOf[r]]
  std::vector<std::vector<int>> nodeRanks;  // ranks of each node in the node's ring order
  std::vector<std::vector<int>> rings;      // rings[c]: every rank once, neighbours talk
  std::vector<std::vector<int>> ringPos;    // ringPos[c][rank]: index of rank in rings[c]
  std::vector<int> gpu;  // topology GPU (global index) of ranks on the viewer's host, else -1

  int channels() const { return static_cast<int>(rings.size()); }
  // Ranks per node when every node has the same number, else 0.
  int localRanks() const;
  // Ranks of the smallest and of the largest node (both localRanks() when nodes are even).
  int smallestNode() const;
  int largestNode() const;
  // Checks the invariants (each ring a permutation, positions consistent); "" when valid.
  std::string check() const;
  // "2 nodes x 4 ranks, 2 rings; ring 0: 0 1 2 3 | 7 6 5 4" (rings cut after `maxRanks`).
  std::string describe(int maxRanks = 32) const;
};

// One node, ring 0 in rank order and ring 1 reversed.
RankLayout flatLayout(int nranks);

// `nodeOf[r]`: any node label per rank (renumbered by first appearance). `intraPos[c][r]`:
// the position of rank r inside its node for channel c (a permutation per node). Channel 0
// sets nodeRanks/localOf. Across nodes every ring snakes (odd nodes reversed) so that the
// ranks joined across nodes hold the same local position: GPU i talks to GPU i (rails).
Result buildRankLayout(const std::vector<int>& nodeOf,
                       const std::vector<std::vector<int>>& intraPos, RankLayout* out);

}  // namespace tutti
