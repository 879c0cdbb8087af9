// Runs one collective case on one rank and checks its output against the CPU reference.
#pragma once

#include <string>

#include "algorithms/plan.h"
#include "tutti/tutti.h"

namespace tutti::testing {

struct CollCase {
  Collective collective;
  tuttiDataType_t dtype;
  tuttiRedOp_t op;
  size_t count;  // as the API takes it (per rank for AllGather/ReduceScatter/AllToAll)
  bool inPlace;
  int root;
  std::string algorithm;  // forced via the tuner ("" = tuner's choice)
  bool device = false;    // run on device buffers (needs setDeviceMemoryOps)
  bool misalign = false;  // offset buffers by 2 bytes (or one element for wider types)
  void* stream = nullptr;
  // Submit the checked call as a device call whatever its memory is (with device = true and
  // host memory ops): the proxy executor's tests drive it with host-emulated streams.
  bool forceDevicePath = false;
};

// Device buffer handling, installed by GPU tests so this file needs no CUDA.
struct DeviceMemoryOps {
  void* (*alloc)(size_t bytes);
  void (*release)(void* ptr);
  void (*toDevice)(void* dst, const void* src, size_t bytes);
  void (*toHost)(void* dst, const void* src, size_t bytes);
  void (*sync)(void* stream);
};
void setDeviceMemoryOps(const DeviceMemoryOps* ops);

std::string describe(const CollCase& c, int nranks);

// Runs the case and returns "" or the first mismatches found on this rank.
std::string runCollectiveCase(tuttiComm_t comm, int rank, int nranks, const CollCase& c,
                              uint64_t seed);

}  // namespace tutti::testing
