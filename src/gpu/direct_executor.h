// The GPU direct executor: every rank maps every peer's scratch and flags, and each call is one
// kernel on the caller's stream (kernels/, one algorithm per file): one-shot or two-shot
// AllReduce as the tuner chooses, ReduceScatter, Reduce, AllGather, AllToAll, Broadcast, and
// one fused point-to-point kernel for a run of sends and receives or an AllToAllv.
#pragma once

#include <memory>

#include "core/comm.h"
#include "core/executor.h"
#include "gpu/gpu_state.h"

namespace tutti {

class DirectExecutor : public Executor {
 public:
  DirectExecutor(Comm* comm, std::unique_ptr<GpuState> state);
  ExecutorKind kind() const override { return ExecutorKind::kGpuDirect; }
  const Capabilities& capabilities() const override { return gpuDirectCapabilities(); }
  Result launch(std::vector<CommCalls>& work) override;
  Result launchOne(tuttiComm* comm, CollCall&& call) override;
  Result synchronize() override;
  Result pollError() override;
  void abort() override;

 private:
  Result launchCollective(const CollCall& c);
  Result launchPointToPoint(const std::vector<CollCall>& calls, size_t first, size_t last);
  Comm* comm_;
  std::unique_ptr<GpuState> state_;
};

}  // namespace tutti
