// Alpha-beta formulas per algorithm. Every formula is written once here and mirrored, term
// for term, in docs/tuning.md and tests/unit/tuner_model_test.cc.
#include "algorithms/cost_model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace tutti {
namespace {

constexpr double kMaxChunkBytes = 1ull << 40;

struct Cls {
  double a;   // us per step
  double bw;  // GB/s
  double q;   // us per additional peer in a step
};

int floorLog2(int n) {
  int d = 0;
  while ((2 << d) <= n) ++d;
  return d;
}

int ceilLog2(int n) {
  int r = 0;
  for (int span = 1; span < n; span *= 2) ++r;
  return r;
}

// Microseconds to move `bytes` at `gbs` GB/s.
double xfer(double bytes, double gbs) { return gbs > 0 ? bytes / (gbs * 1e3) : 1e30; }

bool parseClass(const std::string& s, LinkClass* out) {
  for (int i = 0; i < static_cast<int>(LinkClass::kCount); ++i)
    if (s == linkClassName(static_cast<LinkClass>(i))) {
      *out = static_cast<LinkClass>(i);
      return true;
    }
  return false;
}

}  // namespace

const char* linkClassName(LinkClass c) {
  static const char* names[] = {"nvlink", "pcie", "sys", "net", "shm", "socket"};
  return c < LinkClass::kCount ? names[static_cast<int>(c)] : "?";
}

const char* modelBasisName(ModelBasis b) { return b == ModelBasis::kGpu ? "gpu" : "cpu"; }

ModelParams ModelParams::defaults() {
  ModelParams p;
  auto set = [&](LinkClass c, double alpha, double bw, double llAlpha, double llFactor, double peer,
                 double def) {
    p.link[static_cast<int>(c)] = {alpha, bw, llAlpha, llFactor, peer};
    p.defaultBw[static_cast<int>(c)] = def;
  };
  // GPU classes: bandwidth from the topology (0 here); defaults apply without one (and for
  // ranks sharing one GPU, whose path has no link): NVLink's is an H100/H200's 18 links.
  // NVLink alpha and per-peer cost, with the direct and two-shot efficiencies below, put the
  // one-shot / two-shot AllReduce crossover where it was measured on H200 (perf/NOTES.md):
  // between 512 and 724 KiB with 2 ranks, 256 and 362 KiB with 4.
  set(LinkClass::kNvLink, 1.0, 0, 0.6, 0.5, 0.88, 478.125);
  set(LinkClass::kPcie, 2.0, 0, 1.2, 0.5, 0.1, 20.0);
  set(LinkClass::kSys, 3.0, 0, 1.8, 0.5, 0.2, 12.0);
  set(LinkClass::kNet, 6.0, 0, 4.0, 0.5, 0.5, 12.5);
  // CPU executor classes. shm: fitted to 2 and 4 ranks on a 16-core host (perf/NOTES.md,
  // 2026-12-02): 0.5 us per step, ~9 GB/s through the FIFO, reductions ~20 GB/s (vectorised).
  set(LinkClass::kShm, 0.5, 9.0, 0.5, 1.0, 0.2, 9.0);
  // socket: a step across hosts whose ranks have cores of their own. On namespace hosts of the
  // 16-core box (2026-12-05) one step took 11-15 us (an 8 B AllReduce of 2 x 1, a ring's step
  // through the GPU proxy). Ranks sharing cores pay more: the 2-CPU VM's 4 ranks took ~50 us a
  // step, where TUTTI_TUNER_PARAMS=socket.alpha=50 reproduces its crossovers.
  set(LinkClass::kSocket, 15.0, 1.0, 15.0, 1.0, 5.0, 1.0);
  p.gpuLaunchUs = 2.0;
  // A node stage of the device hierarchical plans on the H200 (2 nodes x 2, 2026-12-02):
  // hierarchical Reduce/Broadcast cost ~6 us more than flat at 8 B, AllGather/ReduceScatter
  // (a stage plus layout copies on both sides) ~50 us; 10 us a stage sits between.
  p.gpuStageUs = 10.0;
  p.cpuCallUs = 0.3;
  p.cpuReduceGBs = 20.0;
  for (double& e : p.eff) e = 0.8;
  p.eff[static_cast<int>(Algorithm::kDirect)] = 0.47;
  p.eff[static_cast<int>(Algorithm::kTwoShot)] = 0.75;
  p.eff[static_cast<int>(Algorithm::kTree)] = 0.7;
  // CPU executor: streams to many peers at once thrash caches and shared cores (measured
  // ~2x slower per byte than a ring at 4 ranks; two-shot's blocks are 1/n as large and hurt
  // less). With a single peer there is no fan-out: predict() then uses 1.
  for (double& e : p.cpuEff) e = 1.0;
  p.cpuEff[static_cast<int>(Algorithm::kDirect)] = 0.55;
  p.cpuEff[static_cast<int>(Algorithm::kTwoShot)] = 0.8;
  p.cpuEff[static_cast<int>(Algorithm::kTree)] = 0.9;
  p.treeChunkBytes = 256 * 1024;
  p.chainChunkBytes = 512 * 1024;
  return p;
}

