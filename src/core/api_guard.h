// The C API boundary: clears the thread's error on entry, turns failures into a result code
// plus a recorded sentence (thread and communicator), and never lets an exception escape.
#pragma once

#include <exception>
#include <new>

#include "base/logging.h"
#include "core/comm.h"

namespace tutti {

// Counts the call as active on `comm` so that tuttiCommAbort does not free it underneath.
class ActiveCall {
 public:
  explicit ActiveCall(Comm* c) : comm_(c) {
    if (comm_) comm_->errors.activeCalls.fetch_add(1);
  }
  ~ActiveCall() {
    if (comm_) comm_->errors.activeCalls.fetch_sub(1);
  }

 private:
  Comm* comm_;
};

// A handle is usable when it is non-null and carries the communicator magic.
inline Result checkComm(const tuttiComm* comm, const char* arg = "comm") {
  if (!comm) return setError(tuttiInvalidArgument, "%s is NULL", arg);
  if (comm->magic != tuttiComm::kMagic)
    return setError(tuttiInvalidArgument, "%s is not a valid communicator (destroyed?)", arg);
  return tuttiSuccess;
}

template <typename Body>
tuttiResult_t apiCall(const char* fn, Comm* comm, Body&& body) {
  clearError();
  Result r;
  try {
    r = body();
  } catch (const std::bad_alloc&) {
    r = setError(tuttiSystemError, "out of host memory");
  } catch (const std::exception& e) {
    r = setError(tuttiInternalError, "unexpected exception: %s", e.what());
  }
  if (r != tuttiSuccess && r != tuttiInProgress) {
    addErrorContext("%s", fn);
    if (comm && comm->magic == tuttiComm::kMagic) comm->recordError();
    TUTTI_WARN("%s", lastError().c_str());
  }
  return r;
}

}  // namespace tutti
