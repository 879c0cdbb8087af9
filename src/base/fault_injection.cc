// TUTTI_FAULT parsing and firing.
#include "base/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/env.h"
#include "base/logging.h"

namespace tutti {

bool gFaultArmed = false;

namespace {

FaultSpec gSpec;
std::atomic<bool> gFired{false};
Result gInitResult = tuttiSuccess;
std::string gInitError;

bool parseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

// "500ms", "2s", "750" (milliseconds).
bool parseDelay(const std::string& s, int64_t* ms) {
  std::string num = s;
  int64_t scale = 1;
  if (num.size() > 2 && num.compare(num.size() - 2, 2, "ms") == 0) {
    num.resize(num.size() - 2);
  } else if (num.size() > 1 && num.back() == 's') {
    num.pop_back();
    scale = 1000;
  }
  int64_t v;
  if (!parseInt(num, 0, 3600 * 1000, &v)) return false;
  *ms = v * scale;
  return *ms <= 3600 * 1000;
}

}  // namespace

const char* faultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kKill: return "kill";
    case FaultKind::kHang: return "hang";
    case FaultKind::kClose: return "close";
    case FaultKind::kDelay: return "delay";
    case FaultKind::kCorrupt: return "corrupt";
    default: return "none";
  }
}

const char* faultWhereName(FaultWhere w) {
  switch (w) {
    case FaultWhere::kSend: return "send";
    case FaultWhere::kRecv: return "recv";
    case FaultWhere::kBootstrap: return "bootstrap";
    case FaultWhere::kProxy: return "proxy";
    default: return "gpu";
  }
}

Result parseFaultSpec(const std::string& text, FaultSpec* out) {
  FaultSpec s;
  bool haveKind = false;
  std::string seenRank, seenCall, seenKind, seenWhere;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) {
      if (end == text.size()) break;
      return setError(tuttiInvalidArgument, "TUTTI_FAULT=\"%s\": empty item", text.c_str());
    }
    const size_t eq = item.find('=');
    if (eq == std::string::npos)
      return setError(tuttiInvalidArgument, "TUTTI_FAULT: \"%s\" is not key=value", item.c_str());
    const std::string key = item.substr(0, eq), val = item.substr(eq + 1);
    // Each key once: "kind=delay:5ms,kind=close" would otherwise keep a stray delay.
    std::string* seen = key == "rank"    ? &seenRank
                        : key == "call"  ? &seenCall
                        : key == "kind"  ? &seenKind
                        : key == "where" ? &seenWhere
                                         : nullptr;
    if (seen && !seen->empty())
      return setError(tuttiInvalidArgument, "TUTTI_FAULT: %s given twice (%s and %s)", key.c_str(),
                      seen->c_str(), val.c_str());
    if (seen) *seen = val.empty() ? "(empty)" : val;
    int64_t v;
    if (key == "rank") {
      if (val == "*" || val == "any") {
        s.rank = -1;
      } else {
        if (!parseInt(val, 0, 1 << 24, &v))
          return setError(tuttiInvalidArgument, "TUTTI_FAULT: rank \"%s\" is not a rank",
                          val.c_str());
        s.rank = static_cast<int>(v);
      }
    } else if (key == "call") {
      if (!parseInt(val, 0, UINT32_MAX, &v))
        return setError(tuttiInvalidArgument,
                        "TUTTI_FAULT: call \"%s\" is not a call number (0..2^32-1)", val.c_str());
      s.call = v;
    } else if (key == "kind") {
      haveKind = true;
      if (val == "kill") {
        s.kind = FaultKind::kKill;
      } else if (val == "hang") {
        s.kind = FaultKind::kHang;
      } else if (val == "close") {
        s.kind = FaultKind::kClose;
      } else if (val == "corrupt") {
        s.kind = FaultKind::kCorrupt;
      } else if (val.compare(0, 6, "delay:") == 0 && parseDelay(val.substr(6), &s.delayMs)) {
        s.kind = FaultKind::kDelay;
      } else {
        return setError(tuttiInvalidArgument,
                        "TUTTI_FAULT: kind \"%s\" is not kill, hang, close, delay:<ms>ms or "
                        "corrupt",
                        val.c_str());
      }
    } else if (key == "where") {
      if (val == "send") {
        s.where = FaultWhere::kSend;
      } else if (val == "recv") {
        s.where = FaultWhere::kRecv;
      } else if (val == "bootstrap") {
        s.where = FaultWhere::kBootstrap;
      } else if (val == "proxy") {
        s.where = FaultWhere::kProxy;
      } else if (val == "gpu") {
        s.where = FaultWhere::kGpu;
      } else {
        return setError(tuttiInvalidArgument,
                        "TUTTI_FAULT: where \"%s\" is not bootstrap, send, recv, proxy or gpu",
                        val.c_str());
      }
    } else {
      return setError(tuttiInvalidArgument,
                      "TUTTI_FAULT: unknown key \"%s\" (rank, call, kind, where)", key.c_str());
    }
  }
  if (!haveKind)
    return setError(tuttiInvalidArgument, "TUTTI_FAULT=\"%s\" names no kind", text.c_str());
  if (s.kind == FaultKind::kCorrupt &&
      (s.where == FaultWhere::kBootstrap || s.where == FaultWhere::kGpu))
    return setError(tuttiInvalidArgument,
                    "TUTTI_FAULT: corrupt applies to send, recv and proxy, not %s",
                    faultWhereName(s.where));
  *out = s;
  return tuttiSuccess;
}

Result faultInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string text = envString("TUTTI_FAULT", "");
    if (text.empty()) return;
    gInitResult = parseFaultSpec(text, &gSpec);
    if (gInitResult != tuttiSuccess) {
      gInitError = lastError();
      return;
    }
    TUTTI_WARN("fault injection armed: %s at %s of call %lld on rank %d", faultKindName(gSpec.kind),
               faultWhereName(gSpec.where), (long long)gSpec.call, gSpec.rank);
    gFaultArmed = true;
  });
  if (gInitResult != tuttiSuccess) return setError(gInitResult, "%s", gInitError.c_str());
  return tuttiSuccess;
}

FaultKind faultFire(FaultWhere where, int rank, int64_t seq, int64_t* delayMs) {
  if (where != gSpec.where || (gSpec.rank >= 0 && rank != gSpec.rank)) return FaultKind::kNone;
  if (where != FaultWhere::kBootstrap && seq != gSpec.call) return FaultKind::kNone;
  if (gFired.exchange(true)) return FaultKind::kNone;
  TUTTI_WARN("rank %d: injecting fault %s at %s of call %lld (TUTTI_FAULT)", rank,
             faultKindName(gSpec.kind), faultWhereName(where), (long long)seq);
  *delayMs = gSpec.delayMs;
  return gSpec.kind;
}

bool faultActGeneric(FaultKind kind, int64_t delayMs) {
  switch (kind) {
    case FaultKind::kKill:
      kill(getpid(), SIGKILL);
      for (;;) pause();  // SIGKILL cannot be caught: this line is never passed
    case FaultKind::kDelay:
      std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
      return true;
    case FaultKind::kNone: return true;
    default: return false;
  }
}

}  // namespace tutti
