// The CPU executor's engine: runs plans over host buffers by moving bytes through the
// transports and combining them on the CPU. Nothing blocks inside a step: every op advances as
// far as its connection allows, and one loop progresses all plans of a group (one thread can
// drive several communicators, as tuttiCommInitAll users do). That loop owns every wait.
#pragma once

#include <cstddef>
#include <vector>

#include "algorithms/plan.h"
#include "core/comm.h"
#include "cpu/host_reduce.h"

namespace tutti {

// The streams a communicator's plans move bytes through, and the message count of every
// directed pair (each message header carries it).
struct PeerStreams {
  const PeerConnections* transports = nullptr;
  std::vector<uint32_t> sendSeq, recvSeq;
  // More of the communicator's ranks on this host than it has CPUs: a waiting rank yields at
  // once instead of spinning first, since the peer it waits for may need this very core.
  bool yieldAtOnce = false;
};

// A plan in flight on one communicator.
class PlanRun {
 public:
  // `bases[i]` is the address of BufferId i (send, recv, scratch, extras).
  PlanRun(Comm* comm, PeerStreams* streams, const Plan* plan, std::vector<char*> bases,
          ReduceSpec spec);
  // Re-targets this run at another plan, keeping its allocations (the hot path reuses one).
  void reset(Comm* comm, const Plan* plan, const char* send, char* recv, char* scratch,
             ReduceSpec spec);

  // Progresses without waiting; sets *progressed when any byte moved.
  Result advance(bool* progressed);
  bool done() const { return step_ >= plan_->steps.size(); }
  Comm* comm() const { return comm_; }
  // "AllReduce ring step 2/6" for error messages.
  std::string where() const;
  // Peers the current step still waits on, for timeout messages.
  std::string waitingOn() const;
  // Runs checkPeer() on the connections of the current step.
  Result checkPeers();
  bool yieldsAtOnce() const { return streams_->yieldAtOnce; }

 private:
  struct OpState {
    bool headerDone;
    bool complete;
    size_t done;
  };
  Result advanceSend(const PlanOp& op, OpState& st, bool* progressed);
  Result advanceRecv(const PlanOp& op, OpState& st, bool* progressed);
  void runLocal(const PlanOp& op);
  char* addr(const BufRef& r) const { return bases_[static_cast<size_t>(r.buf)] + r.offset; }
  void startStep();

  Comm* comm_;
  PeerStreams* streams_;
  const Plan* plan_;
  std::vector<char*> bases_;
  ReduceSpec spec_;
  size_t elemSize_;
  size_t step_ = 0;
  bool stepStarted_ = false;
  std::vector<OpState> states_;
  std::vector<uint32_t> sendBusy_, recvBusy_;  // pass number a peer's stream is occupied in
  uint32_t pass_ = 0;
};

// One communicator's plans of a group, run in order.
struct CommQueue {
  Comm* comm;
  std::vector<PlanRun> runs;
  size_t next = 0;
};

// Runs every queue to completion. A queue that fails marks its communicator failed (so its
// peers learn at once); the first error is returned. Waits end after the communicator's
// timeout without progress, or when it is aborted.
Result runQueues(std::vector<CommQueue>& queues);

}  // namespace tutti
