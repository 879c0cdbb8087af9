// Model-built algorithm tables and their env overrides.
#include "algorithms/tuner.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "algorithms/builders.h"
#include "algorithms/rank_layout.h"
#include "base/env.h"
#include "base/logging.h"
#include "topology/paths.h"

namespace tutti {
namespace {

constexpr size_t kOpen = SIZE_MAX;
constexpr int kCollectives = static_cast<int>(Collective::kCount);

std::string lower(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != '_' && c != '-' && c != ' ') out += static_cast<char>(tolower(c));
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream is(s);
  while (std::getline(is, cur, sep))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string bytesText(size_t b) {
  if (b == kOpen) return "";
  if (b && b % (1ull << 30) == 0) return std::to_string(b >> 30) + "G";
  if (b && b % (1ull << 20) == 0) return std::to_string(b >> 20) + "M";
  if (b && b % (1ull << 10) == 0) return std::to_string(b >> 10) + "K";
  return std::to_string(b);
}

LinkClass classOf(PathType t) {
  switch (t) {
    case PathType::kSelf:
    case PathType::kNvLink:
    case PathType::kNvLinkViaGpu: return LinkClass::kNvLink;
    case PathType::kPix:
    case PathType::kPxb: return LinkClass::kPcie;
    case PathType::kPhb:
    case PathType::kSys: return LinkClass::kSys;
    default: return LinkClass::kNet;
  }
}

// "64k-16m:ring/ll" -> range; false with an error set on a bad field.
Result parseRange(const std::string& entry, TuneRange* out) {
  size_t c1 = entry.find(':'), dash = entry.find('-');
  if (c1 == std::string::npos || dash == std::string::npos || dash > c1)
    return setError(tuttiInvalidArgument, "range '%s': expected <lo>-<hi>:<algo>[/<proto>]",
                    entry.c_str());
  std::string loText = entry.substr(0, dash), hiText = entry.substr(dash + 1, c1 - dash - 1);
  uint64_t lo = 0, hi = kOpen;
  if (!parseBytes(loText, &lo) || (!hiText.empty() && !parseBytes(hiText, &hi)) || hi <= lo)
    return setError(tuttiInvalidArgument, "range '%s': bad byte bounds", entry.c_str());
  std::string algoText = entry.substr(c1 + 1), protoText;
  const size_t slash = algoText.find('/');
  if (slash != std::string::npos) {
    protoText = algoText.substr(slash + 1);
    algoText = algoText.substr(0, slash);
  }
  Algorithm a;
  if (!parseAlgorithm(algoText, &a) || a == Algorithm::kAuto)
    return setError(tuttiInvalidArgument, "range '%s': unknown algorithm '%s'", entry.c_str(),
                    algoText.c_str());
  Protocol p = Protocol::kSimple;
  if (!protoText.empty() && !parseProtocol(protoText, &p))
    return setError(tuttiInvalidArgument, "range '%s': unknown protocol '%s'", entry.c_str(),
                    protoText.c_str());
  *out = TuneRange{lo, hi, a, p, true};
  return tuttiSuccess;
}

}  // namespace

bool parseCollective(const std::string& name, Collective* out) {
  std::string n = lower(name);
  for (int i = 0; i < kCollectives; ++i)
    if (n == lower(collectiveName(static_cast<Collective>(i)))) {
      *out = static_cast<Collective>(i);
      return true;
    }
  return false;
}

ModelShape modelShapeFor(const TunerContext& ctx, ModelBasis b) {
  ModelShape s;
  s.basis = b;
  s.nranks = ctx.nranks;
  if (ctx.layout && ctx.layout->nranks == ctx.nranks) {
    s.nodes = ctx.layout->nnodes;
    s.localRanks = ctx.layout->localRanks();
    s.smallestNode = ctx.layout->smallestNode();
    s.largestNode = ctx.layout->largestNode();
  } else {
    s.nodes = std::max(1, ctx.nodes);
    s.localRanks = ctx.nranks % s.nodes == 0 ? ctx.nranks / s.nodes : 0;
  }
  if (b == ModelBasis::kCpu) {
    s.ringClass = s.directClass = LinkClass::kShm;
    s.interClass = LinkClass::kSocket;
    return s;
  }
  s.ringClass = s.directClass = LinkClass::kNvLink;
  s.interClass = LinkClass::kNet;
  const Topology* t = ctx.topo;
  const auto& g = ctx.localGpus;
  bool known = t && t->finalized() && !g.empty();
  for (int x : g) known = known && x >= 0 && x < t->numGpus();
  if (!known) return s;
  // Ring hops (consecutive local GPUs in ring order) and all pairs: the slowest of each.
  Path ringWorst, allWorst;
  auto worse = [](const Path& p, const Path& q) {
    return q.type == PathType::kNone || p.type > q.type || (p.type == q.type && p.bw < q.bw);
  };
  const int m = static_cast<int>(g.size());
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) {
      if (i == j) continue;
      Path p = gpuPath(*t, g[i], g[j]);
      if (worse(p, allWorst)) allWorst = p;
      if (j == (i + 1) % m && worse(p, ringWorst)) ringWorst = p;
    }
  if (m > 1) {
    s.ringClass = classOf(ringWorst.type);
    s.ringBw = ringWorst.bw;
    s.directClass = classOf(allWorst.type);
    s.directBw = allWorst.bw;
  }
  // Network share of each rank: its nearest NIC split among the local GPUs that use it.
  double interBw = 0;
  for (int x : g) {
    const int nic = nearestNic(*t, x);
    if (nic < 0) continue;
    int sharing = 0;
    for (int y : g) sharing += nearestNic(*t, y) == nic;
    double bw =
        std::min(t->nodes[t->nics[nic]].speedGbps / 8.0, gpuNicPath(*t, x, nic).bw) / sharing;
    interBw = interBw == 0 ? bw : std::min(interBw, bw);
  }
  s.interBw = interBw;
  return s;
}

