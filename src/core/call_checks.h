// Argument checks of every collective and point-to-point call, done before any user memory is
// touched: the one copy of the rules the C API and the NCCL shim both go through.
#pragma once

#include "core/coll_call.h"
#include "core/comm.h"

namespace tutti {

// Checks `call` against `comm` (usable communicator, dtype, op, counts, buffers, root or peer,
// host or device memory) and completes it: PreMulSum scalar copied, onDevice decided, buffers
// that a rank never reads or writes cleared. tuttiInvalidArgument names the bad argument.
Result checkCall(Comm* comm, CollCall& call);

// checkCall, then the call goes to its group or executor; a failure inside a group is recorded
// so that tuttiGroupEnd drops the group. Calls with nothing to move succeed without launching.
Result checkAndSubmit(Comm* comm, CollCall&& call);

}  // namespace tutti
