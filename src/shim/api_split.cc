// NCCL entry points that derive a communicator from another: ncclCommSplit (Tutti's split)
// and ncclCommShrink (the survivors build a new communicator among themselves, with a unique
// id passed over the parent's point-to-point connections). Inside a group both run at
// ncclGroupEnd, concurrently with the group's other creations.
#include <algorithm>
#include <cstring>
#include <vector>

#include "bootstrap/unique_id.h"
#include "shim/config_map.h"
#include "shim/env_map.h"
#include "shim/shim_comm.h"
#include "shim/shim_error.h"
#include "shim/shim_group.h"

using namespace tutti::shim;

namespace {

TaskResult taskFailure(ncclResult_t code, const CommRef& child) {
  TaskResult r{code, threadLastError()};
  if (child) {
    std::lock_guard<std::mutex> lock(child->mutex);
    child->creationError = code;
    child->lastError = r.message;
    child->state.store(static_cast<int>(CommState::kFailed));
  }
  return r;
}

// Publishes a created Tutti communicator in `child` (or frees it if the caller already
// destroyed the pending handle).
TaskResult publish(const CommRef& child, tuttiComm_t t, int rank, int nranks) {
  if (child->closed.load()) {
    tuttiCommDestroy(t);
    return {};
  }
  child->rank = rank;
  child->nranks = nranks;
  child->tutti.store(t);
  child->state.store(static_cast<int>(CommState::kReady));
  return {};
}

// `child` is null for NCCL_SPLIT_NOCOLOR: the rank still takes part in the split.
TaskResult split(const CommRef& parent, int color, int key, const ResolvedConfig& rc,
                 const CommRef& child) {
  const char* fn = "ncclCommSplit";
  tuttiConfig_t tc = rc.get();
  tuttiComm_t t = nullptr;
  tuttiResult_t r = tuttiCommSplit(parent->tutti.load(), color, key, &t, &tc);
  if (r != tuttiSuccess) return taskFailure(failFromTutti(r, fn), child);
  if (!child) return {};
  int rank = 0, nranks = 0;
  tuttiCommUserRank(t, &rank);
  tuttiCommCount(t, &nranks);
  return publish(child, t, rank, nranks);
}

// What the first survivor sends every other survivor: the new communicator's id, or the
// news that it could not make one (so nobody waits for an id that will never come).
struct ShrinkMessage {
  uint32_t ok;
  tuttiUniqueId id;
};

TaskResult shrink(const CommRef& parent, const std::vector<int>& survivors,
                  const ResolvedConfig& rc, const CommRef& child) {
  const char* fn = "ncclCommShrink";
  tuttiComm_t pt = parent->tutti.load();
  const int me = parent->rank;
  const int newRank =
      static_cast<int>(std::find(survivors.begin(), survivors.end(), me) - survivors.begin());
  const int leader = survivors[0];
  ShrinkMessage msg{};
  tuttiResult_t r = tuttiSuccess;
  if (me == leader) {
    // Not tuttiGetUniqueId: with TUTTI_COMM_ID/NCCL_COMM_ID set it would reuse that fixed
    // address; a derived communicator needs a fresh root, as Tutti's own split makes.
    tuttiResult_t made = tutti::createUniqueId(&msg.id, /*allowEnv=*/false);
    std::string why = made == tuttiSuccess ? "" : tuttiGetLastError(nullptr);
    msg.ok = made == tuttiSuccess;
    r = tuttiGroupStart();
    for (size_t i = 1; i < survivors.size() && r == tuttiSuccess; ++i)
      r = tuttiSend(&msg, sizeof(msg), tuttiUint8, survivors[i], pt, nullptr);
    tuttiResult_t end = tuttiGroupEnd();
    if (r == tuttiSuccess) r = end;
    if (r == tuttiSuccess && !msg.ok)
      return taskFailure(
          fail(toNcclResult(made), "%s: making the new unique id: %s", fn, why.c_str()), child);
  } else {
    r = tuttiRecv(&msg, sizeof(msg), tuttiUint8, leader, pt, nullptr);
    if (r == tuttiSuccess && !msg.ok)
      return taskFailure(fail(ncclRemoteError,
                              "%s: rank %d (the first survivor) could not make "
                              "the new communicator's unique id",
                              fn, leader),
                         child);
  }
  if (r != tuttiSuccess) return taskFailure(failFromTutti(r, fn), child);
  tuttiConfig_t tc = rc.get();
  tc.blocking = rc.blocking ? 1 : 0;
  tuttiComm_t t = nullptr;
  r = tuttiCommInitRankConfig(&t, static_cast<int>(survivors.size()), msg.id, newRank, &tc);
  if (r != tuttiSuccess && r != tuttiInProgress) return taskFailure(failFromTutti(r, fn), child);
  return publish(child, t, newRank, static_cast<int>(survivors.size()));
}

// Runs `task` now, or at ncclGroupEnd inside a group (with *newcomm already a pending handle).
ncclResult_t runOrDefer(CreationTask task, const CommRef& child, ncclComm_t* newcomm) {
  if (child) {
    if (inGroup()) child->state.store(static_cast<int>(CommState::kPending));
    *newcomm = registerComm(child);
  }
  if (inGroup()) {
    deferCreation(std::move(task));
    return ncclSuccess;
  }
  TaskResult r = task();
  if (r.code == ncclSuccess) {
    // A non-blocking child may still be initializing (shrink uses Tutti's non-blocking init).
    tuttiResult_t state = tuttiSuccess;
    if (child && !child->blocking) tuttiCommGetAsyncError(child->tutti.load(), &state);
    return state == tuttiInProgress ? ncclInProgress : ncclSuccess;
  }
  if (child) {
    unregisterComm(child.get());
    *newcomm = nullptr;
  }
  return r.code;  // the sentence is this thread's already
}

}  // namespace

