// CPU-only build: no device is ever found, so every buffer is host memory.
#ifndef TUTTI_HAVE_CUDA
#include "core/gpu_hooks.h"

namespace tutti {

int gpuDeviceCount() { return 0; }
int gpuCurrentDevice() { return -1; }
Result gpuSetDevice(int device) {
  return setError(tuttiNotSupported, "device %d requested but this build has no CUDA support",
                  device);
}
bool gpuIsDevicePointer(const void*, int*) { return false; }
int64_t gpuBusId(int) { return -1; }
Result gpuCommInit(tuttiComm*) { return tuttiSuccess; }
void gpuCommDestroy(tuttiComm*) {}
void gpuCommAbort(tuttiComm*) {}
Result gpuPollError(tuttiComm*) { return tuttiSuccess; }
Result gpuSynchronize(tuttiComm*) { return tuttiSuccess; }
Result gpuEnqueue(tuttiComm*, const CollCall*, size_t) {
  return setError(tuttiNotSupported, "device buffers need a CUDA build of Tutti");
}

}  // namespace tutti
#endif
