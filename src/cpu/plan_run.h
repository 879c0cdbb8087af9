// The CPU executor's engine: runs plans over host buffers by moving bytes through the
// transports and combining them on the CPU. Nothing blocks inside a step: every op advances as
// far as its connection allows, and one loop progresses all plans of a group (one thread can
// drive several communicators, as tuttiCommInitAll users do). That loop owns every wait.
#pragma once

#include <cstddef>
#include <vector>

#include "algorithms/plan.h"
#include "base/fault_injection.h"
#include "core/call_signature.h"
#include "core/comm.h"
#include "cpu/host_reduce.h"

namespace tutti {

// The streams a communicator's plans move bytes through, and the message count of every
// directed pair (each message header carries it).
struct PeerStreams {
  const PeerConnections* transports = nullptr;
  std::vector<uint32_t> sendSeq, recvSeq;
  bool checksum = false;  // TUTTI_CHECKSUM=1: a CRC32C trailer follows every payload
  // More of the communicator's ranks on this host than it has CPUs: a waiting rank yields at
  // once instead of spinning first, since the peer it waits for may need this very core.
  bool yieldAtOnce = false;
  // Threads a large combine may spread over (parallel_combine.h); 1 keeps it on this thread.
  int reduceThreads = 1;
};

// A plan in flight on one communicator.
class PlanRun {
 public:
  // `bases[i]` is the address of BufferId i (send, recv, scratch, extras).
  // `sig` is the call this plan runs; every message carries it (msg_header.h).
  PlanRun(Comm* comm, PeerStreams* streams, const Plan* plan, std::vector<char*> bases,
          ReduceSpec spec, const CallSignature& sig);
  // Re-targets this run at another plan, keeping its allocations (the hot path reuses one).
  void reset(Comm* comm, const Plan* plan, const char* send, char* recv, char* scratch,
             ReduceSpec spec, const CallSignature& sig);

  // Progresses without waiting; sets *progressed when any byte moved.
  Result advance(bool* progressed);
  bool done() const { return step_ >= plan_->steps.size(); }
  Comm* comm() const { return comm_; }
  const CallSignature& signature() const { return sig_; }
  // "AllReduce(float32, sum, count 8, seq 3) (ring, step 2/6)" for error messages.
  std::string where() const;
  // Peers the current step still waits on, for timeout messages.
  std::string waitingOn() const;
  // The flight recorder entry of this run's call (0: none) and the executor it runs for.
  void setFlight(uint64_t id, ExecutorKind as) {
    flightId_ = id;
    as_ = as;
    flightNoted_ = false;
  }
  // Records the start (once) and the end of the run in the communicator's flight recorder.
  bool flightNoted() const { return flightNoted_; }
  void noteStarted();
  void noteFinished(bool ok);
  // Runs checkPeer() on the connections of the current step.
  Result checkPeers();
  bool yieldsAtOnce() const { return streams_->yieldAtOnce; }
  // Gives up on the run: no transport touches its buffers once this returns.
  void abandon() { streams_->transports->abandonDirect(); }

 private:
  struct OpState {
    bool headerDone;
    bool complete;
    uint8_t headerHave;  // header bytes moved so far when it straddles the stream's wrap
    size_t done;
    uint64_t headerHalf[2];  // the first half of a received header that straddled the wrap
    uint32_t crc;            // TUTTI_CHECKSUM: CRC32C of the payload so far
    bool trailerDone;
    size_t directLeft;  // payload bytes still to move by sendDirect/recvDirect (sockets)
    bool begun;         // Connection::begin*Message told the stream this message's length
    bool direct;        // the payload goes by sendDirect, a reservation per stripe
  };
  // All the message occupies in the stream: header, padded payload, checksum trailer.
  size_t streamBytes(const PlanOp& op) const;
  Result advanceSend(const PlanOp& op, OpState& st, bool* progressed);
  Result advanceRecv(const PlanOp& op, OpState& st, bool* progressed);
  void runLocal(const PlanOp& op);
  char* addr(const BufRef& r) const { return bases_[static_cast<size_t>(r.buf)] + r.offset; }
  void startStep();
  Result injectFault(FaultWhere where, const PlanOp& op);
  Result sendTrailer(Connection* c, OpState& st, bool* progressed);
  Result checkTrailer(const PlanOp& op, Connection* c, OpState& st, bool* progressed);

  Comm* comm_;
  PeerStreams* streams_;
  const Plan* plan_;
  std::vector<char*> bases_;
  ReduceSpec spec_;
  CallSignature sig_;
  size_t elemSize_;
  size_t step_ = 0;
  bool stepStarted_ = false;
  std::vector<OpState> states_;
  std::vector<uint32_t> sendBusy_, recvBusy_;  // pass number a peer's stream is occupied in
  uint32_t pass_ = 0;
  uint64_t flightId_ = 0;
  ExecutorKind as_ = ExecutorKind::kCpu;
  bool flightNoted_ = false;
  bool hung_ = false;         // TUTTI_FAULT kind=hang: moves nothing more
  bool corruptNext_ = false;  // TUTTI_FAULT kind=corrupt: flips a byte of the next payload
};

// One communicator's plans of a group, run in order.
struct CommQueue {
  Comm* comm;
  std::vector<PlanRun> runs;
  size_t next = 0;
};

// Runs every queue to completion. A queue that fails marks its communicator failed (so its
// peers learn at once); the first error is returned, after every unfinished run has been
// abandoned (no transport thread still reads or writes the callers' buffers). Waits end after
// the communicator's timeout without progress, or when it is aborted.
Result runQueues(std::vector<CommQueue>& queues);

}  // namespace tutti
