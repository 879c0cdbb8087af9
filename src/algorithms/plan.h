// Plans are data: per-rank lists of steps over buffer slices. An algorithm (ring, direct,
// chain, tree, pairwise, hierarchical) is written once as a plan builder and run by the CPU
// executor; the GPU executor reads the same choice (algorithm, protocol, channels, chunking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/dtype_dispatch.h"
#include "tutti/tutti.h"

namespace tutti {

struct RankLayout;  // algorithms/rank_layout.h

enum class Collective : uint8_t {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kAllToAll,
  kAllToAllv,
  kBroadcast,
  kReduce,
  kSend,
  kRecv,
  kCount
};
const char* collectiveName(Collective c);

enum class Algorithm : uint8_t {
  kAuto,               // let the tuner decide
  kRing,               // bandwidth-optimal ring (reduce-scatter + all-gather for AllReduce)
  kDirect,             // one step: every rank exchanges with every peer (one-shot on GPUs)
  kTwoShot,            // GPU: reduce-scatter by direct reads + all-gather by direct writes
  kPairwise,           // AllToAll: n-1 steps, step s exchanges with rank +/- s
  kChain,              // pipelined chain (Broadcast, Reduce)
  kTree,               // binomial tree (Broadcast, Reduce) / double binary tree (AllReduce)
  kHierarchical,       // intra-node reduce-scatter, inter-node all-reduce, intra-node all-gather
  kP2p,                // point-to-point send/receive
  kRecursiveDoubling,  // AllReduce: log2(n) pairwise exchanges of the whole vector
  kCount
};
const char* algorithmName(Algorithm a);
// Parses "ring", "one_shot"/"direct", ...; false when unknown.
bool parseAlgorithm(const std::string& name, Algorithm* out);

enum class Protocol : uint8_t { kSimple, kLL, kCount };
const char* protocolName(Protocol p);
bool parseProtocol(const std::string& name, Protocol* out);

// Buffers a plan refers to: the call's send and receive buffers, the communicator's scratch,
// and for fused point-to-point groups one extra buffer per operation (kFirstExtra + i).
enum class BufferId : uint16_t { kSend = 0, kRecv = 1, kScratch = 2, kFirstExtra = 3 };
inline BufferId extraBuffer(int i) { return static_cast<BufferId>(3 + i); }

struct BufRef {
  BufferId buf;
  size_t offset;  // bytes
};

enum class OpType : uint8_t {
  kSend,        // stream `bytes` from src to `peer`
  kRecv,        // receive `bytes` from `peer` into dst
  kRecvReduce,  // dst = combine(src, bytes received from `peer`) (peerFirst: swapped operands)
  kCopy,        // dst = src
  kReduceMany,  // dst = combine(sources...) in list order, accumulating once
  kDivide,      // dst = dst / nranks (tuttiAvg)
};

struct PlanOp {
  OpType type;
  int peer;  // kSend, kRecv, kRecvReduce
  BufRef src;
  BufRef dst;
  size_t bytes;
  uint32_t firstSource = 0;  // kReduceMany: index into Plan::sources
  uint32_t numSources = 0;
  // kRecvReduce: dst = combine(received, src), the peer's value as the left operand, so that a
  // fold in rank order computes the same bits on every rank (min/max of -0/+0 or NaN differ).
  bool peerFirst = false;
  // Starts only once the op before it in the step is complete: a chain of receives consumed
  // in a fixed order while the step's sends proceed independently.
  bool afterPrev = false;
};

// Ops of one step run concurrently; steps run in order. Messages to one peer keep op order.
struct PlanStep {
  uint32_t firstOp;
  uint32_t numOps;
};

struct Plan {
  Collective collective = Collective::kAllReduce;
  Algorithm algorithm = Algorithm::kRing;
  Protocol protocol = Protocol::kSimple;
  int channels = 1;
  size_t chunkBytes = 0;
  size_t scratchBytes = 0;
  std::vector<PlanOp> ops;
  std::vector<PlanStep> steps;
  std::vector<BufRef> sources;

  void beginStep() { steps.push_back({static_cast<uint32_t>(ops.size()), 0}); }
  void add(const PlanOp& op) {
    ops.push_back(op);
    steps.back().numOps++;
  }
  // Drops steps that ended up with no ops.
  void compact();
  std::string describe() const;  // one line per step, for TUTTI_DEBUG=TRACE and tests
};

// What a plan builder needs to know about one call on one rank.
struct CollArgs {
  Collective collective;
  tuttiDataType_t dtype;
  size_t elemSize;
  size_t count;  // AllReduce/Broadcast/Reduce: elements; AllGather: per rank;
                 // ReduceScatter: per rank (recvcount); AllToAll: per peer
  int root = 0;
  int rank = 0;
  int nranks = 1;
  bool inPlace = false;
  bool average = false;                // append the divide by nranks (tuttiAvg)
  int peer = -1;                       // Send/Recv
  const size_t* sendCounts = nullptr;  // AllToAllv, elements
  const size_t* sendDispls = nullptr;
  const size_t* recvCounts = nullptr;
  const size_t* recvDispls = nullptr;
  size_t chunkBytes = 0;  // pipelining granularity for chain and tree algorithms (0 = default)
  const RankLayout* layout = nullptr;  // nodes and ring orders; null = one node, rank order
  int channels = 1;  // rings a ring plan may run in parallel (capped by the layout)
};

// Splits `count` elements into `parts` nearly equal blocks; block b starts at blockStart(b).
inline size_t blockStart(size_t count, int parts, int b) {
  size_t q = count / parts, r = count % parts;
  return q * b + (static_cast<size_t>(b) < r ? b : r);
}
inline size_t blockCount(size_t count, int parts, int b) {
  return blockStart(count, parts, b + 1) - blockStart(count, parts, b);
}

}  // namespace tutti
