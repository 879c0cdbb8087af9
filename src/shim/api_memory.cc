// NCCL entry points for memory: ncclMemAlloc/Free (cudaMalloc/cudaFree), buffer registration
// (accepted as a no-op: Tutti needs none) and symmetric windows (not supported).
#include <algorithm>

#include "shim/cuda_runtime_access.h"
#include "shim/env_map.h"
#include "shim/shim_comm.h"
#include "shim/shim_error.h"

using namespace tutti::shim;

NCCL_SHIM_API ncclResult_t ncclMemAlloc(void** ptr, size_t size) {
  applyNcclEnvironment();
  return guarded("ncclMemAlloc", [&] {
    const char* fn = "ncclMemAlloc";
    if (!ptr) return fail(ncclInvalidArgument, "%s: ptr is NULL", fn);
    *ptr = nullptr;
    if (size == 0) return fail(ncclInvalidArgument, "%s: size is 0", fn);
    const CudaRuntime& rt = cudaRuntime();
    if (!rt.available) return fail(ncclSystemError, "%s: %s", fn, rt.whyUnavailable.c_str());
    // Plain device memory of the current device: every Tutti path accepts it (NCCL's cuMem
    // granularity and multicast-ready properties are not needed by Tutti).
    cudaError_t e = rt.malloc(ptr, size);
    if (e != cudaSuccess) {
      rt.getLastError();
      *ptr = nullptr;
      return fail(ncclUnhandledCudaError, "%s: cudaMalloc of %zu bytes failed: %s", fn, size,
                  rt.getErrorString(e));
    }
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclMemAlloc);

NCCL_SHIM_API ncclResult_t ncclMemFree(void* ptr) {
  applyNcclEnvironment();
  return guarded("ncclMemFree", [&] {
    if (!ptr) return ncclSuccess;
    const CudaRuntime& rt = cudaRuntime();
    if (!rt.available) return fail(ncclSystemError, "ncclMemFree: %s", rt.whyUnavailable.c_str());
    cudaError_t e = rt.free(ptr);
    if (e != cudaSuccess) {
      rt.getLastError();
      return fail(ncclUnhandledCudaError, "ncclMemFree: cudaFree(%p) failed: %s", ptr,
                  rt.getErrorString(e));
    }
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclMemFree);

NCCL_SHIM_API ncclResult_t ncclCommRegister(const ncclComm_t comm, void* buff, size_t size,
                                            void** handle) {
  applyNcclEnvironment();
  return guarded("ncclCommRegister", [&] {
    const char* fn = "ncclCommRegister";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r != ncclSuccess) return r;
    if (!handle) return fail(ncclInvalidArgument, "%s: handle is NULL", fn);
    *handle = nullptr;
    if (!buff) return fail(ncclInvalidArgument, "%s: buff is NULL", fn);
    if (size == 0) return fail(ncclInvalidArgument, "%s: size is 0", fn);
    // Registration is an optimisation hint in NCCL; Tutti moves data through its own mapped
    // buffers, so the registration is recorded (for Deregister's checks) and nothing else.
    auto reg = std::make_unique<Registration>(Registration{buff, size});
    std::lock_guard<std::mutex> lock(c->mutex);
    *handle = reg.get();
    c->registrations.push_back(std::move(reg));
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommRegister);

NCCL_SHIM_API ncclResult_t ncclCommDeregister(const ncclComm_t comm, void* handle) {
  applyNcclEnvironment();
  return guarded("ncclCommDeregister", [&] {
    const char* fn = "ncclCommDeregister";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r != ncclSuccess) return r;
    if (!handle) return ncclSuccess;  // nothing was registered
    std::lock_guard<std::mutex> lock(c->mutex);
    auto& regs = c->registrations;
    auto it = std::find_if(regs.begin(), regs.end(), [&](const std::unique_ptr<Registration>& p) {
      return p.get() == handle;
    });
    if (it == regs.end())
      return fail(ncclInvalidArgument,
                  "%s: handle %p was not returned by ncclCommRegister on this communicator (or "
                  "was deregistered already)",
                  fn, handle);
    regs.erase(it);
    return ncclSuccess;
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommDeregister);

NCCL_SHIM_API ncclResult_t ncclCommWindowRegister(ncclComm_t comm, void* buff, size_t size,
                                                  ncclWindow_t* win, int winFlags) {
  applyNcclEnvironment();
  return guarded("ncclCommWindowRegister", [&] {
    const char* fn = "ncclCommWindowRegister";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r != ncclSuccess) return r;
    if (win) *win = nullptr;
    // A window is dereferenced by NCCL's device API (nccl_device.h) and symmetric kernels;
    // a placeholder handle could reach a kernel, so windows are refused outright.
    return fail(ncclInvalidUsage,
                "%s: symmetric memory windows are not supported by Tutti's libnccl.so.2 (buff %p, "
                "size %zu, flags 0x%x); collectives on the same buffer work without a window",
                fn, buff, size, winFlags);
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommWindowRegister);

NCCL_SHIM_API ncclResult_t ncclCommWindowDeregister(ncclComm_t comm, ncclWindow_t win) {
  applyNcclEnvironment();
  return guarded("ncclCommWindowDeregister", [&] {
    const char* fn = "ncclCommWindowDeregister";
    CommRef c;
    ncclResult_t r = acquireComm(comm, fn, &c);
    if (r != ncclSuccess) return r;
    if (!win) return ncclSuccess;  // ncclCommWindowRegister never hands out a window
    return fail(ncclInvalidArgument,
                "%s: window %p was not created by this library (it creates no windows)", fn,
                static_cast<void*>(win));
  });
}
NCCL_SHIM_PROFILING_ALIAS(ncclCommWindowDeregister);
