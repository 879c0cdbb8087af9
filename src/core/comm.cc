// Communicator-wide error handling, shared by every layer.
#include "core/comm.h"

#include "base/logging.h"
#include "core/executor.h"
#include "core/flight_recorder.h"
#include "cpu/cpu_executor.h"

using tutti::Result;

tuttiComm::tuttiComm() = default;
tuttiComm::~tuttiComm() = default;

Result tuttiComm::fail(Result r) {
  const std::string msg = tutti::lastError();
  if (errors.setFatal(r, msg)) {
    TUTTI_WARN("rank %d: communicator failed: %s", config.rank, msg.c_str());
    // Tell every peer now: shm peers see the failure flag, socket peers a closed stream,
    // kernels and the proxy their abort word.
    transports.markFailed();
    if (bootstrap) bootstrap->shutdown();
    if (executors.device) executors.device->abort();
    // A dump that cannot be written is a warning; the caller's sentence stays the failure's.
    if (flight && flight->dump("", msg) != tuttiSuccess) {
      TUTTI_WARN("rank %d: %s", config.rank, tutti::lastError().c_str());
      tutti::setError(r, "%s", msg.c_str());
    }
  }
  return r;
}

void tuttiComm::recordError() { errors.remember(tutti::lastError()); }

Result tuttiComm::checkUsable() const {
  int e = errors.asyncError.load();
  if (e == tuttiSuccess) return tuttiSuccess;
  if (e == tuttiInProgress)
    return tutti::setError(tuttiInvalidUsage,
                           "communicator is still initializing: poll tuttiCommGetAsyncError "
                           "until it returns tuttiSuccess");
  if (errors.abortFlag.load()) return tutti::setError(tuttiAborted, "communicator was aborted");
  return tutti::setError(static_cast<Result>(e),
                         "communicator is unusable after an earlier error (%s)",
                         tuttiGetErrorString(static_cast<tuttiResult_t>(e)));
}

int tuttiComm::nodeRanks() const {
  int n = 0;
  for (const auto& p : peers) n += p.hostHash == peers[config.rank].hostHash;
  return n;
}

namespace tutti {

Result Executor::launchOne(tuttiComm* comm, CollCall&& call) {
  std::vector<CommCalls> one(1);
  one[0].comm = comm;
  one[0].calls.push_back(std::move(call));
  return launch(one);
}

Executor* CommExecutors::forCall(const CollCall& call) const {
  if (call.onDevice) return device.get();
  return cpu.get();
}

}  // namespace tutti