Tuner::Tuner() {
  params_ = ModelParams::defaults();
  for (auto& byExec : logged_)
    for (auto& byColl : byExec)
      for (auto& l : byColl) l.store(0);
}

ModelBasis Tuner::basisOf(ExecutorKind e) {
  return e == ExecutorKind::kGpuDirect ? ModelBasis::kGpu : ModelBasis::kCpu;
}

const Capabilities& Tuner::capabilities(ExecutorKind e) const {
  const Capabilities* c = caps_[static_cast<int>(e)];
  return c ? *c : capabilitiesOf(e);
}

std::vector<std::pair<Algorithm, Protocol>> Tuner::candidates(ExecutorKind e, Collective c) const {
  std::vector<std::pair<Algorithm, Protocol>> out;
  const Capabilities& caps = capabilities(e);
  for (Algorithm a : caps.algorithms(c))
    for (Protocol p : caps.protocols(c, a)) out.push_back({a, p});
  return out;
}

Prediction Tuner::predict(ExecutorKind e, Collective c, Algorithm a, Protocol p,
                          size_t bytes) const {
  return tutti::predict(params_, shape(e), c, a, p, bytes);
}

void Tuner::buildTables(ExecutorKind e) {
  // Sizes 0, 1, 1.4, 2, 2.8, 4, ... 2^40: the model's choice at each grid point holds up to
  // the next one.
  std::vector<size_t> grid = {0};
  for (int i = 0; i <= 80; ++i) {
    size_t x = static_cast<size_t>(std::llround(std::pow(2.0, i / 2.0)));
    if (x > grid.back()) grid.push_back(x);
  }
  for (int ci = 0; ci < kCollectives; ++ci) {
    const Collective c = static_cast<Collective>(ci);
    auto cands = candidates(e, c);
    std::vector<TuneRange> table;
    if (cands.empty()) {
      tables_[static_cast<int>(e)][ci].clear();
      continue;
    }
    for (size_t gi = 0; gi < grid.size(); ++gi) {
      Algorithm bestA = cands[0].first;
      Protocol bestP = cands[0].second;
      double best = 1e300;
      for (auto [a, p] : cands) {
        Prediction pr = predict(e, c, a, p, grid[gi]);
        if (pr.valid && pr.us < best * (1 - 1e-9)) {
          best = pr.us;
          bestA = a;
          bestP = p;
        }
      }
      const size_t hi = gi + 1 < grid.size() ? grid[gi + 1] : kOpen;
      if (!table.empty() && table.back().algorithm == bestA && table.back().protocol == bestP)
        table.back().hi = hi;
      else
        table.push_back({grid[gi], hi, bestA, bestP, false});
    }
    tables_[static_cast<int>(e)][ci] = std::move(table);
  }
}

