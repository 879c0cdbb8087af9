// GPU test helpers.
#include "gpu/gpu_testing.h"

#include <dirent.h>

#include <cstdio>
#include <cstdlib>

namespace tutti::testing {

int visibleGpus() {
  int n = 0;
  if (DIR* d = opendir("/proc/driver/nvidia/gpus")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  if (n == 0) {
    if (FILE* p = popen("nvidia-smi -L 2>/dev/null", "r")) {
      char line[512];
      while (fgets(line, sizeof(line), p))
        if (line[0] == 'G' && line[1] == 'P' && line[2] == 'U') ++n;
      pclose(p);
    }
  }
  if (const char* v = getenv("CUDA_VISIBLE_DEVICES")) {
    int listed = *v ? 1 : 0;
    for (const char* c = v; *c; ++c) listed += *c == ',';
    if (listed < n) n = listed;
  }
  return n;
}

int gpuForRank(int rank) {
  const int n = visibleGpus();
  return n > 0 ? rank % n : 0;
}

bool prepareGpus(int nranks) {
  const int have = visibleGpus();
  if (have == 0) return false;
  if (have < nranks) {
    setenv("TUTTI_ALLOW_SHARED_GPU", "1", 1);
    printf("[ note     ] %d ranks on %d GPU(s): ranks share GPUs\n", nranks, have);
  }
  return true;
}

namespace {

void* devAlloc(size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) return nullptr;
  return p;
}
void devFree(void* p) { cudaFree(p); }
// From pageable memory cudaMemcpy may return before the DMA lands, and the collective runs
// on a non-blocking stream that does not wait for it: synchronise, or the kernel races the copy.
void h2d(void* d, const void* s, size_t b) {
  cudaMemcpy(d, s, b, cudaMemcpyHostToDevice);
  cudaDeviceSynchronize();
}
void d2h(void* d, const void* s, size_t b) { cudaMemcpy(d, s, b, cudaMemcpyDeviceToHost); }
void sync(void* stream) { cudaStreamSynchronize(static_cast<cudaStream_t>(stream)); }

const DeviceMemoryOps kOps = {devAlloc, devFree, h2d, d2h, sync};

}  // namespace

const DeviceMemoryOps* cudaMemoryOps() { return &kOps; }

}  // namespace tutti::testing
