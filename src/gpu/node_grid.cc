// The node x rail grid of the hierarchical GPU path and its layout copies.
#include "gpu/node_grid.h"

namespace tutti {

bool NodeGrid::build(const std::vector<PeerInfo>& peers, int device, NodeGrid* out) {
  const int n = static_cast<int>(peers.size());
  NodeGrid g;
  g.local.assign(n, 0);
  g.railRank.assign(n, 0);
  std::vector<int> railSize;  // ranks seen so far at each local position
  for (int r = 0; r < n; ++r) {
    for (int s = 0; s < r; ++s) g.local[r] += peers[s].hostHash == peers[r].hostHash;
    const int l = g.local[r];
    if (l >= static_cast<int>(railSize.size())) railSize.resize(l + 1, 0);
    g.railRank[r] = railSize[l]++;
  }
  g.L = static_cast<int>(railSize.size());
  g.N = g.L > 0 ? railSize[0] : 0;
  for (int s : railSize)
    if (s != g.N) return false;
  g.rankAt.assign(n, -1);
  g.nodeMajor = true;
  for (int r = 0; r < n; ++r) {
    g.rankAt[static_cast<size_t>(g.local[r]) * g.N + g.railRank[r]] = r;
    g.nodeMajor = g.nodeMajor && r == g.railRank[r] * g.L + g.local[r];
  }
  int pitch = 0;
  if (cudaDeviceGetAttribute(&pitch, cudaDevAttrMaxPitch, device) != cudaSuccess) {
    cudaGetLastError();
    pitch = 0;  // per-block copies only
  }
  g.maxPitch = static_cast<size_t>(pitch > 0 ? pitch : 0);
  *out = std::move(g);
  return true;
}

Result copyBlocks(const NodeGrid& g, char* dst, const char* src, size_t blockBytes, bool toGrid,
                  cudaStream_t stream) {
  if (blockBytes == 0) return tuttiSuccess;
  const size_t B = blockBytes, rowBytes = static_cast<size_t>(g.L) * B;
  cudaError_t e = cudaSuccess;
  if (g.nodeMajor && rowBytes <= g.maxPitch) {
    // Local position l: N blocks B apart in grid order, L * B apart in rank order.
    for (int l = 0; l < g.L && e == cudaSuccess; ++l) {
      char* gridRow = (toGrid ? dst : const_cast<char*>(src)) + static_cast<size_t>(l) * g.N * B;
      char* rankRow = (toGrid ? const_cast<char*>(src) : dst) + l * B;
      e = toGrid ? cudaMemcpy2DAsync(gridRow, B, rankRow, rowBytes, B, g.N,
                                     cudaMemcpyDeviceToDevice, stream)
                 : cudaMemcpy2DAsync(rankRow, rowBytes, gridRow, B, B, g.N,
                                     cudaMemcpyDeviceToDevice, stream);
    }
  } else {
    for (int l = 0; l < g.L && e == cudaSuccess; ++l)
      for (int j = 0; j < g.N && e == cudaSuccess; ++j) {
        const size_t gridOff = (static_cast<size_t>(l) * g.N + j) * B;
        const size_t rankOff = static_cast<size_t>(g.at(l, j)) * B;
        e = cudaMemcpyAsync(dst + (toGrid ? gridOff : rankOff), src + (toGrid ? rankOff : gridOff),
                            B, cudaMemcpyDeviceToDevice, stream);
      }
  }
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "copying %zu-byte blocks %s grid order: %s", B,
                  toGrid ? "into" : "out of", cudaGetErrorString(e));
}

}  // namespace tutti
