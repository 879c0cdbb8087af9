// Call signatures: extraction from calls, names for error messages, the packed 64-bit form.
#include "core/call_signature.h"

#include <cstdio>

#include "kernels/dtype_dispatch.h"

namespace tutti {
namespace {

bool reduces(Collective c) {
  return c == Collective::kAllReduce || c == Collective::kReduceScatter || c == Collective::kReduce;
}

bool rooted(Collective c) { return c == Collective::kBroadcast || c == Collective::kReduce; }

const char* collName(uint8_t c) {
  return c < static_cast<uint8_t>(Collective::kCount) ? collectiveName(static_cast<Collective>(c))
                                                      : "unknown-collective";
}

const char* opText(uint8_t op) {
  if (op == CallSignature::kPreMulSum) return "premulsum";
  return op < tuttiNumOps ? opName(static_cast<tuttiRedOp_t>(op)) : "unknown-op";
}

}  // namespace

CallSignature callSignatureOf(const CollCall& call) {
  if (call.collective == Collective::kSend || call.collective == Collective::kRecv)
    return p2pSignature();
  CallSignature s;
  s.collective = static_cast<uint8_t>(call.collective);
  s.dtype = static_cast<uint8_t>(call.dtype);
  if (reduces(call.collective))
    s.op = call.op < tuttiNumOps ? static_cast<uint8_t>(call.op) : CallSignature::kPreMulSum;
  s.root = rooted(call.collective) ? call.root : -1;
  s.count = call.count;
  s.seq = call.seq;
  return s;
}

CallSignature p2pSignature() {
  CallSignature s;
  s.collective = static_cast<uint8_t>(Collective::kSend);
  s.dtype = static_cast<uint8_t>(tuttiUint8);
  return s;
}

std::string describeCall(const CallSignature& s) {
  if (s.collective == static_cast<uint8_t>(Collective::kSend) && s.count == 0) return "Send/Recv";
  char buf[160];
  const char* dt = dtypeName(static_cast<tuttiDataType_t>(s.dtype));
  int n = snprintf(buf, sizeof(buf), "%s(%s", collName(s.collective), dt);
  if (s.op != CallSignature::kNoOp) n += snprintf(buf + n, sizeof(buf) - n, ", %s", opText(s.op));
  if (s.root >= 0) n += snprintf(buf + n, sizeof(buf) - n, ", root %d", s.root);
  snprintf(buf + n, sizeof(buf) - n, ", count %llu, seq %u)", (unsigned long long)s.count, s.seq);
  return buf;
}

uint64_t packCallSignature(const CallSignature& s) {
  const uint64_t op = s.op == CallSignature::kNoOp ? 15 : (s.op & 15);
  uint64_t low =
      s.collective | (uint64_t(s.dtype & 15) << 8) | (op << 12) |
      (uint64_t(uint16_t(uint32_t(s.root) + 1u)) << 16);  // unsigned: no overflow at INT32_MAX
  // splitmix64 finaliser over (count, seq): every input bit reaches every output bit.
  uint64_t x = s.count * 0x9e3779b97f4a7c15ull ^ (uint64_t(s.seq) << 32 | s.seq);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  return low | (x & 0xffffffff00000000ull);
}

std::string describePackedSignature(uint64_t packed) {
  const uint8_t coll = packed & 0xff;
  const auto dt = static_cast<tuttiDataType_t>((packed >> 8) & 15);
  const uint8_t op = (packed >> 12) & 15;
  const int root = int((packed >> 16) & 0xffff) - 1;
  char buf[128];
  int n = snprintf(buf, sizeof(buf), "%s(%s", collName(coll), dtypeName(dt));
  if (op != 15) n += snprintf(buf + n, sizeof(buf) - n, ", %s", opText(op));
  if (root >= 0) n += snprintf(buf + n, sizeof(buf) - n, ", root %d", root);
  snprintf(buf + n, sizeof(buf) - n, ")");
  return buf;
}

}  // namespace tutti
