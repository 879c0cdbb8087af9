// The call signature: what every rank of a collective must agree on (collective, dtype, op,
// count, root, per-communicator sequence). Message headers carry it in full; the GPU direct
// path compares the compact 64-bit form through its flags.
#pragma once

#include <cstdint>
#include <string>

#include "algorithms/plan.h"
#include "core/coll_call.h"

namespace tutti {

struct CallSignature {
  static constexpr uint8_t kNoOp = 0xff;    // collectives without a reduction
  static constexpr uint8_t kPreMulSum = 5;  // every PreMulSum operator (tuttiNumOps)
  uint8_t collective = 0;
  uint8_t dtype = 0;
  uint8_t op = kNoOp;
  int32_t root = -1;  // Broadcast/Reduce; -1 otherwise
  uint64_t count = 0;
  uint32_t seq = 0;  // per-communicator count of collective calls (point-to-point excluded)
};

// The signature of a collective call (seq from call.seq). Point-to-point calls agree only
// pairwise and are fused in groups: they get the empty signature of Send and are checked by
// size (per-pair message sequence and bytes) alone.
CallSignature callSignatureOf(const CollCall& call);
CallSignature p2pSignature();

// "AllReduce(float32, sum, count 1024, seq 7)", "Broadcast(int8, root 2, count 5, seq 0)".
std::string describeCall(const CallSignature& s);

// Compact form for 64-bit flag words: bits 0-7 collective, 8-11 dtype, 12-15 op (15 = none),
// 16-31 root + 1 (mod 2^16), 32-63 a mix of count and seq. Equal calls give equal values;
// different calls differ except with probability 2^-32 in the (count, seq) half. The low 32
// bits decode with decodeCallSignatureLow for messages.
uint64_t packCallSignature(const CallSignature& s);
inline uint64_t callSignature64(const CollCall& call) {
  return packCallSignature(callSignatureOf(call));
}
// "AllReduce(float32, sum, root -1)" from the low 32 bits of a packed signature.
std::string describePackedSignature(uint64_t packed);

}  // namespace tutti
