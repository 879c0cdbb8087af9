// The flight recorder: per communicator, a ring of the last N calls (TUTTI_FLIGHT_RECORDER,
// default 256, 0 = off) with their signature, the executor and algorithm that ran them,
// timestamps and state. Dumped as JSON per rank when the communicator fails (timeout, abort,
// asynchronous error), on tuttiCommDumpFlightRecord, and on TUTTI_FLIGHT_SIGNAL;
// tools/tutti-flight compares every rank's dump.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "algorithms/capabilities.h"
#include "algorithms/plan.h"
#include "base/error.h"
#include "core/coll_call.h"

struct tuttiComm;

namespace tutti {

class FlightRecorder {
 public:
  enum State : uint8_t { kQueued, kRunning, kDone, kFailed };

  // Null when TUTTI_FLIGHT_RECORDER=0. `commHash` names the communicator in file names.
  static std::unique_ptr<FlightRecorder> create(tuttiComm* comm, uint64_t commHash);
  ~FlightRecorder();

  // Recording, on the calling thread: no allocation, no lock. Ids are 1-based and never reused;
  // an update of a slot that a newer call took over is dropped.
  // `startsNow`: a host call outside a group, which the executor starts at once (its start
  // time is the enqueue time: one clock read less on the latency-critical path).
  uint64_t enqueue(const CollCall& call, bool startsNow);
  void started(uint64_t id, ExecutorKind executor, Algorithm algorithm);
  void finished(uint64_t id, bool ok);

  // Writes the JSON dump to `path` (empty: TUTTI_FLIGHT_DIR or /tmp, named after the
  // communicator hash and rank). `reason` says why.
  Result dump(const std::string& path, const std::string& reason);
  std::string defaultPath() const;

  struct Entry;  // one cache line (flight_recorder.cc)

 private:
  FlightRecorder(tuttiComm* comm, uint64_t commHash, size_t size);
  Entry* slot(uint64_t id);

  tuttiComm* comm_;
  uint64_t commHash_;
  std::vector<Entry> ring_;
  std::atomic<uint64_t> next_{0};
  uint64_t baseTicks_;  // ticks() and wall-clock microseconds at creation: dumps convert
  int64_t baseUs_;
};

// Installs the TUTTI_FLIGHT_SIGNAL handler and its watcher thread once per process (the handler
// only posts a semaphore; the watcher dumps every live recorder).
void flightSignalSetup();

}  // namespace tutti
