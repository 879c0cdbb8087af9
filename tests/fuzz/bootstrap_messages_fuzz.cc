// Bootstrap messages from untrusted peers: the handshake (hello, challenge, proof), the rank
// announces, withdrawals and ring reports the rendezvous root takes, the root's table as a rank
// reads it, and the ring all-gather header. Input: a selector byte, then the message bytes.
#include <algorithm>

#include "bootstrap/bootstrap_messages.h"
#include "bootstrap/handshake.h"
#include "fuzz/fuzz_target.h"

using namespace tutti;

namespace {

const uint8_t kSecret[kSecretBytes] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// Server side: a hello of any bytes; when accepted, an honest client must accept the answer.
void fuzzHello(fuzz::Input& in) {
  uint8_t serverNonce[kNonceBytes], challenge[kChallengeBytes], proof[kProofBytes];
  in.bytes(serverNonce, sizeof(serverNonce));
  const std::string hello = in.rest();
  if (handshakeAnswerHello(kSecret, serverNonce, hello.data(), hello.size(), challenge) !=
      tuttiSuccess)
    return;
  FUZZ_CHECK(hello.size() == kHelloBytes, "hello of %zu bytes accepted", hello.size());
  const uint8_t* clientNonce = reinterpret_cast<const uint8_t*>(hello.data()) + 8;
  FUZZ_CHECK(handshakeAnswerChallenge(kSecret, clientNonce, challenge, sizeof(challenge), proof) ==
                 tuttiSuccess,
             "honest client refused the answer: %s", lastError().c_str());
  FUZZ_CHECK(handshakeCheckProof(kSecret, serverNonce, proof, sizeof(proof)) == tuttiSuccess,
             "honest proof refused");
}

// Client side: a challenge of any bytes must be refused unless it carries the server proof
// only the secret's holder can make; a proof of any bytes likewise.
void fuzzChallengeAndProof(fuzz::Input& in) {
  uint8_t clientNonce[kNonceBytes], serverNonce[kNonceBytes], proof[kProofBytes];
  in.bytes(clientNonce, sizeof(clientNonce));
  in.bytes(serverNonce, sizeof(serverNonce));
  const std::string msg = in.rest();
  uint8_t hello[kHelloBytes], honest[kChallengeBytes];
  handshakeMakeHello(clientNonce, hello);
  FUZZ_CHECK(
      handshakeAnswerHello(kSecret, serverNonce, hello, sizeof(hello), honest) == tuttiSuccess,
      "honest hello refused");
  if (handshakeAnswerChallenge(kSecret, clientNonce, msg.data(), msg.size(), proof) == tuttiSuccess)
    FUZZ_CHECK(msg.size() == kChallengeBytes && !memcmp(msg.data() + 24, honest + 24, 32),
               "forged challenge accepted");
  if (handshakeCheckProof(kSecret, serverNonce, msg.data(), msg.size()) == tuttiSuccess) {
    uint8_t expect[kProofBytes];
    FUZZ_CHECK(handshakeAnswerChallenge(kSecret, clientNonce, honest, sizeof(honest), expect) ==
                   tuttiSuccess,
               "honest challenge refused");
    // The client's proof covers the server nonce only, so the honest one must be this one.
    FUZZ_CHECK(msg.size() == kProofBytes && !memcmp(msg.data(), expect, kProofBytes),
               "forged proof accepted");
  }
  // Mismatched secrets never complete.
  uint8_t other[kSecretBytes];
  memcpy(other, kSecret, sizeof(other));
  const unsigned flip = msg.empty() ? 0 : static_cast<unsigned char>(msg[0]) % 255;
  other[msg.size() % kSecretBytes] ^= static_cast<uint8_t>(1 + flip);
  FUZZ_CHECK(
      handshakeAnswerChallenge(other, clientNonce, honest, sizeof(honest), proof) != tuttiSuccess,
      "a different secret was accepted");
}

// The root's admission of announces and withdrawals: a sequence of records of any size.
void fuzzAnnounces(fuzz::Input& in) {
  RendezvousTable table;
  while (in.left()) {
    // Mostly whole records. The kind byte: bit 6 asks for a withdrawal (an announce's bytes, then
    // the reason), bit 7 for a record of (kind & 0x3f) bytes instead of the whole size.
    const uint8_t kind = in.byte();
    const bool withdrawal = kind & 0x40;
    const size_t whole = sizeof(RankAnnounce) + (withdrawal ? kReasonBytes : 0);
    const size_t size = kind & 0x80 ? (kind & 0x3f) : whole;
    std::vector<uint8_t> rec(size);
    in.bytes(rec.data(), size);
    const int before = table.arrived(), withdrawnBefore = table.withdrawn();
    const std::string failureBefore = table.failure();
    int rank = -1;
    std::string reason;
    const bool taken = withdrawal ? table.withdraw(rec.data(), rec.size(), &rank, &reason)
                                  : table.admit(rec.data(), rec.size(), &rank, &reason);
    if (taken) {
      FUZZ_CHECK(size == whole, "record of %zu bytes taken", size);
      FUZZ_CHECK(rank >= 0 && rank < table.nranks(), "rank %d of %d", rank, table.nranks());
      FUZZ_CHECK(table.arrived() + table.withdrawn() == before + withdrawnBefore + 1,
                 "arrivals or withdrawals not counted");
      if (!withdrawal) {
        SocketAddress a;
        FUZZ_CHECK(unpackAddress(table.addresses()[rank], &a), "invalid address admitted");
      }
    } else {
      FUZZ_CHECK(
          !reason.empty() && table.arrived() == before && table.withdrawn() == withdrawnBefore,
          "refusal without a reason, or one that changed the table");
    }
    // A withdrawal's words reach logs and every rank's error: printable, bounded, the first kept.
    FUZZ_CHECK(table.failed() == !table.failure().empty(), "failure() and failed() disagree");
    FUZZ_CHECK(failureBefore.empty() || table.failure() == failureBefore, "first failure replaced");
    FUZZ_CHECK(table.failure().size() <= kReasonBytes + 40, "failure of %zu bytes",
               table.failure().size());
    for (char c : table.failure())
      FUZZ_CHECK(c >= 0x20 && c < 0x7f, "unprintable byte 0x%02x in the failure",
                 static_cast<unsigned char>(c));
    FUZZ_CHECK(table.arrived() + table.withdrawn() <= std::max(0, table.nranks()),
               "%d arrived and %d withdrew of %d", table.arrived(), table.withdrawn(),
               table.nranks());
    FUZZ_CHECK(!table.complete() || !table.failed(), "complete although a rank withdrew");
    if (table.settled()) break;
  }
}

// The rank's reading of the root's answer and of ring headers.
void fuzzTableAndRing(fuzz::Input& in) {
  const int rank = in.value<int16_t>(), nranks = in.value<int16_t>();
  const uint32_t seq = in.value<uint32_t>();
  const uint64_t bytes = in.value<uint64_t>();
  const std::string msg = in.rest();
  const size_t headerBytes = std::min(msg.size(), sizeof(TableHeader));
  if (checkTableHeader(msg.data(), headerBytes, rank, nranks) != tuttiSuccess) {
    // The root's reason is quoted into this rank's error: printable only.
    for (char c : lastError())
      FUZZ_CHECK(c >= 0x20 && c < 0x7f, "unprintable byte 0x%02x in the error",
                 static_cast<unsigned char>(c));
  } else {
    FUZZ_CHECK(headerBytes == sizeof(TableHeader), "short header accepted");
    TableHeader h;
    memcpy(&h, msg.data(), sizeof(h));
    FUZZ_CHECK(h.status == kTableOk, "status %d accepted as a table", h.status);
    std::vector<SocketAddress> table;
    if (unpackTable(msg.data() + headerBytes, msg.size() - headerBytes, nranks, &table) ==
        tuttiSuccess)
      FUZZ_CHECK(static_cast<int>(table.size()) == nranks, "table of %zu for %d ranks",
                 table.size(), nranks);
  }
  if (checkRingHeader(msg.data(), std::min(msg.size(), sizeof(RingHeader)), seq, bytes, 1) ==
      tuttiSuccess) {
    RingHeader h;
    memcpy(&h, msg.data(), sizeof(h));
    FUZZ_CHECK(h.magic == kRingMagic && h.sequence == seq && h.bytes == bytes, "bad header passed");
  }
}

// The root's reading of a rank's ring report: taken only whole, from the rank it names, and
// what it quotes is printable and bounded.
void fuzzRingReport(fuzz::Input& in) {
  const int rank = in.value<int16_t>();
  const std::string msg = in.rest();
  std::string failure = "stale", why;
  if (!readRingReport(msg.data(), msg.size(), rank, &failure, &why)) {
    FUZZ_CHECK(!why.empty(), "refusal without a reason");
    return;
  }
  FUZZ_CHECK(msg.size() == sizeof(RingReport), "report of %zu bytes taken", msg.size());
  RingReport r;
  memcpy(&r, msg.data(), sizeof(r));
  FUZZ_CHECK(r.magic == kRingReportMagic && r.rank == rank, "report for rank %d taken as %d's",
             r.rank, rank);
  FUZZ_CHECK(failure.empty() == (r.failed == 0), "failed=%d but failure '%s'", r.failed,
             failure.c_str());
  FUZZ_CHECK(failure.size() <= kReasonBytes + 64, "failure of %zu bytes", failure.size());
  for (char c : failure)
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, "unprintable byte 0x%02x in the failure",
               static_cast<unsigned char>(c));
}

}  // namespace

TUTTI_FUZZ_TARGET(bootstrap_messages) {
  fuzz::Input in(data, size);
  switch (in.byte() % 5) {
    case 0: fuzzHello(in); break;
    case 1: fuzzChallengeAndProof(in); break;
    case 2: fuzzAnnounces(in); break;
    case 3: fuzzTableAndRing(in); break;
    default: fuzzRingReport(in); break;
  }
  return 0;
}
