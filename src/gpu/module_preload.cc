// Module preloading through the driver, found through the runtime (libtutti.so never links
// libcuda itself): kernel -> CUfunction -> CUmodule -> every CUfunction -> cuFuncLoad.
#include "gpu/module_preload.h"

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <vector>

#include "base/logging.h"

namespace tutti {
namespace {

struct ModuleOps {
  PFN_cuFuncGetModule_v11000 getModule = nullptr;
  PFN_cuModuleGetFunctionCount_v12040 count = nullptr;
  PFN_cuModuleEnumerateFunctions_v12040 enumerate = nullptr;
  PFN_cuFuncLoad_v12040 load = nullptr;
};

template <typename Fn>
void entryPoint(const char* name, int version, Fn* out) {
  cudaDriverEntryPointQueryResult q;
  void* p = nullptr;
  if (cudaGetDriverEntryPointByVersion(name, &p, version, cudaEnableDefault, &q) != cudaSuccess ||
      q != cudaDriverEntryPointSuccess) {
    cudaGetLastError();
    p = nullptr;
  }
  *out = reinterpret_cast<Fn>(p);
}

const ModuleOps& moduleOps() {
  static const ModuleOps ops = [] {
    ModuleOps m;
    entryPoint("cuFuncGetModule", 11000, &m.getModule);
    entryPoint("cuModuleGetFunctionCount", 12040, &m.count);
    entryPoint("cuModuleEnumerateFunctions", 12040, &m.enumerate);
    entryPoint("cuFuncLoad", 12040, &m.load);
    return m;
  }();
  return ops;
}

Result cudaCheck(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return tuttiSuccess;
  cudaGetLastError();
  return setError(tuttiCudaError, "%s: %s", what, cudaGetErrorString(e));
}

}  // namespace

Result preloadModuleOf(const void* kernel, const char* what) {
  // Getting the function handle loads this one kernel.
  cudaFunction_t fn = nullptr;
  TUTTI_TRY(cudaCheck(cudaGetFuncBySymbol(&fn, kernel), what));
  const ModuleOps& m = moduleOps();
  if (!m.getModule || !m.count || !m.enumerate || !m.load) {
    TUTTI_INFO(
        "%s: this driver cannot list a module's kernels (CUDA < 12.4); they load on first "
        "use, which can stall several ranks driven by one thread",
        what);
    return tuttiSuccess;
  }
  CUmodule mod = nullptr;
  unsigned n = 0;
  if (m.getModule(&mod, reinterpret_cast<CUfunction>(fn)) != CUDA_SUCCESS ||
      m.count(&n, mod) != CUDA_SUCCESS)
    return setError(tuttiCudaError, "%s: cannot find the module of its kernels", what);
  std::vector<CUfunction> fns(n);
  if (n && m.enumerate(fns.data(), n, mod) != CUDA_SUCCESS)
    return setError(tuttiCudaError, "%s: cannot list the %u kernels of its module", what, n);
  for (CUfunction f : fns)
    if (m.load(f) != CUDA_SUCCESS)
      return setError(tuttiCudaError, "%s: loading one of its %u kernels failed", what, n);
  return tuttiSuccess;
}

}  // namespace tutti
