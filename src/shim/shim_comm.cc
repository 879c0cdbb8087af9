// The communicator registry and the checks every entry point runs on a handle.
#include "shim/shim_comm.h"

#include <unordered_map>

#include "shim/shim_error.h"

namespace tutti::shim {
namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<const ncclComm*, CommRef> live;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: handles may be used during exit
  return *r;
}

}  // namespace

ncclComm_t registerComm(const CommRef& comm) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.live[comm.get()] = comm;
  return comm.get();
}

CommRef lookupComm(ncclComm_t handle) {
  if (!handle) return nullptr;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.live.find(handle);
  return it == r.live.end() ? nullptr : it->second;
}

void unregisterComm(ncclComm_t handle) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.live.erase(handle);
}

ncclResult_t acquireComm(ncclComm_t handle, const char* fn, CommRef* out) {
  if (!handle) return fail(ncclInvalidArgument, "%s: comm is NULL", fn);
  *out = lookupComm(handle);
  if (!*out || (*out)->closed.load())
    return fail(ncclInvalidArgument,
                "%s: comm %p is not a live communicator of this library (destroyed, aborted, "
                "or never created by it)",
                fn, static_cast<void*>(handle));
  return ncclSuccess;
}

ncclResult_t acquireReadyComm(ncclComm_t handle, const char* fn, CommRef* out, bool allowRevoked) {
  ncclResult_t r = acquireComm(handle, fn, out);
  if (r != ncclSuccess) return r;
  ncclComm* c = out->get();
  switch (c->commState()) {
    case CommState::kPending:
      return fail(ncclInvalidUsage,
                  "%s: the communicator is created by the enclosing group: call ncclGroupEnd "
                  "before using it",
                  fn);
    case CommState::kFailed: {
      std::lock_guard<std::mutex> lock(c->mutex);
      return fail(c->creationError, "%s: the communicator could not be created: %s", fn,
                  c->lastError.c_str());
    }
    case CommState::kReady: break;
  }
  if (!allowRevoked && c->revoked.load())
    return fail(ncclInvalidUsage,
                "%s: the communicator was revoked (ncclCommRevoke): only ncclCommSplit, "
                "ncclCommShrink, ncclCommDestroy and ncclCommAbort may follow",
                fn);
  tuttiResult_t async = tuttiSuccess;
  tuttiComm_t t = c->tutti.load();
  tuttiResult_t q = tuttiCommGetAsyncError(t, &async);
  if (q != tuttiSuccess) return failFromTutti(q, fn);
  if (async == tuttiInProgress)
    return fail(ncclInvalidUsage,
                "%s: the non-blocking communicator is still initializing: poll "
                "ncclCommGetAsyncError until it returns ncclSuccess",
                fn);
  if (async != tuttiSuccess)
    return fail(toNcclResult(async), "%s: the communicator failed earlier: %s", fn,
                tuttiGetLastError(t));
  return ncclSuccess;
}

void recordCommError(ncclComm* comm) {
  if (!comm) return;
  std::lock_guard<std::mutex> lock(comm->mutex);
  comm->lastError = threadLastError();
}

CommRef newComm(int rank, int nranks, bool blocking, const tuttiConfig_t& inherited) {
  auto c = std::make_shared<ncclComm>();
  c->rank = rank;
  c->nranks = nranks;
  c->blocking = blocking;
  c->inherited = inherited;
  c->inherited.commName = nullptr;
  return c;
}

}  // namespace tutti::shim
