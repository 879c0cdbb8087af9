// What an executor implements: (collective, algorithm, protocol) triples. The tuner builds its
// size tables only from these, a forced choice outside them is an error that lists them, and
// the INFO line of every call names the triple that ran.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "algorithms/plan.h"

namespace tutti {

enum class ExecutorKind : uint8_t { kCpu, kGpuDirect, kGpuProxy, kCount };
// "cpu", "gpu-direct", "gpu-proxy"
const char* executorKindName(ExecutorKind k);

class Capabilities {
 public:
  Capabilities& add(Collective c, Algorithm a, Protocol p = Protocol::kSimple);
  bool has(Collective c, Algorithm a) const;
  bool has(Collective c, Algorithm a, Protocol p) const;
  // Algorithms of `c` in enum order, and the protocols of (c, a).
  std::vector<Algorithm> algorithms(Collective c) const;
  std::vector<Protocol> protocols(Collective c, Algorithm a) const;
  // "one_shot/simple, two_shot/simple" or "nothing" for error messages.
  std::string describe(Collective c) const;

 private:
  // Bit p of bits_[c][a]: protocol p of algorithm a for collective c.
  uint8_t bits_[static_cast<int>(Collective::kCount)][static_cast<int>(Algorithm::kCount)] = {};
};

// The capabilities of each executor, as data (the GPU ones exist in CPU-only builds too, so
// tools and tests can show a GPU machine's tables anywhere).
const Capabilities& cpuCapabilities();
const Capabilities& gpuDirectCapabilities();
const Capabilities& gpuProxyCapabilities();
const Capabilities& capabilitiesOf(ExecutorKind k);

}  // namespace tutti
