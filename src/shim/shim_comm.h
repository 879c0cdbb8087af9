// struct ncclComm: the handle NCCL callers hold. It wraps a Tutti communicator with what NCCL
// promises beyond Tutti (PreMulSum residence, revoke, registrations, deferred creation) and
// lives in a registry so that stale or foreign handles are refused instead of dereferenced.
#pragma once

#include <nccl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tutti/tutti.h"

namespace tutti::shim {

// A PreMulSum operator as the caller created it: the scalar is either a copied host value or
// a device-visible address read when the collective is launched.
struct PreMulSpec {
  ncclDataType_t dtype = ncclFloat32;
  ncclScalarResidence_t residence = ncclScalarHostImmediate;
  uint64_t value = 0;             // one element of dtype (host-immediate)
  const void* address = nullptr;  // ncclScalarDevice
};

// An ncclCommRegister handle. Registration is a no-op for Tutti (it copies through its own
// staging buffers), so the handle only remembers the range for validation.
struct Registration {
  const void* buff;
  size_t size;
};

enum class CommState : int {
  kReady = 0,    // Tutti communicator exists (possibly still in a non-blocking init)
  kPending = 1,  // created inside a group: materialises at ncclGroupEnd
  kFailed = 2,   // the deferred creation failed; `creationError` says why
};

}  // namespace tutti::shim

struct ncclComm {
  std::atomic<tuttiComm_t> tutti{nullptr};
  std::atomic<int> state{static_cast<int>(tutti::shim::CommState::kReady)};
  std::atomic<bool> closed{false};   // destroyed or aborted: every later call is refused
  std::atomic<bool> revoked{false};  // ncclCommRevoke: no new work
  int rank = 0;
  int nranks = 0;
  bool blocking = true;
  // What a child (split/shrink with config == NULL) inherits; commName is not inherited.
  tuttiConfig_t inherited = TUTTI_CONFIG_INITIALIZER;

  std::mutex mutex;  // guards everything below
  ncclResult_t creationError = ncclSuccess;
  std::vector<tutti::shim::PreMulSpec> ops;  // slot i is op ncclNumOps + i
  std::vector<bool> opLive;
  std::vector<std::unique_ptr<tutti::shim::Registration>> registrations;
  std::string lastError;

  tutti::shim::CommState commState() const {
    return static_cast<tutti::shim::CommState>(state.load());
  }
};

namespace tutti::shim {

using CommRef = std::shared_ptr<ncclComm>;

// Registers a new handle; the registry keeps it alive until unregisterComm.
ncclComm_t registerComm(const CommRef& comm);
// The live communicator behind `handle`, or null for NULL, destroyed or foreign handles.
CommRef lookupComm(ncclComm_t handle);
// Removes `handle`; calls already holding a CommRef finish with it.
void unregisterComm(ncclComm_t handle);

// Looks `handle` up for `fn`; fails with ncclInvalidArgument (NULL, stale or foreign handle).
ncclResult_t acquireComm(ncclComm_t handle, const char* fn, CommRef* out);
// acquireComm plus: created, initialized, not failed, and (unless `allowRevoked`) not
// revoked: usable for new operations.
ncclResult_t acquireReadyComm(ncclComm_t handle, const char* fn, CommRef* out,
                              bool allowRevoked = false);

// Copies this thread's last error sentence into the communicator's.
void recordCommError(ncclComm* comm);

// A new wrapper with the identity known before Tutti finishes creating the communicator.
CommRef newComm(int rank, int nranks, bool blocking, const tuttiConfig_t& inherited);

}  // namespace tutti::shim
