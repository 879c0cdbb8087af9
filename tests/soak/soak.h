// Soak: a long random sequence of collectives on every rank of a communicator, every result
// checked against the CPU reference. All ranks draw the same sequence from one seed, so they
// agree on every call without talking; a failure names the seed and the call to replay.
// Buffers live in host memory or, through MemoryOps, on a device (the GPU mode).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "tutti/tutti.h"

namespace tutti::testing {

// Where a rank's buffers live: host memory (null ops) or a device.
struct SoakMemoryOps {
  void* (*alloc)(size_t bytes);
  void (*release)(void* ptr);
  void (*toDevice)(void* dst, const void* src, size_t bytes);
  void (*toHost)(void* dst, const void* src, size_t bytes);
  void (*sync)(tuttiStream_t stream);
};

struct SoakOptions {
  uint64_t seed = 0;
  long calls = 10000;  // collectives (each operation of a group counts)
  size_t maxBytes = size_t{4} << 20;
  const SoakMemoryOps* memory = nullptr;  // null: host buffers
  tuttiStream_t stream = nullptr;
  // Called by every rank before and after it makes or destroys communicators. One process that
  // drives several ranks of one GPU needs it: a destroy frees device memory, and cudaFree waits
  // for the whole device, so no other rank may have a kernel waiting for this one meanwhile.
  std::function<void()> commBarrier;
};

struct SoakStats {
  long calls = 0;          // collectives completed and checked
  long wrong = 0;          // calls with at least one wrong element
  long groups = 0;         // group launches
  long comms = 0;          // communicators made by split/dup
  uint64_t bytes = 0;      // payload bytes this rank received and checked
  std::string firstError;  // "" when everything matched
};

// The seed: TUTTI_SOAK_SEED (a number, or "random"), else a fixed default.
uint64_t soakSeed();
// TUTTI_SOAK_CALLS, else `def`.
long soakCalls(long def);

// Runs the soak on `world` (every rank calls it with the same options). Stops at the first
// failed call (a wrong result keeps going, counted) so that one error does not cascade.
SoakStats runSoak(tuttiComm_t world, const SoakOptions& options);

}  // namespace tutti::testing
