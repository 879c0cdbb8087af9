// What the core needs from the GPU executor (src/gpu/, CUDA builds). A CPU-only build links
// gpu_stubs.cc instead, where every device query answers "no GPU".
#pragma once

#include <cstddef>

#include "base/error.h"
#include "tutti/tutti.h"

struct tuttiComm;

namespace tutti {

struct CollCall;

int gpuDeviceCount();
// The current CUDA device, or -1 when there is none.
int gpuCurrentDevice();
// Sets the calling thread's current device (tuttiCommInitAll, collectives on a comm).
Result gpuSetDevice(int device);
// True when `ptr` is device (or managed) memory; *device is its GPU.
bool gpuIsDevicePointer(const void* ptr, int* device);
int64_t gpuBusId(int device);

// Per-communicator GPU state: buffers, peer mappings (after transports are connected).
Result gpuCommInit(tuttiComm* comm);
void gpuCommDestroy(tuttiComm* comm);
// Sets the device-side abort flag so that spinning kernels return.
void gpuCommAbort(tuttiComm* comm);
// The error a kernel reported through the host-mapped error word (timeout, abort), if any.
Result gpuPollError(tuttiComm* comm);
// Waits for this communicator's device work (tuttiCommFinalize).
Result gpuSynchronize(tuttiComm* comm);
// Enqueues device-buffer collectives of one communicator on their streams.
Result gpuEnqueue(tuttiComm* comm, const CollCall* calls, size_t n);

}  // namespace tutti
