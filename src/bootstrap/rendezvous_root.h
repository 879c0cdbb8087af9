// The rendezvous root: a thread that accepts every rank of one communicator, checks that each
// proves the secret, collects their ring addresses, and sends every rank the full table.
#pragma once

#include <cstdint>

#include "bootstrap/packed_address.h"
#include "bootstrap/socket.h"
#include "bootstrap/unique_id.h"

namespace tutti {

constexpr uint32_t kAnnounceMagic = 0x5475524bu;  // "TuRK"
constexpr uint32_t kTableMagic = 0x54755442u;     // "TuTB"
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

// Starts a detached root thread serving `listener` until every rank has checked in or
// `timeoutMs` has passed. Rejections (wrong secret, bad rank) are logged and survived.
void startRendezvousRoot(Socket listener, const uint8_t secret[kSecretBytes], int timeoutMs);

}  // namespace tutti
