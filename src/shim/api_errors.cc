// NCCL entry points for error reporting: ncclGetErrorString, ncclGetLastError and the
// deprecated ncclResetDebugInit.
#include <string>

#include "base/logging.h"
#include "shim/env_map.h"
#include "shim/shim_comm.h"
#include "shim/shim_error.h"

using namespace tutti::shim;

namespace {
thread_local std::string tlsLastErrorCopy;
}  // namespace

NCCL_SHIM_API const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled CUDA error (ncclGetLastError() has details)";
    case ncclSystemError: return "system error (ncclGetLastError() has details)";
    case ncclInternalError: return "internal error in Tutti's libnccl.so.2 (please report it)";
    case ncclInvalidArgument: return "invalid argument (ncclGetLastError() names it)";
    case ncclInvalidUsage:
      return "invalid usage, or a feature Tutti does not support "
             "(ncclGetLastError() says which)";
    case ncclRemoteError: return "remote error: a peer failed, left or stopped answering";
    case ncclInProgress: return "operation in progress";
    default: return "unknown result code";
  }
}
NCCL_SHIM_PROFILING_ALIAS(ncclGetErrorString);

// The sentence of this thread's last failure; when this thread has none, the communicator's
// (an asynchronous failure seen by another thread). Like NCCL's, it is not cleared by
// successful calls.
NCCL_SHIM_API const char* ncclGetLastError(ncclComm_t comm) {
  applyNcclEnvironment();
  try {
    tlsLastErrorCopy = threadLastError();
    if (tlsLastErrorCopy.empty() && comm) {
      if (CommRef c = lookupComm(comm)) {
        std::lock_guard<std::mutex> lock(c->mutex);
        tlsLastErrorCopy = c->lastError;
        if (tlsLastErrorCopy.empty() && c->tutti.load())
          tlsLastErrorCopy = tuttiGetLastError(c->tutti.load());
      }
    }
  } catch (...) {
    tlsLastErrorCopy.clear();
  }
  return tlsLastErrorCopy.c_str();
}
NCCL_SHIM_PROFILING_ALIAS(ncclGetLastError);

// Tutti reads TUTTI_DEBUG / NCCL_DEBUG once per process; there is nothing to reload.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
NCCL_SHIM_API void ncclResetDebugInit() {
  applyNcclEnvironment();
  TUTTI_INFO("shim: ncclResetDebugInit has no effect (log settings are read once)");
}
NCCL_SHIM_PROFILING_ALIAS(ncclResetDebugInit);
#pragma GCC diagnostic pop
