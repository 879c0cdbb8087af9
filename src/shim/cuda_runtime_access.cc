// CUDA runtime entry points of the shim: direct in CUDA builds, dlopen'ed in CPU-only ones.
#include "shim/cuda_runtime_access.h"

#include <dlfcn.h>

namespace tutti::shim {
namespace {

#ifdef TUTTI_HAVE_CUDA
void resolve(CudaRuntime* rt) {
  rt->malloc = &cudaMalloc;
  rt->free = &cudaFree;
  rt->pointerGetAttributes = &cudaPointerGetAttributes;
  rt->memcpyAsync = &cudaMemcpyAsync;
  rt->streamSynchronize = &cudaStreamSynchronize;
  rt->streamIsCapturing = &cudaStreamIsCapturing;
  rt->getLastError = &cudaGetLastError;
  rt->getErrorString = &cudaGetErrorString;
  rt->available = true;
}
#else
template <typename Fn>
bool load(void* lib, const char* name, Fn* out) {
  *out = reinterpret_cast<Fn>(dlsym(lib, name));
  return *out != nullptr;
}

void resolve(CudaRuntime* rt) {
  // A CPU-only Tutti build: use the runtime the application already has, else any installed.
  const char* names[] = {"libcudart.so.13", "libcudart.so.12", "libcudart.so"};
  void* lib = nullptr;
  for (const char* n : names)
    if ((lib = dlopen(n, RTLD_NOW | RTLD_LOCAL))) break;
  if (!lib) {
    rt->whyUnavailable =
        "this libnccl.so.2 was built without CUDA and no libcudart.so could be loaded";
    return;
  }
  bool ok = load(lib, "cudaMalloc", &rt->malloc) && load(lib, "cudaFree", &rt->free) &&
            load(lib, "cudaPointerGetAttributes", &rt->pointerGetAttributes) &&
            load(lib, "cudaMemcpyAsync", &rt->memcpyAsync) &&
            load(lib, "cudaStreamSynchronize", &rt->streamSynchronize) &&
            load(lib, "cudaStreamIsCapturing", &rt->streamIsCapturing) &&
            load(lib, "cudaGetLastError", &rt->getLastError) &&
            load(lib, "cudaGetErrorString", &rt->getErrorString);
  if (!ok) {
    rt->whyUnavailable = "the libcudart.so found lacks a function the shim needs";
    return;
  }
  rt->available = true;
}
#endif

}  // namespace

const CudaRuntime& cudaRuntime() {
  static CudaRuntime* rt = [] {
    auto* r = new CudaRuntime();  // never destroyed: usable during exit
    resolve(r);
    return r;
  }();
  return *rt;
}

bool isDeviceMemory(const void* ptr) {
  const CudaRuntime& rt = cudaRuntime();
  if (!ptr || !rt.available) return false;
  cudaPointerAttributes attr{};
  if (rt.pointerGetAttributes(&attr, ptr) != cudaSuccess) {
    rt.getLastError();  // clear the sticky-free error the failed query left behind
    return false;
  }
  return attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
}

}  // namespace tutti::shim