Result Tuner::init(const TunerContext& ctx) {
  ++generation_;
  params_ = ModelParams::defaults();
  const std::string spec = envString("TUTTI_TUNER_PARAMS");
  if (!spec.empty()) TUTTI_CHECK(params_.apply(spec), "TUTTI_TUNER_PARAMS=%s", spec.c_str());
  nranks_ = ctx.nranks;
  primary_ = ctx.primary;
  executors_ = ctx.executors;
  for (int e = 0; e < static_cast<int>(ExecutorKind::kCount); ++e) caps_[e] = ctx.capabilities[e];
  ringChannels_ =
      ctx.layout && ctx.layout->nranks == ctx.nranks ? std::max(1, ctx.layout->channels()) : 1;
  for (int e = 0; e < static_cast<int>(ExecutorKind::kCount); ++e) {
    for (auto& t : tables_[e]) t.clear();
    for (auto& byColl : logged_[e])
      for (auto& l : byColl) l.store(0);
  }
  for (int e = 0; e < static_cast<int>(ExecutorKind::kCount); ++e)
    shapes_[e] = modelShapeFor(ctx, basisOf(static_cast<ExecutorKind>(e)));
  if (ctx.deviceNodeStages) {
    ModelShape& proxy = shapes_[static_cast<int>(ExecutorKind::kGpuProxy)];
    const ModelShape gpu = modelShapeFor(ctx, ModelBasis::kGpu);
    proxy.deviceNodeStages = true;
    proxy.nodeClass = gpu.ringClass;
    proxy.nodeBw = gpu.ringBw;
  }
  for (ExecutorKind e : executors_) buildTables(e);
  clearOverrides();
  if (!ctx.applyEnvOverrides) return tuttiSuccess;
  std::string tune = envString("TUTTI_TUNE");
  if (!tune.empty()) TUTTI_CHECK(applyTuneString(tune), "TUTTI_TUNE=%s", tune.c_str());
  // TUTTI_* values must parse and exist; NCCL_* fallbacks use NCCL's syntax ("^NVLS",
  // "LL128"), so what does not map onto Tutti is ignored with a warning.
  std::string algo = envString("TUTTI_ALGO");
  if (!algo.empty()) {
    TUTTI_CHECK(applyAlgoString(algo), "TUTTI_ALGO=%s", algo.c_str());
  } else if (!(algo = envString("NCCL_ALGO")).empty() && applyAlgoString(algo) != tuttiSuccess) {
    for (auto& f : forced_) f = Algorithm::kAuto;
    TUTTI_WARN("ignoring NCCL_ALGO=%s (%s); set TUTTI_ALGO to force an algorithm", algo.c_str(),
               lastError().c_str());
  }
  std::string proto = envString("TUTTI_PROTO");
  if (!proto.empty()) {
    TUTTI_CHECK(applyProtoString(proto), "TUTTI_PROTO=%s", proto.c_str());
  } else if (!(proto = envString("NCCL_PROTO")).empty() &&
             applyProtoString(proto) != tuttiSuccess) {
    for (bool& f : protoForced_) f = false;
    TUTTI_WARN("ignoring NCCL_PROTO=%s (%s); set TUTTI_PROTO to force a protocol", proto.c_str(),
               lastError().c_str());
  }
  return tuttiSuccess;
}

Result Tuner::applyTuneString(const std::string& spec) {
  ++generation_;
  const Capabilities& main = capabilities(primary_);
  for (const std::string& part : split(spec, ';')) {
    size_t colon = part.find(':');
    Collective c;
    if (colon == std::string::npos || !parseCollective(part.substr(0, colon), &c))
      return setError(tuttiInvalidArgument, "'%s': expected <collective>:<lo>-<hi>:<algo>,...",
                      part.c_str());
    std::vector<TuneRange> ranges;
    for (const std::string& entry : split(part.substr(colon + 1), ',')) {
      TuneRange r{};
      TUTTI_TRY(parseRange(entry, &r));
      if (!main.has(c, r.algorithm, r.protocol))
        return setError(tuttiInvalidArgument,
                        "range '%s': the %s executor does not run %s with %s/%s (it runs: %s)",
                        entry.c_str(), executorKindName(primary_), collectiveName(c),
                        algorithmName(r.algorithm), protocolName(r.protocol),
                        main.describe(c).c_str());
      ranges.push_back(r);
    }
    // Ranges not covered keep the previous table's choice: the new ones go in front. Other
    // executors take the ranges they can run.
    for (ExecutorKind e : executors_) {
      auto& t = tables_[static_cast<int>(e)][static_cast<int>(c)];
      std::vector<TuneRange> merged;
      for (const TuneRange& r : ranges)
        if (capabilities(e).has(c, r.algorithm, r.protocol)) merged.push_back(r);
      merged.insert(merged.end(), t.begin(), t.end());
      t = std::move(merged);
    }
  }
  return tuttiSuccess;
}

