// Default algorithm tables and their env overrides.
#include "algorithms/tuner.h"

#include <cctype>
#include <cstdint>
#include <sstream>

#include "algorithms/builders.h"
#include "core/env.h"
#include "core/logging.h"

namespace tutti {
namespace {

constexpr size_t kOpen = SIZE_MAX;

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

}  // namespace

bool parseCollective(const std::string& name, Collective* out) {
  std::string n = lower(name);
  for (int i = 0; i < static_cast<int>(Collective::kCount); ++i)
    if (n == lower(collectiveName(static_cast<Collective>(i)))) {
      *out = static_cast<Collective>(i);
      return true;
    }
  return false;
}

Result Tuner::init(const TunerContext& ctx) {
  using C = Collective;
  using A = Algorithm;
  auto set = [&](C c, std::vector<TuneRange> t) { tables_[static_cast<int>(c)] = std::move(t); };
  // CPU executor defaults, from perf/results/cpu-vs-openmpi.md sweeps: direct exchanges win
  // while (n-1) copies of the message cost less than the ring's 2(n-1) message latencies.
  const size_t directAllReduce = ctx.nranks <= 2 ? (256u << 10) : (32u << 10);
  set(C::kAllReduce, {{0, directAllReduce, A::kDirect}, {directAllReduce, kOpen, A::kRing}});
  set(C::kAllGather, {{0, 64u << 10, A::kDirect}, {64u << 10, kOpen, A::kRing}});
  set(C::kReduceScatter, {{0, 64u << 10, A::kDirect}, {64u << 10, kOpen, A::kRing}});
  set(C::kAllToAll, {{0, kOpen, A::kPairwise}});
  set(C::kAllToAllv, {{0, kOpen, A::kPairwise}});
  set(C::kBroadcast, {{0, 256u << 10, A::kTree}, {256u << 10, kOpen, A::kChain}});
  set(C::kReduce, {{0, 256u << 10, A::kTree}, {256u << 10, kOpen, A::kChain}});
  set(C::kSend, {{0, kOpen, A::kP2p}});
  set(C::kRecv, {{0, kOpen, A::kP2p}});
  for (auto& f : forced_) f = A::kAuto;
  std::string tune = envString("TUTTI_TUNE");
  if (!tune.empty()) TUTTI_CHECK(applyTuneString(tune), "TUTTI_TUNE=%s", tune.c_str());
  std::string algo = envString("TUTTI_ALGO", envString("NCCL_ALGO"));
  if (!algo.empty()) TUTTI_CHECK(applyAlgoString(algo), "TUTTI_ALGO=%s", algo.c_str());
  return tuttiSuccess;
}

Result Tuner::applyTuneString(const std::string& spec) {
  for (const std::string& part : split(spec, ';')) {
    size_t colon = part.find(':');
    Collective c;
    if (colon == std::string::npos || !parseCollective(part.substr(0, colon), &c))
      return setError(tuttiInvalidArgument, "'%s': expected <collective>:<lo>-<hi>:<algo>,...",
                      part.c_str());
    std::vector<TuneRange> table;
    for (const std::string& entry : split(part.substr(colon + 1), ',')) {
      size_t c1 = entry.find(':'), dash = entry.find('-');
      if (c1 == std::string::npos || dash == std::string::npos || dash > c1)
        return setError(tuttiInvalidArgument, "range '%s': expected <lo>-<hi>:<algo>", entry.c_str());
      std::string loText = entry.substr(0, dash), hiText = entry.substr(dash + 1, c1 - dash - 1);
      uint64_t lo = 0, hi = kOpen;
      if (!parseBytes(loText, &lo) || (!hiText.empty() && !parseBytes(hiText, &hi)) || hi <= lo)
        return setError(tuttiInvalidArgument, "range '%s': bad byte bounds", entry.c_str());
      Algorithm a;
      if (!parseAlgorithm(entry.substr(c1 + 1), &a))
        return setError(tuttiInvalidArgument, "range '%s': unknown algorithm '%s'", entry.c_str(),
                        entry.substr(c1 + 1).c_str());
      table.push_back({lo, hi, a});
    }
    // Ranges not covered keep the previous table's choice: insert the new ones in front.
    auto& t = tables_[static_cast<int>(c)];
    table.insert(table.end(), t.begin(), t.end());
    t = std::move(table);
  }
  return tuttiSuccess;
}

Result Tuner::applyAlgoString(const std::string& spec) {
  for (const std::string& part : split(spec, ',')) {
    size_t colon = part.find(':');
    Algorithm a;
    std::string algoText = colon == std::string::npos ? part : part.substr(colon + 1);
    if (!parseAlgorithm(algoText, &a))
      return setError(tuttiInvalidArgument, "unknown algorithm '%s'", algoText.c_str());
    if (colon == std::string::npos) {
      // A global choice applies where the algorithm exists; others keep their table.
      for (int i = 0; i < static_cast<int>(Collective::kCount); ++i)
        if (cpuImplements(static_cast<Collective>(i), a)) forced_[i] = a;
    } else {
      Collective c;
      if (!parseCollective(part.substr(0, colon), &c))
        return setError(tuttiInvalidArgument, "unknown collective '%s'", part.substr(0, colon).c_str());
      forced_[static_cast<int>(c)] = a;
    }
  }
  return tuttiSuccess;
}

Algorithm Tuner::choose(Collective c, size_t bytes) const {
  Algorithm f = forced_[static_cast<int>(c)];
  if (f != Algorithm::kAuto) return f;
  for (const TuneRange& r : tables_[static_cast<int>(c)])
    if (bytes >= r.lo && bytes < r.hi) return r.algorithm;
  return tables_[static_cast<int>(c)].empty() ? Algorithm::kRing
                                              : tables_[static_cast<int>(c)].back().algorithm;
}

std::string Tuner::describe() const {
  std::ostringstream os;
  for (int i = 0; i < static_cast<int>(Collective::kCount); ++i) {
    os << collectiveName(static_cast<Collective>(i)) << ":";
    if (forced_[i] != Algorithm::kAuto) {
      os << " forced " << algorithmName(forced_[i]) << "\n";
      continue;
    }
    for (const TuneRange& r : tables_[i])
      os << " " << bytesText(r.lo) << "-" << bytesText(r.hi) << ":" << algorithmName(r.algorithm);
    os << "\n";
  }
  return os.str();
}

}  // namespace tutti
