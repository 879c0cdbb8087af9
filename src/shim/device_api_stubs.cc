// Host functions of NCCL 2.28's device API (nccl_device/*.h). Tutti does not implement the
// device API; these are exported so that binaries linked against NVIDIA's library (PyTorch
// 2.11 imports ncclDevCommCreate/Destroy) load and get ncclInvalidUsage instead of a
// "symbol lookup error" that would kill the process. Team queries answer from the host view.
#include <nccl.h>
#include <nccl_device/core.h>
#include <nccl_device/gin_barrier.h>
#include <nccl_device/ll_a2a.h>
#include <nccl_device/lsa_barrier.h>

#include "shim/env_map.h"
#include "shim/shim_comm.h"
#include "shim/shim_error.h"

using namespace tutti::shim;

namespace {

ncclResult_t unsupported(const char* fn) {
  applyNcclEnvironment();
  return fail(ncclInvalidUsage,
              "%s: NCCL's device API (nccl_device.h) is not supported by Tutti's libnccl.so.2", fn);
}

// This rank's place in the communicator, or an empty team for an unusable handle.
ncclTeam_t worldOf(ncclComm_t comm) {
  ncclTeam_t t{0, 0, 1};
  if (CommRef c = lookupComm(comm)) {
    if (c->commState() == CommState::kReady) t = ncclTeam_t{c->nranks, c->rank, 1};
  }
  return t;
}

}  // namespace

NCCL_SHIM_API ncclResult_t ncclDevCommCreate(ncclComm_t, ncclDevCommRequirements_t const*,
                                             ncclDevComm_t*) {
  return unsupported("ncclDevCommCreate");
}
NCCL_SHIM_PROFILING_ALIAS(ncclDevCommCreate);

NCCL_SHIM_API ncclResult_t ncclDevCommDestroy(ncclComm_t, ncclDevComm_t const*) {
  return unsupported("ncclDevCommDestroy");
}
NCCL_SHIM_PROFILING_ALIAS(ncclDevCommDestroy);

NCCL_SHIM_API ncclResult_t ncclLsaBarrierCreateRequirement(ncclTeam_t, int, ncclLsaBarrierHandle_t*,
                                                           ncclDevResourceRequirements_t*) {
  return unsupported("ncclLsaBarrierCreateRequirement");
}
NCCL_SHIM_PROFILING_ALIAS(ncclLsaBarrierCreateRequirement);

NCCL_SHIM_API ncclResult_t ncclGinBarrierCreateRequirement(ncclComm_t, ncclTeam_t, int,
                                                           ncclGinBarrierHandle_t*,
                                                           ncclDevResourceRequirements_t*) {
  return unsupported("ncclGinBarrierCreateRequirement");
}
NCCL_SHIM_PROFILING_ALIAS(ncclGinBarrierCreateRequirement);

NCCL_SHIM_API ncclResult_t ncclLLA2ACreateRequirement(int, int, ncclLLA2AHandle_t*,
                                                      ncclDevResourceRequirements_t*) {
  return unsupported("ncclLLA2ACreateRequirement");
}
NCCL_SHIM_PROFILING_ALIAS(ncclLLA2ACreateRequirement);

// No LL all-to-all slots exist without the device API.
NCCL_SHIM_API int ncclLLA2ACalcSlots(int, int) { return 0; }
NCCL_SHIM_PROFILING_ALIAS(ncclLLA2ACalcSlots);

NCCL_SHIM_API ncclTeam_t ncclTeamWorld(ncclComm_t comm) { return worldOf(comm); }
// The team functions are overloaded in C++ (device-side inline twins), so their aliases
// spell the host signature out.
NCCL_SHIM_API ncclTeam_t pncclTeamWorld(ncclComm_t) __attribute__((alias("ncclTeamWorld")));

// Load/store-accessible peers are only exposed through windows, which Tutti does not make:
// the LSA team is this rank alone, and the rail team (the LSA team's outer factor) is world.
NCCL_SHIM_API ncclTeam_t ncclTeamLsa(ncclComm_t) { return ncclTeam_t{1, 0, 1}; }
NCCL_SHIM_API ncclTeam_t pncclTeamLsa(ncclComm_t) __attribute__((alias("ncclTeamLsa")));

NCCL_SHIM_API ncclTeam_t ncclTeamRail(ncclComm_t comm) { return worldOf(comm); }
NCCL_SHIM_API ncclTeam_t pncclTeamRail(ncclComm_t) __attribute__((alias("ncclTeamRail")));

NCCL_SHIM_API int ncclTeamRankToWorld(ncclComm_t comm, ncclTeam_t team, int rank) {
  return worldOf(comm).rank + (rank - team.rank) * team.stride;
}
NCCL_SHIM_API int pncclTeamRankToWorld(ncclComm_t, ncclTeam_t, int)
    __attribute__((alias("ncclTeamRankToWorld")));

NCCL_SHIM_API int ncclTeamRankToLsa(ncclComm_t comm, ncclTeam_t team, int rank) {
  // Only this rank is in its LSA team: index 0 for itself, -1 for anyone else.
  return ncclTeamRankToWorld(comm, team, rank) == worldOf(comm).rank ? 0 : -1;
}
NCCL_SHIM_API int pncclTeamRankToLsa(ncclComm_t, ncclTeam_t, int)
    __attribute__((alias("ncclTeamRankToLsa")));
