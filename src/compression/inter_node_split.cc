// Path choice, node grid and shards of the inter-node-only mode (see inter_node_split.h).
#include "compression/inter_node_split.h"

#include "algorithms/rank_layout.h"
#include "base/logging.h"
#include "core/comm.h"

namespace tutti {
namespace {

// The grid of a communicator whose nodes all hold the same number of ranks (else false).
bool nodeGrid(const Comm* comm, InterNodeGrid* g) {
  const RankLayout* layout = comm->topology.layout.get();
  if (!layout || layout->localRanks() == 0) return false;
  g->nodes = layout->nnodes;
  g->local = layout->localRanks();
  g->node = layout->nodeOf[comm->rank()];
  g->index = layout->localOf[comm->rank()];
  g->rankAt = layout->nodeRanks;
  return true;
}

}  // namespace

CompressedPath compressedPath(const Comm* comm, const CompressedCall& c, InterNodeGrid* g) {
  if (!c.interNodeOnly || c.kind == CompressedKind::kAllGather) return CompressedPath::kFlat;
  if (!nodeGrid(comm, g)) {
    TUTTI_INFO("compressed %s: nodes hold different rank counts, every exchange is encoded",
               c.kind == CompressedKind::kAllReduce ? "AllReduce" : "ReduceScatter");
    return CompressedPath::kFlat;
  }
  if (g->nodes == 1) return CompressedPath::kExact;
  return g->local > 1 ? CompressedPath::kHierarchical : CompressedPath::kFlat;
}

size_t columnLen(const InterNodeGrid& g, const std::vector<Shard>& shards, int l) {
  size_t n = 0;
  for (int k = 0; k < g.nodes; ++k) n += shards[g.rankAt[k][l]].len;
  return n;
}

std::vector<Shard> hierAllReduceShards(const CompressedCall& c, const InterNodeGrid& g, int P) {
  const std::vector<Shard> parts = blockAlignedShards(c.count, P, c.spec.block);
  std::vector<Shard> shards(P);
  for (int k = 0; k < g.nodes; ++k)
    for (int l = 0; l < g.local; ++l) shards[g.rankAt[k][l]] = parts[l * g.nodes + k];
  return shards;
}

std::vector<Shard> reduceScatterShards(size_t recvcount, int P) {
  std::vector<Shard> shards(P);
  for (int r = 0; r < P; ++r) shards[r] = Shard{r * recvcount, recvcount};
  return shards;
}

}  // namespace tutti
