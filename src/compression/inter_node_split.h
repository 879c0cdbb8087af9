// The inter-node-only mode of the compressed collectives (TUTTI_COMPRESS_INTER_NODE_ONLY), what
// the host and device algorithms share: which path a call takes, the grid of N nodes by L local
// indexes, and the shards that each column of the grid (local index l on every node) owns.
#pragma once

#include <cstddef>
#include <vector>

#include "compression/compressed_call.h"
#include "compression/shard_split.h"

namespace tutti {

struct InterNodeGrid {
  int nodes = 0, local = 0;              // N nodes of L ranks
  int node = 0, index = 0;               // this rank's (k, l)
  std::vector<std::vector<int>> rankAt;  // rankAt[k][l]: the layout's node order and ring order
};

enum class CompressedPath {
  kFlat,          // every exchange encoded (no flag, AllGather, unequal nodes, one rank a node)
  kExact,         // the flag on one node: the uncompressed collective
  kHierarchical,  // the flag on N > 1 nodes of L > 1 ranks: phases A-D (compressed_host.cc)
};

// The path of `call` on `comm`, the same on every rank and for host and device buffers; fills
// `grid` for kHierarchical. Logs (INFO) when the flag cannot apply because nodes differ in size.
CompressedPath compressedPath(const tuttiComm* comm, const CompressedCall& call,
                              InterNodeGrid* grid);

// Total length of the shards owned by local index l (its "column", in node order).
size_t columnLen(const InterNodeGrid& g, const std::vector<Shard>& shards, int l);

// AllReduce: the P block-aligned parts of the count, part l * N + k owned by rankAt[k][l], so
// that column l holds the contiguous parts l * N .. l * N + N - 1.
std::vector<Shard> hierAllReduceShards(const CompressedCall& c, const InterNodeGrid& g, int P);

// ReduceScatter: rank r owns [r * recvcount, (r + 1) * recvcount).
std::vector<Shard> reduceScatterShards(size_t recvcount, int P);

}  // namespace tutti
