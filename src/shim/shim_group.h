// NCCL group semantics on top of Tutti: calls between ncclGroupStart and ncclGroupEnd are
// kept per thread and launched together in one Tutti group; communicator creations inside a
// group (InitRank, Split, Shrink, Finalize) run concurrently at ncclGroupEnd, so that one
// thread can drive several ranks without deadlock.
#pragma once

#include <nccl.h>

#include <functional>
#include <string>

#include "shim/shim_call.h"

namespace tutti::shim {

// The outcome of a deferred creation task (it runs on another thread, so it carries its own
// sentence).
struct TaskResult {
  ncclResult_t code = ncclSuccess;
  std::string message;
};
using CreationTask = std::function<TaskResult()>;

bool inGroup();
void groupStart();
// Ends one level; at the outermost level runs the creations, waits for blocking inits and
// launches the calls. With `sim`, the calls are estimated and dropped instead of launched.
ncclResult_t groupEnd(const char* fn, ncclSimInfo_t* sim);

// Checks `call` now; launches it now outside a group, else keeps it for ncclGroupEnd.
ncclResult_t submitCall(ShimCall&& call, const char* fn);

void deferCreation(CreationTask task);
// A Tutti init started non-blocking inside a group on behalf of a blocking caller:
// ncclGroupEnd waits for it.
void deferInitWait(const CommRef& comm);
// A failed call inside a group: ncclGroupEnd drops the group and reports this error.
void recordGroupError(ncclResult_t code);
// Forgets this thread's pending calls on `comm` (abort, revoke, destroy free pending work).
void dropPendingCalls(const ncclComm* comm);

}  // namespace tutti::shim
