// Result-code mapping and the thread's last-error sentence of the NCCL shim.
#include "shim/shim_error.h"

#include <cstdarg>
#include <cstdio>

#include "base/logging.h"

namespace tutti::shim {
namespace {

thread_local std::string tlsLastError;

}  // namespace

ncclResult_t toNcclResult(tuttiResult_t r) {
  switch (r) {
    case tuttiSuccess: return ncclSuccess;
    case tuttiInvalidArgument: return ncclInvalidArgument;
    case tuttiInvalidUsage: return ncclInvalidUsage;
    case tuttiSystemError: return ncclSystemError;
    case tuttiInternalError: return ncclInternalError;
    case tuttiCudaError: return ncclUnhandledCudaError;
    case tuttiRemoteError: return ncclRemoteError;
    // A wait that ran out of time is a peer that stopped answering.
    case tuttiTimeout: return ncclRemoteError;
    // The communicator was aborted underneath the call: the operation did not happen.
    case tuttiAborted: return ncclSystemError;
    case tuttiInProgress: return ncclInProgress;
    // NCCL has no "not supported": unsupported requests are invalid usage of this library.
    case tuttiNotSupported: return ncclInvalidUsage;
    default: return ncclInternalError;
  }
}

ncclResult_t fail(ncclResult_t code, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  tlsLastError = buf;
  TUTTI_WARN("%s", buf);
  return code;
}

ncclResult_t failFromTutti(tuttiResult_t r, const char* fn) {
  if (r == tuttiSuccess || r == tuttiInProgress) return toNcclResult(r);
  const char* why = tuttiGetLastError(nullptr);
  tlsLastError = std::string(fn) + ": " + (why && *why ? why : tuttiGetErrorString(r));
  // Tutti logged the failure already; the shim only keeps the sentence.
  return toNcclResult(r);
}

const std::string& threadLastError() { return tlsLastError; }

}  // namespace tutti::shim
