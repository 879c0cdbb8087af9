// Hierarchical AllReduce, AllGather, ReduceScatter, Broadcast and Reduce on device buffers:
// node kernels, rail proxy.
#include "gpu/hierarchical_executor.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "base/device.h"
#include "base/env.h"
#include "base/logging.h"
#include "core/comm_init.h"

namespace tutti {
namespace {

bool isIntegerType(tuttiDataType_t t) {
  return t == tuttiInt8 || t == tuttiUint8 || t == tuttiInt32 || t == tuttiUint32 ||
         t == tuttiInt64 || t == tuttiUint64;
}

bool isReduction(Collective c) {
  return c == Collective::kAllReduce || c == Collective::kReduceScatter || c == Collective::kReduce;
}

// The node stage applies the user's op (PreMulSum scales each input once); across the rail the
// partial results are already scaled, so they are summed. Avg of node averages is the average:
// nodes are of equal size.
tuttiRedOp_t railOpOf(tuttiRedOp_t op) { return op >= tuttiNumOps ? tuttiSum : op; }

Result cudaCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "%s: %s", what, cudaGetErrorString(e));
}

}  // namespace

HierarchicalExecutor::HierarchicalExecutor(Comm* comm, std::unique_ptr<Executor> flat,
                                           std::unique_ptr<Comm> node, std::unique_ptr<Comm> rail,
                                           NodeGrid grid)
    : comm_(comm),
      flat_(std::move(flat)),
      node_(std::move(node)),
      rail_(std::move(rail)),
      grid_(std::move(grid)) {}

// The flat proxy goes first: its thread may still be finishing a chunk that the node or rail
// parts do not know about, and the parts' own executors stop their threads as they go. A pool
// with allocations still pending on a stream is released when they are freed.
HierarchicalExecutor::~HierarchicalExecutor() {
  flat_.reset();
  if (pool_) cudaMemPoolDestroy(pool_);
}

// The parts number their calls as submitCall does for user calls (call_signature.h).
Result HierarchicalExecutor::onNode(CollCall&& call) {
  call.seq = node_->callSeq++;
  return node_->executors.device->launchOne(node_.get(), std::move(call));
}

Result HierarchicalExecutor::onRail(CollCall&& call) {
  call.seq = rail_->callSeq++;
  return rail_->executors.device->launchOne(rail_.get(), std::move(call));
}

// A pool of our own keeps its memory between calls (release threshold: never) without changing
// the device's default pool, which the application owns.
Result HierarchicalExecutor::tempAlloc(size_t bytes, cudaStream_t stream, char** out) {
  if (!pool_) {
    cudaMemPoolProps props = {};
    props.allocType = cudaMemAllocationTypePinned;
    props.location.type = cudaMemLocationTypeDevice;
    props.location.id = comm_->config.device;
    TUTTI_TRY(
        cudaCheck(cudaMemPoolCreate(&pool_, &props), "creating the hierarchical scratch pool"));
    uint64_t keep = UINT64_MAX;
    TUTTI_TRY(cudaCheck(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep),
                        "keeping the hierarchical scratch pool's memory"));
  }
  void* p = nullptr;
  TUTTI_CHECK(
      cudaCheck(cudaMallocFromPoolAsync(&p, bytes, pool_, stream), "cudaMallocFromPoolAsync"),
      "%zu bytes of scratch for a hierarchical call", bytes);
  *out = static_cast<char*>(p);
  return tuttiSuccess;
}

void HierarchicalExecutor::tempFree(char* p, cudaStream_t stream) {
  if (p && cudaFreeAsync(p, stream) != cudaSuccess) cudaGetLastError();
}

namespace {

// A stage of a hierarchical call: `c` with other buffers, count, op and root.
CollCall stageOf(const CollCall& c, Collective coll, const void* in, void* out, size_t count,
                 tuttiRedOp_t op, int root = 0) {
  CollCall s;
  s.collective = coll;
  s.sendbuff = in;
  s.recvbuff = out;
  s.count = count;
  s.dtype = c.dtype;
  s.op = op;
  s.root = root;
  s.premulScalar = c.premulScalar;
  s.premulResolved = c.premulResolved;
  s.stream = c.stream;
  s.onDevice = true;
  return s;
}

}  // namespace

