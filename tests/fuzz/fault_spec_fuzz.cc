// TUTTI_FAULT values: parseFaultSpec never crashes, accepts only well-formed specs, and what it
// accepts prints back to a spec that parses to the same fault.
#include <string>

#include "base/fault_injection.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

namespace {

std::string print(const FaultSpec& s) {
  std::string out = "rank=" + (s.rank < 0 ? std::string("*") : std::to_string(s.rank));
  out += ",call=" + std::to_string(s.call) + ",kind=" + faultKindName(s.kind);
  if (s.kind == FaultKind::kDelay) out += ":" + std::to_string(s.delayMs) + "ms";
  out += std::string(",where=") + faultWhereName(s.where);
  return out;
}

}  // namespace

TUTTI_FUZZ_TARGET(fault_spec) {
  fuzz::Input in(data, size);
  const std::string text = in.rest();
  FaultSpec s;
  clearError();
  const Result r = parseFaultSpec(text, &s);
  if (r != tuttiSuccess) {
    FUZZ_CHECK(r == tuttiInvalidArgument, "result %d", r);
    FUZZ_CHECK(lastError().find("TUTTI_FAULT") != std::string::npos, "'%s'", lastError().c_str());
    return 0;
  }
  FUZZ_CHECK(s.kind != FaultKind::kNone, "'%s' parsed without a kind", text.c_str());
  FUZZ_CHECK(s.call >= 0 && s.call <= UINT32_MAX, "call %lld", (long long)s.call);
  FUZZ_CHECK(s.delayMs >= 0 && s.delayMs <= 3600 * 1000, "delay %lld", (long long)s.delayMs);
  FUZZ_CHECK(s.kind == FaultKind::kDelay || s.delayMs == 0, "a delay on kind %s",
             faultKindName(s.kind));
  FaultSpec again;
  const std::string printed = print(s);
  FUZZ_CHECK(parseFaultSpec(printed, &again) == tuttiSuccess, "'%s' does not parse: %s",
             printed.c_str(), lastError().c_str());
  FUZZ_CHECK(again.rank == s.rank && again.call == s.call && again.kind == s.kind &&
                 again.where == s.where && again.delayMs == s.delayMs,
             "'%s' -> '%s' changed", text.c_str(), printed.c_str());
  return 0;
}
