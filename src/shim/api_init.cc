// NCCL entry points: version, unique ids and communicator creation (InitRank, InitRankConfig,
// InitRankScalable, InitAll), blocking, non-blocking and grouped.
#include <cstring>
#include <vector>

#include "base/logging.h"
#include "shim/config_map.h"
#include "shim/env_map.h"
#include "shim/shim_comm.h"
#include "shim/shim_error.h"
#include "shim/shim_group.h"

using namespace tutti::shim;

namespace {

ncclResult_t initRank(const char* fn, ncclComm_t* out, int nranks, const ncclUniqueId& id, int rank,
                      const ncclConfig_t* config) {
  if (!out) return fail(ncclInvalidArgument, "%s: comm (the output pointer) is NULL", fn);
  *out = nullptr;
  if (nranks < 1) return fail(ncclInvalidArgument, "%s: nranks %d must be at least 1", fn, nranks);
  if (rank < 0 || rank >= nranks)
    return fail(ncclInvalidArgument, "%s: rank %d is out of range 0..%d", fn, rank, nranks - 1);
  ResolvedConfig rc;
  ncclResult_t r = readConfig(config, nullptr, fn, &rc);
  if (r != ncclSuccess) return r;
  tuttiConfig_t tc = rc.get();
  // Inside a group every init runs concurrently (one thread may create several ranks):
  // Tutti's non-blocking init does that, and ncclGroupEnd waits for the blocking callers.
  const bool grouped = inGroup();
  tc.blocking = grouped || !rc.blocking ? 0 : 1;
  tuttiUniqueId tid;
  memcpy(&tid, &id, sizeof(tid));
  tuttiComm_t t = nullptr;
  tuttiResult_t tr = tuttiCommInitRankConfig(&t, nranks, tid, rank, &tc);
  if (tr != tuttiSuccess && tr != tuttiInProgress) {
    r = failFromTutti(tr, fn);
    recordGroupError(r);
    return r;
  }
  CommRef c = newComm(rank, nranks, rc.blocking, rc.tutti);
  c->tutti.store(t);
  *out = registerComm(c);
  if (grouped) {
    deferInitWait(c);
    return ncclSuccess;
  }
  return tr == tuttiInProgress ? ncclInProgress : ncclSuccess;
}

}  // namespace

NCCL_SHIM_API ncclResult_t ncclGetVersion(int* version) {
  applyNcclEnvironment();
  // The shim implements every entry point of the 2.28.9 header it was built against (those
  // it cannot serve fail cleanly), so it reports that version: see docs/nccl-compat.md.
  if (!version) return fail(ncclInvalidArgument, "ncclGetVersion: version is NULL");
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}
NCCL_SHIM_PROFILING_ALIAS(ncclGetVersion);

NCCL_SHIM_API ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId) {
  applyNcclEnvironment();
  return guarded("ncclGetUniqueId", [&] {
    if (!uniqueId) return fail(ncclInvalidArgument, "ncclGetUniqueId: uniqueId is NULL");
    tuttiUniqueId tid;
    tuttiResult_t r = tuttiGetUniqueId(&tid);
    if (r != tuttiSuccess) return failFromTutti(r, "ncclGetUniqueId");
    memcpy(uniqueId, &tid, sizeof(*uniqueId));
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclGetUniqueId);

NCCL_SHIM_API ncclResult_t ncclCommInitRankConfig(ncclComm_t* comm, int nranks, ncclUniqueId commId,
                                                  int rank, ncclConfig_t* config) {
  applyNcclEnvironment();
  return guarded("ncclCommInitRankConfig", [&] {
    return initRank("ncclCommInitRankConfig", comm, nranks, commId, rank, config);
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommInitRankConfig);

NCCL_SHIM_API ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId,
                                            int rank) {
  applyNcclEnvironment();
  return guarded("ncclCommInitRank",
                 [&] { return initRank("ncclCommInitRank", comm, nranks, commId, rank, nullptr); });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommInitRank);

NCCL_SHIM_API ncclResult_t ncclCommInitRankScalable(ncclComm_t* newcomm, int nranks, int myrank,
                                                    int nId, ncclUniqueId* commIds,
                                                    ncclConfig_t* config) {
  applyNcclEnvironment();
  return guarded("ncclCommInitRankScalable", [&] {
    const char* fn = "ncclCommInitRankScalable";
    if (nId < 1) return fail(ncclInvalidArgument, "%s: nId %d must be at least 1", fn, nId);
    if (!commIds) return fail(ncclInvalidArgument, "%s: commIds is NULL", fn);
    // Tutti's bootstrap has one root: every rank rendezvouses through the first id (made by
    // rank 0 under NCCL's convention); the others are accepted and not used.
    if (nId > 1)
      TUTTI_INFO("shim: %s uses the first of %d unique ids (one rendezvous root)", fn, nId);
    return initRank(fn, newcomm, nranks, commIds[0], myrank, config);
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommInitRankScalable);

NCCL_SHIM_API ncclResult_t ncclCommInitAll(ncclComm_t* comm, int ndev, const int* devlist) {
  applyNcclEnvironment();
  return guarded("ncclCommInitAll", [&] {
    const char* fn = "ncclCommInitAll";
    if (!comm) return fail(ncclInvalidArgument, "%s: comm is NULL", fn);
    if (ndev < 1) return fail(ncclInvalidArgument, "%s: ndev %d must be at least 1", fn, ndev);
    std::vector<tuttiComm_t> made(ndev, nullptr);
    tuttiResult_t r = tuttiCommInitAll(made.data(), ndev, devlist);
    if (r != tuttiSuccess) return failFromTutti(r, fn);
    const tuttiConfig_t defaults = TUTTI_CONFIG_INITIALIZER;
    for (int i = 0; i < ndev; ++i) {
      CommRef c = newComm(i, ndev, true, defaults);
      c->tutti.store(made[i]);
      comm[i] = registerComm(c);
    }
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommInitAll);
