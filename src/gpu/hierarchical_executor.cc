// Hierarchical AllReduce on device buffers: node kernels, rail proxy, node kernels.
#include "gpu/hierarchical_executor.h"

#include <algorithm>

#include "base/env.h"
#include "base/logging.h"
#include "core/comm_init.h"

namespace tutti {
namespace {

bool isIntegerType(tuttiDataType_t t) {
  return t == tuttiInt8 || t == tuttiUint8 || t == tuttiInt32 || t == tuttiUint32 ||
         t == tuttiInt64 || t == tuttiUint64;
}

}  // namespace

HierarchicalExecutor::HierarchicalExecutor(Comm* comm, std::unique_ptr<Executor> flat,
                                           std::unique_ptr<Comm> node, std::unique_ptr<Comm> rail)
    : comm_(comm), flat_(std::move(flat)), node_(std::move(node)), rail_(std::move(rail)) {}

// The flat proxy goes first: its thread may still be finishing a chunk that the node or rail
// parts do not know about, and the parts' own executors stop their threads as they go.
HierarchicalExecutor::~HierarchicalExecutor() { flat_.reset(); }

Result HierarchicalExecutor::onNode(CollCall&& call) {
  return node_->executors.device->launchOne(node_.get(), std::move(call));
}

Result HierarchicalExecutor::onRail(CollCall&& call) {
  return rail_->executors.device->launchOne(rail_.get(), std::move(call));
}

// count = L * q + t: the first L * q elements go reduce-scatter / rail all-reduce / all-gather,
// the t < L left over are reduced inside the node and then across the rail (every rail does
// it: a few elements, and no rank waits for another rail).
Result HierarchicalExecutor::allReduce(const CollCall& c) {
  const int L = node_->nranks(), p = node_->rank();
  const size_t es = dtypeSize(c.dtype);
  const size_t q = c.count / L, tail = c.count % L;
  const char* send = static_cast<const char*>(c.sendbuff);
  char* recv = static_cast<char*>(c.recvbuff);
  // Stage 1 applies the user's op (PreMulSum scales each input once); across the rail the
  // shards are already scaled, so they are summed. Avg of node averages is the average: nodes
  // are of equal size.
  const tuttiRedOp_t railOp = c.op >= tuttiNumOps ? tuttiSum : c.op;
  auto stage = [&](Collective coll, const void* in, void* out, size_t count, tuttiRedOp_t op) {
    CollCall s;
    s.collective = coll;
    s.sendbuff = in;
    s.recvbuff = out;
    s.count = count;
    s.dtype = c.dtype;
    s.op = op;
    s.premulScalar = c.premulScalar;
    s.premulResolved = c.premulResolved;
    s.stream = c.stream;
    s.onDevice = true;
    return s;
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
      // Integer avg is one truncating division of the wrapped total: dividing per node first
      // would round (and wrap) differently, so it stays flat.
      if (call.collective == Collective::kAllReduce &&
          !(call.op == tuttiAvg && isIntegerType(call.dtype))) {
        const size_t bytes = tunerBytes(call, comm_->nranks());
        TunerChoice choice = comm_->tuner.decide(kind(), call.collective, bytes);
        if (choice.supported && choice.algorithm == Algorithm::kHierarchical) {
          TUTTI_TRY(flushFlat());
          TUTTI_TRY(allReduce(call));
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
    if (r != tuttiSuccess) return setError(r, "%s (%s part)", lastError().c_str(),
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
  direct[comm->rank()] = nodePart->executors.device &&
                         nodePart->executors.device->kind() == ExecutorKind::kGpuDirect;
  TUTTI_CHECK(comm->bootstrap->allGather(direct.data(), sizeof(int32_t)),
              "agreeing on the hierarchical GPU path");
  for (int32_t d : direct)
    if (!d) {
      if (comm->rank() == 0)
        TUTTI_INFO("GPU path: flat proxy (some node's ranks cannot map each other)");
      *out = std::move(flat);
      return tuttiSuccess;
    }
  if (comm->rank() == 0)
    TUTTI_INFO("GPU path: hierarchical AllReduce available: %d nodes of %d ranks; inside a "
               "node on the direct kernels, across nodes through the proxy of each rail",
               railPart->nranks(), nodePart->nranks());
  *out = std::make_unique<HierarchicalExecutor>(comm, std::move(flat), std::move(nodePart),
                                                std::move(railPart));
  return tuttiSuccess;
}

}  // namespace tutti
