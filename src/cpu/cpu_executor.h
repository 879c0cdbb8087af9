// The CPU executor: host buffers, host threads, shm and network transports, CPU reduction. It is
// a real executor (collectives on CPU tensors) and the engine the GPU proxy runs on staged chunks.
#pragma once

#include <mutex>
#include <vector>

#include "core/executor.h"
#include "cpu/plan_cache.h"
#include "cpu/plan_run.h"

namespace tutti {

class CpuExecutor : public Executor {
 public:
  explicit CpuExecutor(Comm* comm);
  ExecutorKind kind() const override { return ExecutorKind::kCpu; }
  const Capabilities& capabilities() const override { return cpuCapabilities(); }
  // Host-buffer calls from the API. Device work of the same communicators that moves through
  // the same streams (the proxy's) finishes first, so calls keep their order on every rank.
  // Returns once every call is complete.
  Result launch(std::vector<CommCalls>& work) override;
  // One call outside a group: the latency-critical path (no allocation for a repeated call).
  Result launchOne(tuttiComm* comm, CollCall&& call) override;
  // The proxy's entry point: calls of this communicator on staged host buffers, planned with
  // executor `as`'s tables (what the proxy declares it runs).
  Result runStaged(std::vector<CollCall>& calls, ExecutorKind as);

 private:
  struct Prepared;  // plans and buffers of one communicator's calls (cpu_executor.cc)
  static Result run(std::vector<CommCalls>& work, ExecutorKind as);
  Result runOne(const CollCall& call, ExecutorKind as);
  Result prepare(std::vector<CollCall>& calls, ExecutorKind as, Prepared* out);

  Comm* comm_;
  std::mutex mutex_;  // one thread runs this communicator's plans at a time
  PeerStreams streams_;
  std::vector<char> scratch_;  // plan scratch, grown on demand
  PlanCache cache_;
  std::vector<CommQueue> hotQueue_;  // the repeated single call: one queue, one reused run
};

}  // namespace tutti