// count = L * q + t: the first L * q elements go reduce-scatter / rail all-reduce / all-gather,
// the t < L left over are reduced inside the node and then across the rail (every rail does
// it: a few elements, and no rank waits for another rail).
Result HierarchicalExecutor::allReduce(const CollCall& c) {
  const int L = node_->nranks(), p = node_->rank();
  const size_t es = dtypeSize(c.dtype);
  const size_t q = c.count / L, tail = c.count % L;
  const char* send = static_cast<const char*>(c.sendbuff);
  char* recv = static_cast<char*>(c.recvbuff);
  const tuttiRedOp_t railOp = railOpOf(c.op);
  auto stage = [&](Collective coll, const void* in, void* out, size_t count, tuttiRedOp_t op) {
    return stageOf(c, coll, in, out, count, op);
  };
  char* shard = recv + p * q * es;
  if (q > 0) {
    TUTTI_CHECK(onNode(stage(Collective::kReduceScatter, send, shard, q, c.op)),
                "hierarchical AllReduce: reduce-scatter inside the node");
    TUTTI_CHECK(onRail(stage(Collective::kAllReduce, shard, shard, q, railOp)),
                "hierarchical AllReduce: all-reduce across nodes");
    TUTTI_CHECK(onNode(stage(Collective::kAllGather, shard, recv, q, tuttiSum)),
                "hierarchical AllReduce: all-gather inside the node");
  }
  if (tail > 0) {
    char* out = recv + L * q * es;
    TUTTI_CHECK(onNode(stage(Collective::kAllReduce, send + L * q * es, out, tail, c.op)),
                "hierarchical AllReduce: the last %zu elements inside the node", tail);
    TUTTI_CHECK(onRail(stage(Collective::kAllReduce, out, out, tail, railOp)),
                "hierarchical AllReduce: the last %zu elements across nodes", tail);
  }
  return tuttiSuccess;
}

// AllGather of c elements per rank, in grid order [l][j] in scratch of L N c: the rail gathers
// the c elements of its N ranks into this rank's row l, the node gathers the L rows (in place),
// and the blocks move to their ranks' places in the output. Each rank sends c elements across
// nodes (N - 1 times) instead of staging all L N c of the output through the host.
Result HierarchicalExecutor::allGather(const CollCall& c) {
  const size_t B = c.count * dtypeSize(c.dtype), rowElems = grid_.N * c.count;
  cudaStream_t stream = static_cast<cudaStream_t>(c.stream);
  char* grid = nullptr;
  TUTTI_TRY(tempAlloc(grid_.L * grid_.N * B, stream, &grid));
  char* row = grid + node_->rank() * grid_.N * B;
  Result r = onRail(stageOf(c, Collective::kAllGather, c.sendbuff, row, c.count, tuttiSum));
  if (r != tuttiSuccess) {
    r = setError(r, "hierarchical AllGather: all-gather across nodes: %s", lastError().c_str());
  } else if ((r = onNode(stageOf(c, Collective::kAllGather, row, grid, rowElems, tuttiSum))) !=
             tuttiSuccess) {
    r = setError(r, "hierarchical AllGather: all-gather inside the node: %s", lastError().c_str());
  } else {
    r = copyBlocks(grid_, static_cast<char*>(c.recvbuff), grid, B, false, stream);
  }
  tempFree(grid, stream);
  return r;
}

