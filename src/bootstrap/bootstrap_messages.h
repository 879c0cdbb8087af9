// The bootstrap's wire messages after the handshake (rank announce or withdrawal, root's
// table, ring header) and the checks that every received one passes before it is used. The checks
// are pure functions over bytes so that the fuzzers call them without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "bootstrap/packed_address.h"

namespace tutti {

constexpr uint32_t kAnnounceMagic = 0x5475524bu;    // "TuRK"
constexpr uint32_t kTableMagic = 0x54755442u;       // "TuTB"
constexpr uint32_t kRingMagic = 0x54755247u;        // "TuRG"
constexpr uint32_t kWithdrawMagic = 0x54755744u;    // "TuWD"
constexpr uint32_t kRingReportMagic = 0x54755252u;  // "TuRR"
constexpr int kMaxRanks = 1 << 20;
constexpr size_t kReasonBytes = 500;  // a refusal or withdrawal sentence, NUL-padded

// Rank -> root, after the handshake. With kWithdrawMagic instead of kAnnounceMagic the rank
// failed before it could join (its ringAddress is unused) and kReasonBytes of its error
// follow, so that the root fails the other ranks at once instead of at the timeout.
struct RankAnnounce {
  uint32_t magic;
  int32_t rank;
  int32_t nranks;
  PackedAddress ringAddress;  // where this rank accepts its ring predecessor
};

enum TableStatus : int32_t {
  kTableOk = 0,       // nranks PackedAddress entries follow
  kTableRefused = 1,  // this rank's announce was refused; `reason` says why
  kTableAborted = 2,  // another rank withdrew; `reason` names it and says why
};

// Root -> rank: header, then nranks PackedAddress entries when status is kTableOk.
struct TableHeader {
  uint32_t magic;
  int32_t status;
  int32_t nranks;
  char reason[kReasonBytes];
};

// Rank -> root, once this rank's ring connections are made or have failed, over the connection
// it joined on. The root answers the ranks still connecting with the first failure
// (kTableAborted), so that none waits for a predecessor that will not come.
struct RingReport {
  uint32_t magic;
  int32_t rank;
  int32_t failed;  // 0: connected both ways; 1: `reason` says what failed
  char reason[kReasonBytes];
};

// Rank -> next rank, before each bootstrap all-gather step's payload.
struct RingHeader {
  uint32_t magic;
  uint32_t sequence;
  uint64_t bytes;
};

// The root's view of one communicator forming: which ranks have announced themselves and
// where they listen, and which withdrew. The first valid announce or withdrawal fixes nranks.
class RendezvousTable {
 public:
  // Checks an announce (`bytes` as received) against what is known. Admitted: records the
  // rank, sets *rank and returns true. Refused: returns false with `reason` set (a sentence
  // to log and to send back to the peer); nothing changes.
  bool admit(const void* bytes, size_t size, int* rank, std::string* reason);
  // Checks a withdrawal: an announce with kWithdrawMagic, then kReasonBytes of the rank's
  // error (`size` covers both). Accepted: the rank counts as withdrawn, failure() names it
  // and quotes its error (printable characters only; the first withdrawal is kept).
  bool withdraw(const void* bytes, size_t size, int* rank, std::string* reason);
  // Every rank announced itself and none withdrew: the table can be sent.
  bool complete() const { return nranks_ > 0 && arrived_ == nranks_; }
  // Every rank announced itself or withdrew: nobody is left to tell.
  bool settled() const { return nranks_ > 0 && arrived_ + withdrawn_ == nranks_; }
  bool failed() const { return withdrawn_ > 0; }
  const std::string& failure() const { return failure_; }
  int nranks() const { return nranks_; }
  int arrived() const { return arrived_; }
  int withdrawn() const { return withdrawn_; }
  const std::vector<PackedAddress>& addresses() const { return table_; }

 private:
  enum class State : uint8_t { kAbsent, kJoined, kWithdrawn };
  // The checks an announce and a withdrawal share; false with `why` set when refused.
  bool check(const RankAnnounce& a, char* why, size_t whySize) const;
  void fixSize(int nranks);

  int nranks_ = -1;
  int arrived_ = 0;
  int withdrawn_ = 0;
  std::string failure_;
  std::vector<PackedAddress> table_;
  std::vector<State> state_;
};

// Root side: reads a ring report that came on rank `rank`'s connection. False with `why` set
// when it is malformed or names another rank; else true, with *failure "" when the rank
// connected, or "rank N could not connect the bootstrap ring: <its reason>" (printable
// characters only, bounded) when it failed.
bool readRingReport(const void* bytes, size_t size, int rank, std::string* failure,
                    std::string* why);

// Rank side: checks the root's table header for this rank. tuttiInvalidArgument when the
// root refused us (its reason in the message), tuttiRemoteError when another rank withdrew
// (the root's sentence naming it) or the bytes are malformed.
Result checkTableHeader(const void* bytes, size_t size, int rank, int nranks);
// Unpacks the table that follows the header: nranks addresses, each one valid.
Result unpackTable(const void* bytes, size_t size, int nranks, std::vector<SocketAddress>* out);
// Checks a ring header from rank `from` against the step this rank expects.
Result checkRingHeader(const void* bytes, size_t size, uint32_t sequence, uint64_t payloadBytes,
                       int from);

}  // namespace tutti