Result ModelParams::apply(const std::string& spec) {
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.find('='), dot = item.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
      return setError(tuttiInvalidArgument,
                      "'%s': expected <class|algorithm|gpu|cpu>.<field>=<value>", item.c_str());
    const std::string scope = item.substr(0, dot), field = item.substr(dot + 1, eq - dot - 1);
    const std::string text = item.substr(eq + 1);
    char* end = nullptr;
    const double v = strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !(v >= 0) || !std::isfinite(v))
      return setError(tuttiInvalidArgument, "'%s': '%s' is not a non-negative number", item.c_str(),
                      text.c_str());
    LinkClass c;
    Algorithm a;
    if (parseClass(scope, &c)) {
      LinkParams& l = link[static_cast<int>(c)];
      if (field == "alpha")
        l.alphaUs = v;
      else if (field == "bw")
        l.bwGBs = v;
      else if (field == "ll_alpha")
        l.llAlphaUs = v;
      else if (field == "ll_bw")
        l.llBwFactor = v;
      else if (field == "peer")
        l.peerUs = v;
      else if (field == "default_bw")
        defaultBw[static_cast<int>(c)] = v;
      else
        return setError(tuttiInvalidArgument,
                        "'%s': link classes have alpha, bw, ll_alpha, ll_bw, peer, default_bw",
                        item.c_str());
    } else if (scope == "gpu" && field == "launch") {
      gpuLaunchUs = v;
    } else if (scope == "gpu" && field == "stage") {
      gpuStageUs = v;
    } else if (scope == "cpu" && field == "call") {
      cpuCallUs = v;
    } else if (scope == "cpu" && field == "reduce_bw") {
      cpuReduceGBs = v;
    } else if ((scope == "tree" || scope == "chain") && field == "chunk") {
      // Converting a double past size_t's range is undefined: bound it first.
      if (v > kMaxChunkBytes)
        return setError(tuttiInvalidArgument, "'%s': a chunk is at most %.0f bytes", item.c_str(),
                        kMaxChunkBytes);
      (scope == "tree" ? treeChunkBytes : chainChunkBytes) = static_cast<size_t>(v);
    } else if (parseAlgorithm(scope, &a) && (field == "eff" || field == "cpu_eff")) {
      if (v <= 0 || v > 1)
        return setError(tuttiInvalidArgument, "'%s': eff must be in (0, 1]", item.c_str());
      (field == "eff" ? eff : cpuEff)[static_cast<int>(a)] = v;
    } else {
      return setError(tuttiInvalidArgument, "'%s': unknown parameter '%s.%s'", item.c_str(),
                      scope.c_str(), field.c_str());
    }
  }
  if (treeChunkBytes == 0 || chainChunkBytes == 0)
    return setError(tuttiInvalidArgument, "chunk sizes must be positive");
  return tuttiSuccess;
}

std::string ModelParams::describe() const {
  std::ostringstream os;
  for (int i = 0; i < static_cast<int>(LinkClass::kCount); ++i) {
    const LinkParams& l = link[i];
    os << linkClassName(static_cast<LinkClass>(i)) << ": alpha " << l.alphaUs << " us, bw "
       << (l.bwGBs > 0 ? std::to_string(l.bwGBs).substr(0, 6) : "topology") << " (default "
       << defaultBw[i] << ") GB/s, LL alpha " << l.llAlphaUs << " us x" << l.llBwFactor
       << ", per peer " << l.peerUs << " us\n";
  }
  os << "gpu.launch " << gpuLaunchUs << " us, gpu.stage " << gpuStageUs << " us, cpu.call "
     << cpuCallUs << " us, cpu.reduce_bw " << cpuReduceGBs << " GB/s\n";
  return os.str();
}

std::string ModelShape::describe() const {
  std::ostringstream os;
  os << modelBasisName(basis) << " model: " << nranks << " ranks on " << nodes << " node(s)";
  if (nodes > 1)
    os << " ("
       << (localRanks
               ? std::to_string(localRanks)
               : "uneven, " + std::to_string(smallestNode) + "-" + std::to_string(largestNode))
       << " per node)";
  os << "; ring hops " << linkClassName(ringClass);
  if (ringBw > 0) os << " " << ringBw << " GB/s";
  os << ", all pairs " << linkClassName(directClass);
  if (directBw > 0) os << " " << directBw << " GB/s";
  if (nodes > 1) {
    os << ", between nodes " << linkClassName(interClass);
    if (interBw > 0) os << " " << interBw << " GB/s per rank";
    if (deviceNodeStages) {
      os << "; hierarchical node stages on the device, " << linkClassName(nodeClass);
      if (nodeBw > 0) os << " " << nodeBw << " GB/s";
    }
  }
  return os.str();
}

