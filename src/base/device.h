// What this process sees of its GPUs: device count, the current device, pointer kinds and PCI
// bus ids. In a CPU-only build there is no device and every buffer is host memory.
#pragma once

#include <cstdint>

#include "base/error.h"

namespace tutti {

int gpuDeviceCount();
// The current CUDA device, or -1 when there is none.
int gpuCurrentDevice();
// Sets the calling thread's current device (tuttiCommInitAll, collectives on a comm).
Result gpuSetDevice(int device);
// True when `ptr` is device (or managed) memory; *device is its GPU.
bool gpuIsDevicePointer(const void* ptr, int* device);
// (domain << 16) | (bus << 8) | device of the GPU's PCI address, -1 when unknown.
int64_t gpuBusId(int device);

}  // namespace tutti
