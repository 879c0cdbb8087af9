// Where each rank of a communicator of equal GPU nodes sits in the grid the hierarchical GPU
// path works in (L local positions by N nodes), and the device copies between rank order, which
// users' buffers hold, and grid order, in which the node and rail parts exchange blocks.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

#include "base/error.h"
#include "bootstrap/peer_info.h"

namespace tutti {

struct NodeGrid {
  int L = 0;  // ranks per node: the node part's size, and the number of rails
  int N = 0;  // nodes: the rail part's size
  // rankAt[l * N + j]: the rank at local position l whose rail rank is j. Splits order their
  // members by parent rank, so a node's ranks in rank order are local positions 0..L-1 and a
  // rail's ranks in rank order are rail ranks 0..N-1 (the rail rank of a node may differ
  // between rails when hosts interleave).
  std::vector<int> rankAt;
  std::vector<int> local, railRank;  // per rank
  bool nodeMajor = false;            // rank j * L + l is at (l, j): the usual contiguous nodes
  size_t maxPitch = 0;               // cudaMemcpy2DAsync's limit on this device

  // From the peer table (ranks sharing a hostHash are a node); false unless every node holds
  // the same number of ranks.
  static bool build(const std::vector<PeerInfo>& peers, int device, NodeGrid* out);
  int at(int l, int j) const { return rankAt[static_cast<size_t>(l) * N + j]; }
};

// Copies blocks of `blockBytes` on `stream`: toGrid puts rank r's block of `src` (rank order)
// at its grid position (l, j) of `dst`, grid order being [l][j]; !toGrid is the reverse. One
// 2D copy per local position when nodes are contiguous, else one copy per block.
Result copyBlocks(const NodeGrid& g, char* dst, const char* src, size_t blockBytes, bool toGrid,
                  cudaStream_t stream);

}  // namespace tutti