// ReduceScatter to c elements per rank, the reverse: the input's L N blocks go to grid order
// in scratch, the node reduce-scatters rows of N c (the user's op; in place, so row l of the
// scratch holds this node's partial sums for the ranks of rail l), and the rail reduce-scatters
// that row into the output. The input is read into the scratch first, so in place is safe.
Result HierarchicalExecutor::reduceScatter(const CollCall& c) {
  const size_t B = c.count * dtypeSize(c.dtype), rowElems = grid_.N * c.count;
  cudaStream_t stream = static_cast<cudaStream_t>(c.stream);
  char* grid = nullptr;
  TUTTI_TRY(tempAlloc(grid_.L * grid_.N * B, stream, &grid));
  char* row = grid + node_->rank() * grid_.N * B;
  Result r = copyBlocks(grid_, grid, static_cast<const char*>(c.sendbuff), B, true, stream);
  if (r == tuttiSuccess && (r = onNode(stageOf(c, Collective::kReduceScatter, grid, row, rowElems,
                                               c.op))) != tuttiSuccess) {
    r = setError(r, "hierarchical ReduceScatter: reduce-scatter inside the node: %s",
                 lastError().c_str());
  } else if (r == tuttiSuccess &&
             (r = onRail(stageOf(c, Collective::kReduceScatter, row, c.recvbuff, c.count,
                                 railOpOf(c.op)))) != tuttiSuccess) {
    r = setError(r, "hierarchical ReduceScatter: reduce-scatter across nodes: %s",
                 lastError().c_str());
  }
  tempFree(grid, stream);
  return r;
}

// Broadcast from the root at (l0, j0): the rail of l0 broadcasts from rail rank j0 (the other
// rails have nothing to do), then every node broadcasts from its rank at l0, in place.
Result HierarchicalExecutor::broadcast(const CollCall& c) {
  const int l0 = grid_.local[c.root], j0 = grid_.railRank[c.root];
  if (node_->rank() == l0)
    TUTTI_CHECK(
        onRail(stageOf(c, Collective::kBroadcast, c.sendbuff, c.recvbuff, c.count, tuttiSum, j0)),
        "hierarchical Broadcast: broadcast across nodes from rank %d", c.root);
  TUTTI_CHECK(
      onNode(stageOf(c, Collective::kBroadcast, c.recvbuff, c.recvbuff, c.count, tuttiSum, l0)),
      "hierarchical Broadcast: broadcast inside the node");
  return tuttiSuccess;
}

// Reduce to the root at (l0, j0): every node reduces to its rank at l0 (the user's op), then
// the rail of l0 reduces to rail rank j0. The root reduces into its output; every other rank
// into scratch, since only the root's output is defined (and may be null elsewhere).
Result HierarchicalExecutor::reduce(const CollCall& c) {
  const int l0 = grid_.local[c.root], j0 = grid_.railRank[c.root];
  const bool root = comm_->rank() == c.root;
  cudaStream_t stream = static_cast<cudaStream_t>(c.stream);
  char* part = nullptr;
  if (!root) TUTTI_TRY(tempAlloc(c.count * dtypeSize(c.dtype), stream, &part));
  void* out = root ? c.recvbuff : part;
  Result r = onNode(stageOf(c, Collective::kReduce, c.sendbuff, out, c.count, c.op, l0));
  if (r != tuttiSuccess) {
    r = setError(r, "hierarchical Reduce: reduce inside the node: %s", lastError().c_str());
  } else if (node_->rank() == l0 && (r = onRail(stageOf(c, Collective::kReduce, out, out, c.count,
                                                        railOpOf(c.op), j0))) != tuttiSuccess) {
    r = setError(r, "hierarchical Reduce: reduce across nodes to rank %d: %s", c.root,
                 lastError().c_str());
  }
  tempFree(part, stream);
  return r;
}

// Integer avg is one truncating division of the wrapped total: dividing per node first would
// round (and wrap) differently, so it stays flat.
bool HierarchicalExecutor::hierarchical(const CollCall& c) const {
  switch (c.collective) {
    case Collective::kAllReduce:
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kBroadcast:
    case Collective::kReduce: break;
    default: return false;
  }
  return !(isReduction(c.collective) && c.op == tuttiAvg && isIntegerType(c.dtype));
}

