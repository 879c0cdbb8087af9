// Device buffers across nodes. The whole communicator's device calls go through the host proxy
// (no rank can map a peer on another node), but an AllReduce, AllGather, ReduceScatter,
// Broadcast or Reduce for which the tuner picks `hierarchical` runs in stages on the caller's
// stream: the parts inside a node on the node's peer-mapped kernels, the parts across nodes
// through the proxy of the rail (the ranks at the same local position on every node) and its
// network transport. AllReduce: node reduce-scatter, rail all-reduce of this rank's shard, node
// all-gather; so each rank stages and sends 1/L of the buffer (L ranks per node) instead of all
// of it, and NVLink carries the rest. The others are described at their functions. Every other
// call runs on the flat proxy of the whole communicator. The node and rail parts are
// communicators of their own, built by splitting this one at init.
#pragma once

#include <memory>

#include "core/comm.h"
#include "core/executor.h"
#include "gpu/node_grid.h"

namespace tutti {

class HierarchicalExecutor : public Executor {
 public:
  HierarchicalExecutor(Comm* comm, std::unique_ptr<Executor> flat, std::unique_ptr<Comm> node,
                       std::unique_ptr<Comm> rail, NodeGrid grid);
  ~HierarchicalExecutor() override;

  // It is the proxy executor, with one more way to run five collectives.
  ExecutorKind kind() const override { return flat_->kind(); }
  const Capabilities& capabilities() const override { return flat_->capabilities(); }
  Result launch(std::vector<CommCalls>& work) override;
  Result quiesce() override { return flat_->quiesce(); }
  Result synchronize() override;
  Result pollError() override;
  void abort() override;
  tuttiComm* nodePart() const override { return node_.get(); }
  tuttiComm* railPart() const override { return rail_.get(); }

 private:
  // Whether `call` has a hierarchical form here, and running it.
  bool hierarchical(const CollCall& call) const;
  Result run(const CollCall& call);
  Result allReduce(const CollCall& call);
  Result allGather(const CollCall& call);
  Result reduceScatter(const CollCall& call);
  Result broadcast(const CollCall& call);
  Result reduce(const CollCall& call);
  Result onNode(CollCall&& call);
  Result onRail(CollCall&& call);
  // Device scratch of `bytes` from this executor's pool, ordered on `stream`: every call takes
  // its own and frees it on its stream after its last stage, so calls on several streams and
  // in-place calls never share one.
  Result tempAlloc(size_t bytes, cudaStream_t stream, char** out);
  void tempFree(char* p, cudaStream_t stream);

  Comm* comm_;
  std::unique_ptr<Executor> flat_;
  std::unique_ptr<Comm> node_, rail_;
  NodeGrid grid_;
  cudaMemPool_t pool_ = nullptr;  // created at the first call that needs scratch
};

// Wraps `flat` (the proxy) in a HierarchicalExecutor when every node holds the same number
// (more than one) of GPU ranks and every node's ranks can map each other; else returns `flat`.
// Collective over the communicator. TUTTI_GPU_HIERARCHY=0 keeps the flat proxy.
Result maybeHierarchical(Comm* comm, std::unique_ptr<Executor> flat,
                         std::unique_ptr<Executor>* out);

}  // namespace tutti