Result Tuner::applyAlgoString(const std::string& spec) {
  ++generation_;
  algoSpec_ = spec;
  const Capabilities& main = capabilities(primary_);
  for (const std::string& part : split(spec, ',')) {
    size_t colon = part.find(':');
    Algorithm a;
    std::string algoText = colon == std::string::npos ? part : part.substr(colon + 1);
    if (!parseAlgorithm(algoText, &a))
      return setError(tuttiInvalidArgument, "unknown algorithm '%s'", algoText.c_str());
    if (a == Algorithm::kAuto) {  // "auto": the tuner decides (for one collective or all)
      Collective c;
      if (colon == std::string::npos)
        for (auto& f : forced_) f = Algorithm::kAuto;
      else if (parseCollective(part.substr(0, colon), &c))
        forced_[static_cast<int>(c)] = Algorithm::kAuto;
      else
        return setError(tuttiInvalidArgument, "unknown collective '%s'",
                        part.substr(0, colon).c_str());
      continue;
    }
    if (colon == std::string::npos) {
      // A global choice applies to the collectives the main executor runs it for.
      bool any = false;
      for (int i = 0; i < kCollectives; ++i)
        if (main.has(static_cast<Collective>(i), a)) {
          forced_[i] = a;
          any = true;
        }
      if (!any)
        return setError(tuttiInvalidArgument,
                        "the %s executor runs no collective with algorithm '%s'",
                        executorKindName(primary_), algorithmName(a));
    } else {
      Collective c;
      if (!parseCollective(part.substr(0, colon), &c))
        return setError(tuttiInvalidArgument, "unknown collective '%s'",
                        part.substr(0, colon).c_str());
      if (!main.has(c, a))
        return setError(tuttiInvalidArgument,
                        "the %s executor does not run %s with %s (it runs: %s)",
                        executorKindName(primary_), collectiveName(c), algorithmName(a),
                        main.describe(c).c_str());
      forced_[static_cast<int>(c)] = a;
    }
  }
  return tuttiSuccess;
}

void Tuner::clearOverrides() {
  ++generation_;
  for (auto& f : forced_) f = Algorithm::kAuto;
  for (bool& f : protoForced_) f = false;
  algoSpec_.clear();
  protoSpec_.clear();
}

Result Tuner::applyProtoString(const std::string& spec) {
  ++generation_;
  protoSpec_ = spec;
  const Capabilities& main = capabilities(primary_);
  auto offered = [&](Collective c, Protocol p) {
    for (Algorithm a : main.algorithms(c))
      if (main.has(c, a, p)) return true;
    return false;
  };
  for (const std::string& part : split(spec, ',')) {
    size_t colon = part.find(':');
    Protocol p;
    std::string text = colon == std::string::npos ? part : part.substr(colon + 1);
    if (!parseProtocol(text, &p))
      return setError(tuttiInvalidArgument, "unknown protocol '%s' (simple, ll)", text.c_str());
    if (colon == std::string::npos) {
      bool any = false;
      for (int i = 0; i < kCollectives; ++i)
        if (offered(static_cast<Collective>(i), p)) {
          forcedProto_[i] = p;
          protoForced_[i] = any = true;
        }
      if (!any)
        return setError(tuttiInvalidArgument,
                        "the %s executor has no collective with protocol '%s' (AllReduce: %s)",
                        executorKindName(primary_), protocolName(p),
                        main.describe(Collective::kAllReduce).c_str());
    } else {
      Collective c;
      if (!parseCollective(part.substr(0, colon), &c))
        return setError(tuttiInvalidArgument, "unknown collective '%s'",
                        part.substr(0, colon).c_str());
      if (!offered(c, p))
        return setError(tuttiInvalidArgument,
                        "the %s executor has no %s protocol for %s (it runs: %s)",
                        executorKindName(primary_), protocolName(p), collectiveName(c),
                        main.describe(c).c_str());
      forcedProto_[static_cast<int>(c)] = p;
      protoForced_[static_cast<int>(c)] = true;
    }
  }
  return tuttiSuccess;
}