Result HierarchicalExecutor::run(const CollCall& c) {
  if (c.count == 0) return tuttiSuccess;  // every rank has the same count: no stage anywhere
  TUTTI_TRY(gpuSetDevice(comm_->config.device));
  switch (c.collective) {
    case Collective::kAllReduce: return allReduce(c);
    case Collective::kAllGather: return allGather(c);
    case Collective::kReduceScatter: return reduceScatter(c);
    case Collective::kBroadcast: return broadcast(c);
    case Collective::kReduce: return reduce(c);
    default:
      return setError(tuttiInternalError, "%s has no hierarchical form",
                      collectiveName(c.collective));
  }
}

namespace {

// The model prices one proxy call; the hierarchical AllGather and ReduceScatter on device
// buffers run a node kernel, layout copies and a rail proxy call, about 50 us more than the
// flat proxy at 64 B on the H200 (2 nodes x 2, 2026-12-02): flat is faster up to 32 KiB,
// hierarchical from 256 KiB. Below the crossover the model's pick stays flat; TUTTI_ALGO and
// TUTTI_TUNE still force either.
bool smallForStages(Collective c, size_t bytes, const TunerChoice& choice) {
  static const size_t minBytes = envBytes("TUTTI_GPU_HIER_MIN_BYTES", 128u << 10);
  return (c == Collective::kAllGather || c == Collective::kReduceScatter) && bytes < minBytes &&
         std::string(choice.source) == "model";
}

}  // namespace

Result HierarchicalExecutor::launch(std::vector<CommCalls>& work) {
  for (CommCalls& w : work) {
    TUTTI_TRY(comm_->checkUsable());
    // Runs of calls the flat proxy takes stay together (send/recv groups fuse there).
    std::vector<CommCalls> flat(1);
    flat[0].comm = w.comm;
    auto flushFlat = [&]() -> Result {
      if (flat[0].calls.empty()) return tuttiSuccess;
      Result r = flat_->launch(flat);
      flat[0].calls.clear();
      return r;
    };
    for (CollCall& call : w.calls) {
      if (hierarchical(call)) {
        const size_t bytes = tunerBytes(call, comm_->nranks());
        TunerChoice choice = comm_->tuner.decide(kind(), call.collective, bytes);
        if (choice.supported && choice.algorithm == Algorithm::kHierarchical &&
            !smallForStages(call.collective, bytes, choice)) {
          TUTTI_TRY(flushFlat());
          TUTTI_CHECK(run(call), "%s", collectiveName(call.collective));
          comm_->tuner.noteRan(kind(), call.collective, bytes, choice);
          continue;
        }
      }
      flat[0].calls.push_back(std::move(call));
    }
    TUTTI_TRY(flushFlat());
  }
  return tuttiSuccess;
}

Result HierarchicalExecutor::synchronize() {
  Result r = flat_->synchronize();
  for (Comm* part : {node_.get(), rail_.get()}) {
    Result pr = part->executors.device->synchronize();
    if (r == tuttiSuccess) r = pr;
  }
  return r;
}

Result HierarchicalExecutor::pollError() {
  TUTTI_TRY(flat_->pollError());
  for (Comm* part : {node_.get(), rail_.get()}) {
    Result r = part->executors.device->pollError();
    if (r != tuttiSuccess)
      return setError(r, "%s (%s part)", lastError().c_str(),
                      part == node_.get() ? "node" : "rail");
    r = static_cast<Result>(part->errors.asyncError.load());
    if (r != tuttiSuccess)
      return setError(r, "the %s part of the hierarchical GPU path failed",
                      part == node_.get() ? "node" : "rail");
  }
  return tuttiSuccess;
}

void HierarchicalExecutor::abort() {
  flat_->abort();
  for (Comm* part : {node_.get(), rail_.get()}) {
    part->errors.abortFlag = true;
    part->transports.markFailed();
    part->executors.device->abort();
  }
}