NCCL_SHIM_API ncclResult_t ncclCommSplit(ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
                                         ncclConfig_t* config) {
  applyNcclEnvironment();
  return guarded("ncclCommSplit", [&] {
    const char* fn = "ncclCommSplit";
    CommRef parent;
    // NCCL allows splitting a revoked communicator.
    ncclResult_t r = acquireReadyComm(comm, fn, &parent, /*allowRevoked=*/true);
    if (r != ncclSuccess) return r;
    if (!newcomm) return fail(ncclInvalidArgument, "%s: newcomm is NULL", fn);
    *newcomm = nullptr;
    if (color < 0 && color != NCCL_SPLIT_NOCOLOR)
      return fail(ncclInvalidArgument, "%s: color %d is negative and not NCCL_SPLIT_NOCOLOR", fn,
                  color);
    ResolvedConfig rc;
    r = readConfig(config, &parent->inherited, fn, &rc);
    if (r != ncclSuccess) return r;
    CommRef child;
    if (color != NCCL_SPLIT_NOCOLOR) child = newComm(-1, 0, rc.blocking, rc.tutti);
    return runOrDefer([=] { return split(parent, color, key, rc, child); }, child, newcomm);
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommSplit);

NCCL_SHIM_API ncclResult_t ncclCommShrink(ncclComm_t comm, int* excludeRanksList,
                                          int excludeRanksCount, ncclComm_t* newcomm,
                                          ncclConfig_t* config, int shrinkFlags) {
  applyNcclEnvironment();
  return guarded("ncclCommShrink", [&] {
    const char* fn = "ncclCommShrink";
    CommRef parent;
    ncclResult_t r = acquireComm(comm, fn, &parent);
    if (r != ncclSuccess) return r;
    if (!newcomm) return fail(ncclInvalidArgument, "%s: newcomm is NULL", fn);
    *newcomm = nullptr;
    if (shrinkFlags != NCCL_SHRINK_DEFAULT && shrinkFlags != NCCL_SHRINK_ABORT)
      return fail(ncclInvalidArgument,
                  "%s: shrinkFlags 0x%x is not NCCL_SHRINK_DEFAULT or "
                  "NCCL_SHRINK_ABORT",
                  fn, shrinkFlags);
    if (excludeRanksCount < 0 || (excludeRanksCount > 0 && !excludeRanksList))
      return fail(ncclInvalidArgument,
                  "%s: excludeRanksList is NULL or excludeRanksCount %d is "
                  "negative",
                  fn, excludeRanksCount);
    const int n = parent->nranks;
    std::vector<bool> excluded(n, false);
    for (int i = 0; i < excludeRanksCount; ++i) {
      const int x = excludeRanksList[i];
      if (x < 0 || x >= n)
        return fail(ncclInvalidArgument, "%s: excludeRanksList[%d] = %d is out of range 0..%d", fn,
                    i, x, n - 1);
      if (excluded[x])
        return fail(ncclInvalidArgument, "%s: rank %d is listed twice in excludeRanksList", fn, x);
      excluded[x] = true;
    }
    if (excludeRanksCount >= n) return fail(ncclInvalidArgument, "%s: every rank is excluded", fn);
    // An excluded rank has nothing to join (NCCL does not expect it to call at all).
    if (excluded[parent->rank]) return ncclSuccess;
    // The survivors talk over the parent's connections: they must still work.
    r = acquireReadyComm(comm, fn, &parent, /*allowRevoked=*/true);
    if (r != ncclSuccess)
      return fail(r == ncclInvalidArgument ? r : ncclInvalidUsage,
                  "%s: Tutti builds the shrunk communicator over the parent's connections, "
                  "which are unusable (%s); create a new communicator with ncclGetUniqueId and "
                  "ncclCommInitRank instead",
                  fn, threadLastError().c_str());
    std::vector<int> survivors;
    for (int p = 0; p < n; ++p)
      if (!excluded[p]) survivors.push_back(p);
    ResolvedConfig rc;
    r = readConfig(config, &parent->inherited, fn, &rc);
    if (r != ncclSuccess) return r;
    CommRef child = newComm(-1, 0, rc.blocking, rc.tutti);
    return runOrDefer([=] { return shrink(parent, survivors, rc, child); }, child, newcomm);
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommShrink);
