// Capability tables of the three executors.
#include "algorithms/capabilities.h"

#include "algorithms/builders.h"

namespace tutti {

const char* executorKindName(ExecutorKind k) {
  static const char* names[] = {"cpu", "gpu-direct", "gpu-proxy"};
  return k < ExecutorKind::kCount ? names[static_cast<int>(k)] : "?";
}

Capabilities& Capabilities::add(Collective c, Algorithm a, Protocol p) {
  bits_[static_cast<int>(c)][static_cast<int>(a)] |=
      static_cast<uint8_t>(1u << static_cast<int>(p));
  return *this;
}

bool Capabilities::has(Collective c, Algorithm a) const {
  return c < Collective::kCount && a < Algorithm::kCount &&
         bits_[static_cast<int>(c)][static_cast<int>(a)] != 0;
}

bool Capabilities::has(Collective c, Algorithm a, Protocol p) const {
  return has(c, a) && (bits_[static_cast<int>(c)][static_cast<int>(a)] >> static_cast<int>(p)) & 1;
}

std::vector<Algorithm> Capabilities::algorithms(Collective c) const {
  std::vector<Algorithm> out;
  for (int a = 0; a < static_cast<int>(Algorithm::kCount); ++a)
    if (has(c, static_cast<Algorithm>(a))) out.push_back(static_cast<Algorithm>(a));
  return out;
}

std::vector<Protocol> Capabilities::protocols(Collective c, Algorithm a) const {
  std::vector<Protocol> out;
  for (int p = 0; p < static_cast<int>(Protocol::kCount); ++p)
    if (has(c, a, static_cast<Protocol>(p))) out.push_back(static_cast<Protocol>(p));
  return out;
}

std::string Capabilities::describe(Collective c) const {
  std::string s;
  for (Algorithm a : algorithms(c))
    for (Protocol p : protocols(c, a))
      s += std::string(s.empty() ? "" : ", ") + algorithmName(a) + "/" + protocolName(p);
  return s.empty() ? "nothing" : s;
}

const Capabilities& cpuCapabilities() {
  static const Capabilities caps = [] {
    Capabilities c;
    for (int ci = 0; ci < static_cast<int>(Collective::kCount); ++ci)
      for (int ai = 1; ai < static_cast<int>(Algorithm::kCount); ++ai) {
        const auto coll = static_cast<Collective>(ci);
        const auto algo = static_cast<Algorithm>(ai);
        if (algo != Algorithm::kP2p && cpuImplements(coll, algo)) c.add(coll, algo);
      }
    c.add(Collective::kSend, Algorithm::kP2p).add(Collective::kRecv, Algorithm::kP2p);
    return c;
  }();
  return caps;
}

// kernels/: one kernel per (collective, algorithm); AllToAllv and groups of sends and receives
// run as one fused point-to-point launch.
const Capabilities& gpuDirectCapabilities() {
  static const Capabilities caps = [] {
    Capabilities c;
    c.add(Collective::kAllReduce, Algorithm::kDirect)
        .add(Collective::kAllReduce, Algorithm::kTwoShot);
    c.add(Collective::kReduceScatter, Algorithm::kDirect);
    c.add(Collective::kReduce, Algorithm::kDirect);
    c.add(Collective::kAllGather, Algorithm::kDirect);
    c.add(Collective::kAllToAll, Algorithm::kDirect);
    c.add(Collective::kBroadcast, Algorithm::kDirect);
    c.add(Collective::kAllToAllv, Algorithm::kP2p);
    c.add(Collective::kSend, Algorithm::kP2p).add(Collective::kRecv, Algorithm::kP2p);
    return c;
  }();
  return caps;
}

// The proxy runs the CPU executor's plans on staged chunks, every one of them (recursive
// doubling only when forced: the cost model leaves it out of the proxy's choice); AllToAllv and
// sends and receives move as pieces of point-to-point messages.
const Capabilities& gpuProxyCapabilities() {
  static const Capabilities caps = [] {
    Capabilities c;
    const Capabilities& cpu = cpuCapabilities();
    for (Collective coll :
         {Collective::kAllReduce, Collective::kAllGather, Collective::kReduceScatter,
          Collective::kAllToAll, Collective::kBroadcast, Collective::kReduce})
      for (Algorithm a : cpu.algorithms(coll)) c.add(coll, a);
    c.add(Collective::kAllToAllv, Algorithm::kP2p);
    c.add(Collective::kSend, Algorithm::kP2p).add(Collective::kRecv, Algorithm::kP2p);
    return c;
  }();
  return caps;
}

const Capabilities& capabilitiesOf(ExecutorKind k) {
  switch (k) {
    case ExecutorKind::kGpuDirect: return gpuDirectCapabilities();
    case ExecutorKind::kGpuProxy: return gpuProxyCapabilities();
    default: return cpuCapabilities();
  }
}

}  // namespace tutti
