// Fault injection for tests and drills: TUTTI_FAULT="rank=2,call=100,kind=kill|hang|close|
// delay:500ms|corrupt[,where=bootstrap|send|recv|proxy|gpu]", parsed once at the first
// communicator init. Off by default and free when off: every hook is one predictable branch on a
// global (faultArmed()).
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace tutti {

enum class FaultKind : uint8_t { kNone, kKill, kHang, kClose, kDelay, kCorrupt };
enum class FaultWhere : uint8_t { kSend, kRecv, kBootstrap, kProxy, kGpu };
const char* faultKindName(FaultKind k);
const char* faultWhereName(FaultWhere w);

struct FaultSpec {
  int rank = -1;     // -1: every rank
  int64_t call = 0;  // the communicator's collective sequence number (ignored at bootstrap)
  FaultKind kind = FaultKind::kNone;
  FaultWhere where = FaultWhere::kSend;
  int64_t delayMs = 0;  // kDelay
};

// Parses a TUTTI_FAULT value; a bad one is tuttiInvalidArgument naming the part at fault.
Result parseFaultSpec(const std::string& text, FaultSpec* out);

extern bool gFaultArmed;  // written once, before any hook can run
inline bool faultArmed() { return __builtin_expect(gFaultArmed, false); }

// Reads TUTTI_FAULT once per process; a bad value is an error of every init.
Result faultInit();

// The fault to inject now at `where` on `rank` in call `seq`, once per process; kNone otherwise.
// Only call when faultArmed(). *delayMs is set for kDelay.
FaultKind faultFire(FaultWhere where, int rank, int64_t seq, int64_t* delayMs);

// Acts on the kinds that need no transport: kill (SIGKILL to this process) and delay (sleeps).
// Returns false for the kinds the caller must act on (hang, close, corrupt).
bool faultActGeneric(FaultKind kind, int64_t delayMs);

}  // namespace tutti
