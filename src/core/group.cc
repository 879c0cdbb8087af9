// Per-thread group state and the launch of a group's calls on the executors.
#include "core/group.h"

#include <utility>
#include <vector>

#include "core/executor.h"
#include "core/flight_recorder.h"
#include "cpu/cpu_executor.h"

namespace tutti {
namespace {

struct GroupState {
  int depth = 0;
  std::vector<std::pair<Comm*, CollCall>> pending;
  Result error = tuttiSuccess;
  std::string errorMessage;
};
thread_local GroupState tlsGroup;

// Calls are split by executor kind; each communicator keeps its calls in call order, and
// communicators keep their first-use order.
Result launch(std::vector<std::pair<Comm*, CollCall>>& ops) {
  std::vector<CommCalls> byKind[static_cast<int>(ExecutorKind::kCount)];
  for (auto& [comm, call] : ops) {
    Executor* e = comm->executors.forCall(call);
    if (!e)
      return setError(tuttiInvalidUsage, "rank %d has no executor for device buffers",
                      comm->rank());
    const int k = static_cast<int>(e->kind());
    auto& list = byKind[k];
    auto it = list.begin();
    while (it != list.end() && it->comm != comm) ++it;
    if (it == list.end()) it = list.insert(list.end(), CommCalls{comm, {}});
    it->calls.push_back(std::move(call));
  }
  // Device work is only enqueued, so it goes first and overlaps the host work. Each device
  // executor belongs to one communicator.
  for (int k = 0; k < static_cast<int>(ExecutorKind::kCount); ++k) {
    if (byKind[k].empty() || k == static_cast<int>(ExecutorKind::kCpu)) continue;
    for (CommCalls& w : byKind[k]) {
      std::vector<CommCalls> one(1);
      one[0] = std::move(w);
      TUTTI_CHECK(one[0].comm->executors.device->launch(one), "rank %d", one[0].comm->rank());
    }
  }
  auto& host = byKind[static_cast<int>(ExecutorKind::kCpu)];
  if (!host.empty()) return host[0].comm->executors.cpu->launch(host);
  return tuttiSuccess;
}

}  // namespace

bool inGroup() { return tlsGroup.depth > 0; }

void noteCall(Comm* comm, CollCall& call) {
  if (call.collective != Collective::kSend && call.collective != Collective::kRecv)
    call.seq = comm->callSeq++;
  if (comm->flight) call.flightId = comm->flight->enqueue(call, !call.onDevice && !inGroup());
}

Result submitCall(Comm* comm, CollCall&& call) {
  noteCall(comm, call);
  if (tlsGroup.depth > 0) {
    tlsGroup.pending.emplace_back(comm, std::move(call));
    return tuttiSuccess;
  }
  const uint64_t flightId = call.flightId;
  const bool host = !call.onDevice;
  Result r;
  if (!call.onDevice) {
    r = comm->executors.cpu->launchOne(comm, std::move(call));
  } else if (!comm->executors.device) {
    r = setError(tuttiInvalidUsage, "rank %d has no executor for device buffers", comm->rank());
  } else {
    r = comm->executors.device->launchOne(comm, std::move(call));
  }
  // A host call is complete here (the executor marked it already: one load); a device call
  // only when it failed to enqueue.
  if (flightId && (host || r != tuttiSuccess)) comm->flight->finished(flightId, r == tuttiSuccess);
  return r;
}

void groupRecordError(Result r) {
  if (tlsGroup.depth > 0 && tlsGroup.error == tuttiSuccess) {
    tlsGroup.error = r;
    tlsGroup.errorMessage = lastError();
  }
}

Result groupStart() {
  ++tlsGroup.depth;
  return tuttiSuccess;
}

Result groupEnd() {
  if (tlsGroup.depth == 0)
    return setError(tuttiInvalidUsage, "tuttiGroupEnd without a matching tuttiGroupStart");
  if (--tlsGroup.depth > 0) return tuttiSuccess;
  std::vector<std::pair<Comm*, CollCall>> ops;
  ops.swap(tlsGroup.pending);
  if (tlsGroup.error != tuttiSuccess) {
    Result r = tlsGroup.error;
    std::string msg = tlsGroup.errorMessage;
    tlsGroup.error = tuttiSuccess;
    return setError(r, "group dropped because a call inside it failed: %s", msg.c_str());
  }
  std::vector<std::pair<FlightRecorder*, uint64_t>> hostCalls;
  for (auto& [comm, call] : ops)
    if (call.flightId && !call.onDevice) hostCalls.emplace_back(comm->flight.get(), call.flightId);
  Result r = launch(ops);
  for (auto& [flight, id] : hostCalls) flight->finished(id, r == tuttiSuccess);
  return r;
}

}  // namespace tutti
