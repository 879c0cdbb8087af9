// Communicator error state shared by every layer.
#include "core/comm.h"

#include "base/logging.h"

using tutti::Result;

Result tuttiComm::fail(Result r) {
  int expected = tuttiSuccess;
  std::string msg = tutti::lastError();
  if (asyncError.compare_exchange_strong(expected, r)) {
    {
      std::lock_guard<std::mutex> lock(errorMutex);
      lastError = msg;
    }
    TUTTI_WARN("rank %d: communicator failed: %s", rank, msg.c_str());
    // Tell every peer now: shm peers see the failure flag, socket peers a closed stream.
    transports.markFailed();
    if (bootstrap) bootstrap->shutdown();
  }
  return r;
}

void tuttiComm::recordError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  lastError = tutti::lastError();
}

Result tuttiComm::checkUsable() const {
  int e = asyncError.load();
  if (e == tuttiSuccess) return tuttiSuccess;
  if (e == tuttiInProgress)
    return tutti::setError(tuttiInvalidUsage,
                           "communicator is still initializing: poll tuttiCommGetAsyncError "
                           "until it returns tuttiSuccess");
  if (abortFlag.load()) return tutti::setError(tuttiAborted, "communicator was aborted");
  return tutti::setError(static_cast<Result>(e),
                         "communicator is unusable after an earlier error (%s)",
                         tuttiGetErrorString(static_cast<tuttiResult_t>(e)));
}

int tuttiComm::nodeRanks() const {
  int n = 0;
  for (const auto& p : peers) n += p.hostHash == peers[rank].hostHash;
  return n;
}
