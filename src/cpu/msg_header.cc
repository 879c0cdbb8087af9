// Message header checks: the fast path is four word compares; the slow path names the calls.
#include "cpu/msg_header.h"

#include <cstring>
#include <string>

namespace tutti {
namespace {

Result mismatch(const MsgHeader& h, const MsgExpectation& want) {
  if (h.magic != kMsgMagic || h.seq != want.seq)
    return setError(tuttiRemoteError,
                    "rank %d sent a corrupt message header (magic 0x%x, sequence %u, expected %u)",
                    want.peer, h.magic, h.seq, want.seq);
  CallSignature theirs;
  theirs.collective = h.collective;
  theirs.dtype = h.dtype;
  theirs.op = h.op;
  theirs.root = h.root;
  theirs.count = h.count;
  theirs.seq = h.callSeq;
  const std::string a = describeCall(theirs), b = describeCall(want.call);
  if (a != b)
    return setError(tuttiRemoteError,
                    "call mismatch: rank %d called %s but rank %d called %s (every rank must "
                    "make the same collective calls in the same order)",
                    want.peer, a.c_str(), want.self, b.c_str());
  return setError(tuttiRemoteError,
                  "rank %d sent %llu bytes where rank %d expected %llu in %s: the ranks run "
                  "different plans (TUTTI_ALGO or tuner settings differ?)",
                  want.peer, (unsigned long long)h.bytes, want.self, (unsigned long long)want.bytes,
                  b.c_str());
}

}  // namespace

Result checkMsgHeader(const void* raw, const MsgExpectation& want) {
  uint64_t got[4], exp[4];
  memcpy(got, raw, sizeof(got));
  const MsgHeader e = makeMsgHeader(want.call, want.seq, want.bytes);
  memcpy(exp, &e, sizeof(exp));
  if (((got[0] ^ exp[0]) | (got[1] ^ exp[1]) | (got[2] ^ exp[2]) | (got[3] ^ exp[3])) == 0)
    return tuttiSuccess;
  MsgHeader h;
  memcpy(&h, raw, sizeof(h));
  return mismatch(h, want);
}

}  // namespace tutti
