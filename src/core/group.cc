// Per-thread group state and the launch of a group's calls on the executors.
#include "core/group.h"

#include <map>
#include <utility>
#include <vector>

#include "core/gpu_hooks.h"
#include "core/host_launch.h"

namespace tutti {
namespace {

struct GroupState {
  int depth = 0;
  std::vector<std::pair<Comm*, CollCall>> pending;
  Result error = tuttiSuccess;
  std::string errorMessage;
};
thread_local GroupState tlsGroup;

Result launch(std::vector<std::pair<Comm*, CollCall>>& ops) {
  // Keep each communicator's calls in call order; communicators in first-use order.
  std::vector<std::pair<Comm*, std::vector<CollCall>>> host, device;
  auto slot = [](std::vector<std::pair<Comm*, std::vector<CollCall>>>& v,
                 Comm* c) -> std::vector<CollCall>& {
    for (auto& e : v)
      if (e.first == c) return e.second;
    v.push_back({c, {}});
    return v.back().second;
  };
  for (auto& [comm, call] : ops) {
    bool dev = call.onDevice;
    slot(dev ? device : host, comm).push_back(std::move(call));
  }
  // Device work is only enqueued, so it goes first and overlaps the host work.
  for (auto& [comm, calls] : device)
    TUTTI_CHECK(gpuEnqueue(comm, calls.data(), calls.size()), "rank %d", comm->rank);
  if (!host.empty()) return runHostCalls(host);
  return tuttiSuccess;
}

}  // namespace

bool inGroup() { return tlsGroup.depth > 0; }

Result submitCall(Comm* comm, CollCall&& call) {
  if (tlsGroup.depth > 0) {
    tlsGroup.pending.emplace_back(comm, std::move(call));
    return tuttiSuccess;
  }
  if (!call.onDevice) return runHostCall(comm, call);  // the latency-critical path
  std::vector<std::pair<Comm*, CollCall>> one;
  one.emplace_back(comm, std::move(call));
  return launch(one);
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
  return launch(ops);
}

}  // namespace tutti