namespace {

// Node index (the smallest rank of the node), local position and ranks per node; false when
// the nodes differ in size, hold one rank each, or there is one node.
bool nodeShape(const Comm* comm, int* nodeColor, int* local) {
  const auto& peers = comm->peers;
  const int me = comm->rank();
  int nodes = 0, perNode = -1;
  for (int r = 0; r < comm->nranks(); ++r) {
    if (peers[r].cudaDev < 0) return false;
    int first = r, count = 0;
    for (int s = 0; s < comm->nranks(); ++s)
      if (peers[s].hostHash == peers[r].hostHash) {
        first = std::min(first, s);
        ++count;
      }
    if (first == r) ++nodes;
    if (perNode >= 0 && count != perNode) return false;
    perNode = count;
  }
  *nodeColor = me;
  *local = 0;
  for (int s = 0; s < me; ++s)
    if (peers[s].hostHash == peers[me].hostHash) {
      *nodeColor = std::min(*nodeColor, s);
      ++*local;
    }
  return nodes > 1 && perNode > 1;
}

}  // namespace

Result maybeHierarchical(Comm* comm, std::unique_ptr<Executor> flat,
                         std::unique_ptr<Executor>* out) {
  int nodeColor = 0, local = 0;
  // Every rank sees the same peer table, so every rank takes the same branch here.
  if (!nodeShape(comm, &nodeColor, &local) || envInt("TUTTI_GPU_HIERARCHY", 1) == 0) {
    *out = std::move(flat);
    return tuttiSuccess;
  }
  CommConfig opt = comm->config;
  opt.internal = true;
  Comm* node = nullptr;
  Comm* rail = nullptr;
  opt.name = comm->config.name + "/node";
  TUTTI_CHECK(splitComm(comm, nodeColor, comm->rank(), opt, &node), "building the node part");
  std::unique_ptr<Comm> nodePart(node);
  opt.name = comm->config.name + "/rail" + std::to_string(local);
  TUTTI_CHECK(splitComm(comm, local, comm->rank(), opt, &rail), "building the rail part");
  std::unique_ptr<Comm> railPart(rail);
  // Worth it only where every node's ranks map each other: agree on that.
  std::vector<int32_t> direct(comm->nranks());
  direct[comm->rank()] =
      nodePart->executors.device && nodePart->executors.device->kind() == ExecutorKind::kGpuDirect;
  TUTTI_CHECK(comm->bootstrap->allGather(direct.data(), sizeof(int32_t)),
              "agreeing on the hierarchical GPU path");
  for (int32_t d : direct)
    if (!d) {
      if (comm->rank() == 0)
        TUTTI_INFO("GPU path: flat proxy (some node's ranks cannot map each other)");
      *out = std::move(flat);
      return tuttiSuccess;
    }
  // The grid the stages index by; the splits order members by rank, as the grid does.
  NodeGrid grid;
  const int me = comm->rank();
  if (!NodeGrid::build(comm->peers, comm->config.device, &grid) || grid.L != nodePart->nranks() ||
      grid.N != railPart->nranks() || grid.local[me] != nodePart->rank() ||
      grid.railRank[me] != railPart->rank())
    return setError(tuttiInternalError,
                    "rank %d: the node and rail parts (rank %d of %d, rank %d of %d) do not match "
                    "the node grid",
                    me, nodePart->rank(), nodePart->nranks(), railPart->rank(), railPart->nranks());
  if (me == 0)
    TUTTI_INFO(
        "GPU path: hierarchical AllReduce, AllGather, ReduceScatter, Broadcast and Reduce "
        "available: %d nodes of %d ranks%s; inside a node on the direct kernels, across nodes "
        "through the proxy of each rail",
        railPart->nranks(), nodePart->nranks(), grid.nodeMajor ? "" : " (nodes interleaved)");
  *out = std::make_unique<HierarchicalExecutor>(comm, std::move(flat), std::move(nodePart),
                                                std::move(railPart), std::move(grid));
  return tuttiSuccess;
}

}  // namespace tutti
