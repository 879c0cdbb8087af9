// Device buffers across nodes. The whole communicator's device calls go through the host proxy
// (no rank can map a peer on another node), but an AllReduce for which the tuner picks
// `hierarchical` runs in three stages on the caller's stream:
//   1. reduce-scatter inside the node, on the node's peer-mapped kernels;
//   2. all-reduce of this rank's shard across nodes, through the proxy of the rail (the ranks
//      at the same local position on every node) and its network transport;
//   3. all-gather inside the node, on the kernels.
// So each rank stages and sends 1/L of the buffer (L ranks per node) instead of all of it, and
// NVLink carries the rest. Every other call runs on the flat proxy of the whole communicator.
// The node and rail parts are communicators of their own, built by splitting this one at init.
#pragma once

#include <memory>

#include "core/comm.h"
#include "core/executor.h"

namespace tutti {

class HierarchicalExecutor : public Executor {
 public:
  HierarchicalExecutor(Comm* comm, std::unique_ptr<Executor> flat, std::unique_ptr<Comm> node,
                       std::unique_ptr<Comm> rail);
  ~HierarchicalExecutor() override;

  // It is the proxy executor, with one more way to run an AllReduce.
  ExecutorKind kind() const override { return flat_->kind(); }
  const Capabilities& capabilities() const override { return flat_->capabilities(); }
  Result launch(std::vector<CommCalls>& work) override;
  Result quiesce() override { return flat_->quiesce(); }
  Result synchronize() override;
  Result pollError() override;
  void abort() override;

 private:
  Result allReduce(const CollCall& call);
  Result onNode(CollCall&& call);
  Result onRail(CollCall&& call);

  Comm* comm_;
  std::unique_ptr<Executor> flat_;
  std::unique_ptr<Comm> node_, rail_;
};

// Wraps `flat` (the proxy) in a HierarchicalExecutor when every node holds the same number
// (more than one) of GPU ranks and every node's ranks can map each other; else returns `flat`.
// Collective over the communicator. TUTTI_GPU_HIERARCHY=0 keeps the flat proxy.
Result maybeHierarchical(Comm* comm, std::unique_ptr<Executor> flat, std::unique_ptr<Executor>* out);

}  // namespace tutti
