// NCCL entry points for a communicator's life after creation: finalize, destroy, abort,
// revoke, the asynchronous error and the identity queries.
#include "base/logging.h"
#include "shim/env_map.h"
#include "shim/shim_comm.h"
#include "shim/shim_error.h"
#include "shim/shim_group.h"

using namespace tutti::shim;

namespace {

// Destroy and abort: the handle is refused from now on; pending grouped work on it is
// dropped; Tutti frees the communicator (abort first stops every wait and kernel).
ncclResult_t release(ncclComm_t comm, const char* fn, bool abort) {
  if (!comm) return ncclSuccess;  // NCCL accepts NULL here
  CommRef c;
  ncclResult_t r = acquireComm(comm, fn, &c);
  if (r != ncclSuccess) return r;
  if (c->closed.exchange(true))
    return fail(ncclInvalidArgument, "%s: the communicator is already being released", fn);
  unregisterComm(comm);
  dropPendingCalls(c.get());
  tuttiComm_t t = c->tutti.exchange(nullptr);
  if (!t) return ncclSuccess;  // a grouped creation that never ran: nothing was made
  tuttiResult_t tr = abort ? tuttiCommAbort(t) : tuttiCommDestroy(t);
  return failFromTutti(tr, fn);
}

ncclResult_t requireCreated(const CommRef& c, const char* fn) {
  if (c->commState() == CommState::kReady) return ncclSuccess;
  return fail(ncclInvalidUsage, "%s: the communicator %s", fn,
              c->commState() == CommState::kPending
                  ? "is created by the enclosing group: call ncclGroupEnd first"
                  : "could not be created (see ncclCommGetAsyncError)");
}

}  // namespace

NCCL_SHIM_API ncclResult_t ncclCommFinalize(ncclComm_t comm) {
  applyNcclEnvironment();
  return guarded("ncclCommFinalize", [&] {
    const char* fn = "ncclCommFinalize";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r == ncclSuccess) r = requireCreated(c, fn);
    if (r != ncclSuccess) return r;
    if (c->revoked.load())
      return fail(ncclInvalidUsage,
                  "%s: a revoked communicator cannot be finalized; destroy "
                  "or abort it",
                  fn);
    auto finalize = [c, fn]() -> TaskResult {
      tuttiResult_t tr = tuttiCommFinalize(c->tutti.load());
      if (tr == tuttiSuccess) return {};
      TaskResult out{failFromTutti(tr, fn), threadLastError()};
      recordCommError(c.get());
      return out;
    };
    // Finalize waits for the other ranks: grouped, several of this thread's ranks finalize
    // together at ncclGroupEnd.
    if (inGroup()) {
      deferCreation(finalize);
      return ncclSuccess;
    }
    return finalize().code;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommFinalize);

NCCL_SHIM_API ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  applyNcclEnvironment();
  return guarded("ncclCommDestroy", [&] { return release(comm, "ncclCommDestroy", false); });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommDestroy);

NCCL_SHIM_API ncclResult_t ncclCommAbort(ncclComm_t comm) {
  applyNcclEnvironment();
  return guarded("ncclCommAbort", [&] { return release(comm, "ncclCommAbort", true); });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommAbort);

NCCL_SHIM_API ncclResult_t ncclCommRevoke(ncclComm_t comm, int revokeFlags) {
  applyNcclEnvironment();
  return guarded("ncclCommRevoke", [&] {
    const char* fn = "ncclCommRevoke";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r == ncclSuccess) r = requireCreated(c, fn);
    if (r != ncclSuccess) return r;
    if (revokeFlags != NCCL_REVOKE_DEFAULT)
      return fail(ncclInvalidArgument, "%s: revokeFlags is 0x%x; it must be NCCL_REVOKE_DEFAULT",
                  fn, revokeFlags);
    // New work is refused and this thread's grouped work on it is dropped. Tutti's host
    // collectives are complete when their call returns, so nothing of this thread is in
    // flight; device work already enqueued runs to completion (or to Tutti's timeout).
    c->revoked.store(true);
    dropPendingCalls(c.get());
    TUTTI_INFO("shim: communicator %p revoked (rank %d of %d)", static_cast<void*>(comm), c->rank,
               c->nranks);
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommRevoke);

NCCL_SHIM_API ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* asyncError) {
  applyNcclEnvironment();
  return guarded("ncclCommGetAsyncError", [&] {
    const char* fn = "ncclCommGetAsyncError";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r != ncclSuccess) return r;
    if (!asyncError) return fail(ncclInvalidArgument, "%s: asyncError is NULL", fn);
    switch (c->commState()) {
      case CommState::kPending: *asyncError = ncclInProgress; return ncclSuccess;
      case CommState::kFailed: {
        std::lock_guard<std::mutex> lock(c->mutex);
        *asyncError = c->creationError;
        return ncclSuccess;
      }
      case CommState::kReady: break;
    }
    tuttiResult_t state = tuttiSuccess;
    tuttiResult_t q = tuttiCommGetAsyncError(c->tutti.load(), &state);
    if (q != tuttiSuccess) return failFromTutti(q, fn);
    *asyncError = toNcclResult(state);
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommGetAsyncError);

NCCL_SHIM_API ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) {
  applyNcclEnvironment();
  return guarded("ncclCommCount", [&] {
    CommRef c;
    ncclResult_t r = acquireComm(comm, "ncclCommCount", &c);
    if (r == ncclSuccess) r = requireCreated(c, "ncclCommCount");
    if (r != ncclSuccess) return r;
    if (!count) return fail(ncclInvalidArgument, "ncclCommCount: count is NULL");
    *count = c->nranks;
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommCount);

NCCL_SHIM_API ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) {
  applyNcclEnvironment();
  return guarded("ncclCommUserRank", [&] {
    CommRef c;
    ncclResult_t r = acquireComm(comm, "ncclCommUserRank", &c);
    if (r == ncclSuccess) r = requireCreated(c, "ncclCommUserRank");
    if (r != ncclSuccess) return r;
    if (!rank) return fail(ncclInvalidArgument, "ncclCommUserRank: rank is NULL");
    *rank = c->rank;
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommUserRank);

NCCL_SHIM_API ncclResult_t ncclCommCuDevice(const ncclComm_t comm, int* device) {
  applyNcclEnvironment();
  return guarded("ncclCommCuDevice", [&] {
    CommRef c;
    ncclResult_t r = acquireComm(comm, "ncclCommCuDevice", &c);
    if (r == ncclSuccess) r = requireCreated(c, "ncclCommCuDevice");
    if (r != ncclSuccess) return r;
    if (!device) return fail(ncclInvalidArgument, "ncclCommCuDevice: device is NULL");
    // -1 for a host-only rank (a Tutti communicator without a GPU).
    return failFromTutti(tuttiCommCuDevice(c->tutti.load(), device), "ncclCommCuDevice");
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommCuDevice);
