// The bootstrap's wire messages after the handshake (rank announce, root's table, ring
// header) and the checks that every received one passes before it is used. The checks are
// pure functions over bytes so that the fuzzers call them without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "bootstrap/packed_address.h"

namespace tutti {

constexpr uint32_t kAnnounceMagic = 0x5475524bu;  // "TuRK"
constexpr uint32_t kTableMagic = 0x54755442u;     // "TuTB"
constexpr uint32_t kRingMagic = 0x54755247u;      // "TuRG"
constexpr int kMaxRanks = 1 << 20;

// Rank -> root, after the handshake.
struct RankAnnounce {
  uint32_t magic;
  int32_t rank;
  int32_t nranks;
  PackedAddress ringAddress;  // where this rank accepts its ring predecessor
};

// Root -> rank: header, then nranks PackedAddress entries when status == 0.
struct TableHeader {
  uint32_t magic;
  int32_t status;  // 0 ok; otherwise the announce was refused and `reason` says why
  int32_t nranks;
  char reason[116];
};

// Rank -> next rank, before each bootstrap all-gather step's payload.
struct RingHeader {
  uint32_t magic;
  uint32_t sequence;
  uint64_t bytes;
};

// The root's view of one communicator forming: which ranks have announced themselves and
// where they listen. The first valid announce fixes nranks.
class RendezvousTable {
 public:
  // Checks an announce (`bytes` as received) against what is known. Admitted: records the
  // rank, sets *rank and returns true. Refused: returns false with `reason` set (a sentence
  // to log and to send back to the peer); nothing changes.
  bool admit(const void* bytes, size_t size, int* rank, std::string* reason);
  bool complete() const { return nranks_ > 0 && arrived_ == nranks_; }
  int nranks() const { return nranks_; }
  int arrived() const { return arrived_; }
  const std::vector<PackedAddress>& addresses() const { return table_; }

 private:
  int nranks_ = -1;
  int arrived_ = 0;
  std::vector<PackedAddress> table_;
  std::vector<bool> joined_;
};

// Rank side: checks the root's table header for this rank. tuttiInvalidArgument when the
// root refused us (its reason in the message), tuttiRemoteError when the bytes are malformed.
Result checkTableHeader(const void* bytes, size_t size, int rank, int nranks);
// Unpacks the table that follows the header: nranks addresses, each one valid.
Result unpackTable(const void* bytes, size_t size, int nranks, std::vector<SocketAddress>* out);
// Checks a ring header from rank `from` against the step this rank expects.
Result checkRingHeader(const void* bytes, size_t size, uint32_t sequence, uint64_t payloadBytes,
                       int from);

}  // namespace tutti