TunerChoice Tuner::decide(ExecutorKind e, Collective c, size_t bytes, bool withPrediction) const {
  TunerChoice ch;
  const int ci = static_cast<int>(c), ei = static_cast<int>(e);
  const Capabilities& caps = capabilities(e);
  const auto& t = tables_[ei][ci];
  bool found = false;
  for (const TuneRange& r : t)
    if (bytes >= r.lo && bytes < r.hi) {
      ch.algorithm = r.algorithm;
      ch.protocol = r.protocol;
      ch.source = r.user ? "TUTTI_TUNE" : "model";
      found = true;
      break;
    }
  if (!found && !t.empty()) {
    ch.algorithm = t.back().algorithm;
    ch.protocol = t.back().protocol;
  }
  if (!found && t.empty()) {
    auto algos = caps.algorithms(c);
    if (algos.empty()) {
      ch.supported = false;
      ch.error =
          std::string("the ") + executorKindName(e) + " executor does not run " + collectiveName(c);
      return ch;
    }
    ch.algorithm = algos[0];
    ch.protocol = caps.protocols(c, algos[0])[0];
  }
  if (forced_[ci] != Algorithm::kAuto) {
    ch.algorithm = forced_[ci];
    ch.source = "TUTTI_ALGO";
    if (!caps.has(c, ch.algorithm)) {
      ch.supported = false;
      ch.error = std::string("TUTTI_ALGO=") + algoSpec_ + " forces " + algorithmName(ch.algorithm) +
                 " for " + collectiveName(c) + ", which the " + executorKindName(e) +
                 " executor running this call does not run (it runs: " + caps.describe(c) + ")";
      return ch;
    }
    if (!caps.has(c, ch.algorithm, ch.protocol)) ch.protocol = caps.protocols(c, ch.algorithm)[0];
  }
  if (protoForced_[ci]) {
    if (!caps.has(c, ch.algorithm, forcedProto_[ci])) {
      ch.supported = false;
      ch.error = std::string("TUTTI_PROTO=") + protoSpec_ + " forces " +
                 protocolName(forcedProto_[ci]) + " for " + collectiveName(c) + ", which the " +
                 executorKindName(e) + " executor does not run with " +
                 algorithmName(ch.algorithm) + " (it runs: " + caps.describe(c) + ")";
      return ch;
    }
    ch.protocol = forcedProto_[ci];
    if (forced_[ci] == Algorithm::kAuto) ch.source = "TUTTI_PROTO";
  }
  ch.channels = basisOf(e) == ModelBasis::kGpu ? ringChannels_ : 1;
  if (withPrediction) {
    Prediction pr = predict(e, c, ch.algorithm, ch.protocol, bytes);
    if (pr.valid) {
      ch.predictedUs = pr.us;
      ch.predictedBusBw = pr.busBw;
    }
  }
  return ch;
}

void Tuner::noteRan(ExecutorKind e, Collective c, size_t bytes, const TunerChoice& ran) const {
  if (logLevel() < LogLevel::kInfo) return;
  int bucket = 0;
  while (bucket < 63 && (size_t{1} << bucket) <= bytes) ++bucket;
  const uint64_t bit = uint64_t{1} << bucket;
  auto& logged = logged_[static_cast<int>(e)][static_cast<int>(c)][static_cast<int>(ran.algorithm)];
  if (logged.fetch_or(bit) & bit) return;
  const Prediction pr = predict(e, c, ran.algorithm, ran.protocol, bytes);
  if (pr.valid)
    TUTTI_INFO(
        "%s %zu bytes: ran %s/%s on the %s executor, %d channel(s) (%s; predicted %.1f us, "
        "busbw %.2f GB/s)",
        collectiveName(c), bytes, algorithmName(ran.algorithm), protocolName(ran.protocol),
        executorKindName(e), ran.channels, ran.source, pr.us, pr.busBw);
  else
    TUTTI_INFO("%s %zu bytes: ran %s/%s on the %s executor, %d channel(s) (%s)", collectiveName(c),
               bytes, algorithmName(ran.algorithm), protocolName(ran.protocol), executorKindName(e),
               ran.channels, ran.source);
}

std::string Tuner::describe(ExecutorKind e) const {
  std::ostringstream os;
  os << executorKindName(e) << " executor, " << shape(e).describe() << "\n";
  for (int i = 0; i < kCollectives; ++i) {
    const auto& t = tables_[static_cast<int>(e)][i];
    if (t.empty() && forced_[i] == Algorithm::kAuto) continue;
    os << "  " << collectiveName(static_cast<Collective>(i)) << ":";
    if (forced_[i] != Algorithm::kAuto) {
      os << " forced " << algorithmName(forced_[i]) << "\n";
      continue;
    }
    for (const TuneRange& r : t)
      os << " " << bytesText(r.lo) << "-" << bytesText(r.hi) << ":" << algorithmName(r.algorithm)
         << "/" << protocolName(r.protocol);
    os << "\n";
  }
  return os.str();
}

}  // namespace tutti
