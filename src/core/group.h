// Group calls: operations between tuttiGroupStart and tuttiGroupEnd are collected per thread
// and launched together; outside a group each call is a group of one.
#pragma once

#include "core/coll_call.h"
#include "core/comm.h"

namespace tutti {

// Numbers `call` (a collective gets the communicator's next call sequence number; point-to-point
// calls are pairwise and get none) and records it in the flight recorder. submitCall does it:
// every path into the executors (the API, the shim, compressed collectives) numbers alike.
void noteCall(Comm* comm, CollCall& call);
Result submitCall(Comm* comm, CollCall&& call);
Result groupStart();
Result groupEnd();
// Remembers a failed call inside a group: GroupEnd then drops the group and reports it.
void groupRecordError(Result r);
bool inGroup();

}  // namespace tutti
