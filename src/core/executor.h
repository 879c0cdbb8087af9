// The executor interface: what runs a group of calls. The CPU executor runs plans over host
// buffers; the GPU direct executor launches peer-mapped kernels; the GPU proxy executor stages
// device buffers through pinned host memory and runs the CPU executor on a proxy thread. Each
// declares what it implements (capabilities.h) and the tuner chooses only among that.
#pragma once

#include <vector>

#include "algorithms/capabilities.h"
#include "base/error.h"
#include "core/coll_call.h"

struct tuttiComm;

namespace tutti {

// One communicator's calls of a group, in call order.
struct CommCalls {
  tuttiComm* comm;
  std::vector<CollCall> calls;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual ExecutorKind kind() const = 0;
  virtual const Capabilities& capabilities() const = 0;
  // Launches one group: every entry's communicator runs these calls on this kind of executor.
  // Host executors complete them before returning; device executors enqueue them on the calls'
  // streams. A call the executor cannot run is an error naming what it can run.
  virtual Result launch(std::vector<CommCalls>& work) = 0;
  // One call outside a group (the latency-critical case): the same as a group of one.
  virtual Result launchOne(tuttiComm* comm, CollCall&& call);
  // Waits until this executor's enqueued work that moves bytes through the communicator's
  // transports (the proxy's) has run, so a host call made after it keeps its order on every
  // rank. Bounded by the communicator's timeout only while bytes are in flight.
  virtual Result quiesce() { return tuttiSuccess; }
  // Waits for work enqueued on device streams (tuttiCommFinalize).
  virtual Result synchronize() { return tuttiSuccess; }
  // An error that happened after launch returned (a kernel's timeout, a proxy failure).
  virtual Result pollError() { return tuttiSuccess; }
  // Makes every wait of this executor give up now (tuttiCommAbort, a failed communicator).
  virtual void abort() {}
  // The communicators a hierarchical device executor runs its stages on: the ranks of this
  // rank's node (on the direct kernels) and the ranks at its local position on every node (its
  // rail). Null for every other executor. A call for a part goes to the part's own device
  // executor, numbered by the part's callSeq (gpu/hierarchical_executor.h).
  virtual tuttiComm* nodePart() const { return nullptr; }
  virtual tuttiComm* railPart() const { return nullptr; }
};

}  // namespace tutti
