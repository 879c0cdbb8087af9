// Per-thread group state of the shim and the launch at the outermost ncclGroupEnd.
#include "shim/shim_group.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

#include "shim/shim_error.h"

namespace tutti::shim {
namespace {

struct GroupState {
  int depth = 0;
  std::vector<ShimCall> calls;
  std::vector<CreationTask> creations;
  std::vector<CommRef> initWaits;
  ncclResult_t error = ncclSuccess;
  std::string errorMessage;
};
thread_local GroupState tlsGroup;

constexpr unsigned kSimInfoMagic = 0x74685283;  // NCCL_SIM_INFO_INITIALIZER's magic

// Runs every task, concurrently when there are several (each may wait for the others' ranks).
TaskResult runCreations(std::vector<CreationTask>& tasks) {
  std::vector<TaskResult> results(tasks.size());
  if (tasks.size() == 1) {
    results[0] = tasks[0]();
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < tasks.size(); ++i)
      threads.emplace_back([&, i] { results[i] = tasks[i](); });
    for (auto& t : threads) t.join();
  }
  for (const TaskResult& r : results)
    if (r.code != ncclSuccess) return r;
  return {};
}

// Waits (sleeping, never spinning) until a Tutti non-blocking init leaves tuttiInProgress.
// Tutti's own timeout bounds the wait.
TaskResult waitInit(const CommRef& comm) {
  auto sleep = std::chrono::microseconds(200);
  for (;;) {
    tuttiResult_t state = tuttiSuccess;
    tuttiComm_t t = comm->tutti.load();
    tuttiResult_t q = tuttiCommGetAsyncError(t, &state);
    if (q != tuttiSuccess) state = q;
    if (state == tuttiSuccess) return {};
    if (state != tuttiInProgress) {
      const char* why = tuttiGetLastError(t);
      TaskResult r{toNcclResult(state), std::string("ncclCommInitRank (grouped): ") + why};
      std::lock_guard<std::mutex> lock(comm->mutex);
      comm->lastError = r.message;
      return r;
    }
    std::this_thread::sleep_for(sleep);
    sleep = std::min(sleep * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace

bool inGroup() { return tlsGroup.depth > 0; }

void groupStart() { ++tlsGroup.depth; }

ncclResult_t groupEnd(const char* fn, ncclSimInfo_t* sim) {
  GroupState& g = tlsGroup;
  if (g.depth == 0)
    return fail(ncclInvalidUsage, "%s: no group is open (ncclGroupStart was not called)", fn);
  if (sim) {
    // A bad simInfo changes nothing: the group stays open for a correct call.
    if (sim->magic != kSimInfoMagic || sim->size < sizeof(ncclSimInfo_t))
      return fail(ncclInvalidArgument,
                  "%s: simInfo was not initialised with NCCL_SIM_INFO_INITIALIZER", fn);
    sim->estimatedTime = estimateMicroseconds(g.calls);
  }
  if (--g.depth > 0) return ncclSuccess;

  GroupState work;
  std::swap(work, g);  // the group is closed from here on, whatever happens
  TaskResult created = runCreations(work.creations);
  bool stillInitializing = false;
  for (const CommRef& c : work.initWaits) {
    if (!c->blocking) {
      tuttiResult_t state = tuttiSuccess;
      tuttiCommGetAsyncError(c->tutti.load(), &state);
      stillInitializing |= state == tuttiInProgress;
      continue;
    }
    TaskResult r = waitInit(c);
    if (created.code == ncclSuccess && r.code != ncclSuccess) created = r;
  }
  if (created.code != ncclSuccess) return fail(created.code, "%s: %s", fn, created.message.c_str());
  if (work.error != ncclSuccess)
    return fail(work.error, "%s: the group was dropped because a call inside it failed: %s", fn,
                work.errorMessage.c_str());
  if (sim || work.calls.empty()) return stillInitializing ? ncclInProgress : ncclSuccess;
  ncclResult_t r = launchCalls(work.calls, true, fn);
  if (r != ncclSuccess) {
    for (ShimCall& c : work.calls) recordCommError(c.comm.get());
    return r;
  }
  return stillInitializing ? ncclInProgress : ncclSuccess;
}

ncclResult_t submitCall(ShimCall&& call, const char* fn) {
  ncclResult_t r = prepareCall(&call, fn);
  if (r != ncclSuccess) {
    recordCommError(call.comm.get());
    recordGroupError(r);
    return r;
  }
  if (call.count == 0) return ncclSuccess;  // nothing moves; every rank skips alike
  if (inGroup()) {
    tlsGroup.calls.push_back(std::move(call));
    return ncclSuccess;
  }
  std::vector<ShimCall> one;
  one.push_back(std::move(call));
  r = launchCalls(one, false, fn);
  if (r != ncclSuccess) recordCommError(one[0].comm.get());
  return r;
}

void deferCreation(CreationTask task) { tlsGroup.creations.push_back(std::move(task)); }

void deferInitWait(const CommRef& comm) { tlsGroup.initWaits.push_back(comm); }

void recordGroupError(ncclResult_t code) {
  if (tlsGroup.depth > 0 && tlsGroup.error == ncclSuccess) {
    tlsGroup.error = code;
    tlsGroup.errorMessage = threadLastError();
  }
}

void dropPendingCalls(const ncclComm* comm) {
  auto& calls = tlsGroup.calls;
  calls.erase(std::remove_if(calls.begin(), calls.end(),
                             [&](const ShimCall& c) { return c.comm.get() == comm; }),
              calls.end());
}

}  // namespace tutti::shim