double busFactor(Collective c, int n) {
  switch (c) {
    case Collective::kAllReduce: return n > 1 ? 2.0 * (n - 1) / n : 1.0;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll:
    case Collective::kAllToAllv: return n > 1 ? static_cast<double>(n - 1) / n : 1.0;
    default: return 1.0;
  }
}

Prediction predict(const ModelParams& p, const ModelShape& s, Collective c, Algorithm algo,
                   Protocol proto, size_t bytes) {
  Prediction out;
  const bool gpu = s.basis == ModelBasis::kGpu;
  if (proto == Protocol::kLL && !gpu) return out;  // the CPU executor has one protocol
  const int n = std::max(1, s.nranks), N = std::max(1, s.nodes), L = s.localRanks;
  const double S = static_cast<double>(bytes);
  // cpu_eff prices the fan-out of direct exchanges: with one peer a direct step streams like a
  // ring hop.
  const double e = gpu      ? p.eff[static_cast<int>(algo)]
                   : n <= 2 ? 1.0
                            : p.cpuEff[static_cast<int>(algo)];
  auto cls = [&](LinkClass k, double topoBw) {
    const LinkParams& l = p.link[static_cast<int>(k)];
    double bw = l.bwGBs > 0 ? l.bwGBs : topoBw > 0 ? topoBw : p.defaultBw[static_cast<int>(k)];
    if (proto == Protocol::kLL) return Cls{l.llAlphaUs, bw * l.llBwFactor * e, l.peerUs};
    return Cls{l.alphaUs, bw * e, l.peerUs};
  };
  const Cls ring = cls(s.ringClass, s.ringBw), direct = cls(s.directClass, s.directBw);
  const Cls inter = cls(s.interClass, s.interBw);
  // Flat algorithms spanning nodes run at the pace of their slowest hop.
  auto flat = [&](const Cls& intra) {
    return N > 1 ? Cls{std::max(intra.a, inter.a), std::min(intra.bw, inter.bw),
                       std::max(intra.q, inter.q)}
                 : intra;
  };
  const double fan = std::max(0, n - 2);  // peers beyond the first in a direct step
  const Cls x = flat(ring), xd = flat(direct);
  const double o = gpu ? p.gpuLaunchUs : p.cpuCallUs;
  auto G = [&](double b) { return gpu ? 0.0 : xfer(b, p.cpuReduceGBs); };
  const int D = ceilLog2(n);
  // Hierarchical plans run on a core of the smallest node's size; on uneven nodes the other
  // ranks fold into it before (their whole input) and get their results after, F rounds.
  const int C = L > 0 ? L : s.smallestNode;
  const int F = C > 0 ? (std::max(C, s.largestNode) - 1) / C : 0;
  const bool hier = N > 1 && C > 0;
  // Node stages of hierarchical plans: the CPU executor's levels, or the device kernels when the
  // hierarchical plan runs on device buffers (no CPU reduction, a stage cost instead).
  const bool dev = s.deviceNodeStages;
  const Cls node =
      dev ? Cls{p.link[static_cast<int>(s.nodeClass)].alphaUs,
                (s.nodeBw > 0 ? s.nodeBw : p.defaultBw[static_cast<int>(s.nodeClass)]) *
                    p.eff[static_cast<int>(Algorithm::kHierarchical)],
                p.link[static_cast<int>(s.nodeClass)].peerUs}
          : ring;
  auto Gn = [&](double b) { return dev ? 0.0 : G(b); };
  const double stage = dev ? p.gpuStageUs : 0.0;
  double t = -1;
  switch (c) {
    case Collective::kAllReduce:
      switch (algo) {
        case Algorithm::kRing:
          t = o + 2.0 * (n - 1) * x.a + xfer(2.0 * (n - 1) / n * S, x.bw) + G((n - 1.0) / n * S);
          break;
        case Algorithm::kDirect:
          t = o + xd.a + fan * xd.q + xfer((n - 1.0) * S, xd.bw) + G((n - 1.0) * S);
          break;
        case Algorithm::kTwoShot:
          t = o + 2.0 * (xd.a + fan * xd.q) + xfer(2.0 * (n - 1) / n * S, xd.bw) +
              G((n - 1.0) / n * S);
          break;
        case Algorithm::kTree: {
          const double k = std::min(64.0, std::max(1.0, std::ceil(S / 2 / p.treeChunkBytes)));
          t = o + (2.0 * D + k - 1) * x.a + xfer(2.0 * S, x.bw) + G(S);
          break;
        }
        case Algorithm::kRecursiveDoubling: {
          // One peer per step, the whole vector each time; positions run node by node, so the
          // steps below the ranks per node (when a power of two) stay inside a node. Only a
          // candidate across nodes: inside one the direct plan's fan-out is cheap (shared
          // memory), and what recursive doubling saves is messages over the network. The GPU
          // proxy runs it as a CPU plan on its staged chunks; on the H200 (2 x 2 and 4 x 1 GPU
          // nodes, 2026-12-05) it fell where this puts it against the proxy's other plans.
          if (N == 1) break;
          const int p = 1 << floorLog2(n), rounds = floorLog2(n) + (p < n ? 2 : 0);
          const int local = L > 0 && (L & (L - 1)) == 0 ? floorLog2(L) : 0;
          t = o + local * (ring.a + xfer(S, ring.bw)) +
              (rounds - local) * (inter.a + xfer(S, inter.bw)) + rounds * G(S);
          break;
        }
        case Algorithm::kHierarchical:
          if (!hier) break;
          t = o + 2.0 * (stage + (C - 1) * node.a) + xfer(2.0 * (C - 1) / C * S, node.bw) +
              2.0 * (N - 1) * inter.a + xfer(2.0 * (N - 1) / N * S / C, inter.bw) +
              Gn((C - 1.0) / C * S) + G((N - 1.0) / N * S / C) +
              F * (2.0 * (node.a + xfer(S, node.bw)) + Gn(S));
          break;
        default: break;
      }
      break;
    case Collective::kAllGather:
    case Collective::kReduceScatter: {
      const bool rs = c == Collective::kReduceScatter;
      switch (algo) {
        case Algorithm::kRing:
          t = o + (n - 1.0) * x.a + xfer((n - 1.0) / n * S, x.bw) + (rs ? G((n - 1.0) / n * S) : 0);
          break;
        case Algorithm::kDirect:
          t = o + xd.a + fan * xd.q + xfer((n - 1.0) / n * S, xd.bw) +
              (rs ? G((n - 1.0) / n * S) : 0);
          break;
        case Algorithm::kHierarchical:
          if (!hier) break;
          t = o + (N - 1.0) * inter.a + xfer((N - 1.0) / N * S / C, inter.bw) + stage +
              (C - 1.0) * node.a + xfer((C - 1.0) / C * S, node.bw) +
              (rs ? Gn((C - 1.0) / C * S) + G((N - 1.0) / N * S / C) : 0) +
              F * (2.0 * node.a + xfer(S + S / n, node.bw) + (rs ? Gn(S) : 0));
          break;
        default: break;
      }
      break;
    }
    case Collective::kAllToAll:
    case Collective::kAllToAllv:
      if (algo == Algorithm::kPairwise || algo == Algorithm::kDirect) {
        const int local = N > 1 && L > 0 ? L : n / N;
        const double steps = algo == Algorithm::kPairwise ? n - 1.0 : 1.0;
        t = o + steps * xd.a + (algo == Algorithm::kDirect ? fan * xd.q : 0) +
            xfer((local - 1.0) / n * S, direct.bw) +
            (N > 1 ? xfer(static_cast<double>(n - local) / n * S, inter.bw) : 0);
      }
      break;
    case Collective::kBroadcast:
    case Collective::kReduce: {
      const bool red = c == Collective::kReduce;
      switch (algo) {
        case Algorithm::kTree: t = o + D * (x.a + xfer(S, x.bw) + (red ? G(S) : 0)); break;
        case Algorithm::kChain: {
          const double chunk = std::max(1.0, std::min(S, static_cast<double>(p.chainChunkBytes)));
          const double k = std::max(1.0, std::ceil(S / chunk));
          t = n == 1 ? o : o + (n - 2.0 + k) * (x.a + xfer(chunk, x.bw) + (red ? G(chunk) : 0));
          break;
        }
        case Algorithm::kDirect:
          t = o + xd.a + fan * xd.q + xfer((n - 1.0) * S, xd.bw) + (red ? G((n - 1.0) * S) : 0);
          break;
        case Algorithm::kHierarchical:
          if (!hier) break;
          t = o + ceilLog2(N) * (inter.a + xfer(S, inter.bw) + (red ? G(S) : 0)) + stage +
              ceilLog2(std::max(C, s.largestNode)) *
                  (node.a + xfer(S, node.bw) + (red ? Gn(S) : 0));
          break;
        default: break;
      }
      break;
    }
    default: break;
  }
  if (t < 0) return out;
  out.valid = true;
  out.us = t;
  out.algBw = t > 0 ? S / (t * 1e3) : 0;
  out.busBw = out.algBw * busFactor(c, n);
  return out;
}

}  // namespace tutti
