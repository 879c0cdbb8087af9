// Validation of the bootstrap's wire messages: every field from a peer is range-checked.
#include "bootstrap/bootstrap_messages.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace tutti {
namespace {

// A peer's words go into our logs and every rank's error: the printable bytes of a
// kReasonBytes field up to its first NUL, nothing else.
std::string quoteReason(const char* text) {
  std::string quoted;
  for (size_t i = 0; i < kReasonBytes && text[i]; ++i)
    quoted += text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
  return quoted.empty() ? "no reason given" : quoted;
}

}  // namespace

bool RendezvousTable::check(const RankAnnounce& a, char* why, size_t whySize) const {
  if (a.nranks <= 0 || a.nranks > kMaxRanks)
    snprintf(why, whySize, "nranks %d is out of range 1..%d", a.nranks, kMaxRanks);
  else if (nranks_ > 0 && a.nranks != nranks_)
    snprintf(why, whySize, "rank %d says nranks=%d but others said %d", a.rank, a.nranks, nranks_);
  else if (a.rank < 0 || a.rank >= a.nranks)
    snprintf(why, whySize, "rank %d is out of range 0..%d", a.rank, a.nranks - 1);
  else if (nranks_ > 0 && state_[a.rank] != State::kAbsent)
    snprintf(why, whySize, "rank %d %s", a.rank,
             state_[a.rank] == State::kJoined ? "joined twice" : "already withdrew");
  else
    return true;
  return false;
}

void RendezvousTable::fixSize(int nranks) {
  if (nranks_ > 0) return;
  nranks_ = nranks;
  table_.assign(nranks_, PackedAddress{});
  state_.assign(nranks_, State::kAbsent);
}

bool RendezvousTable::admit(const void* bytes, size_t size, int* rank, std::string* reason) {
  char why[160];
  auto refuse = [&] {
    *reason = why;
    return false;
  };
  RankAnnounce a{};
  if (size != sizeof(a)) {
    snprintf(why, sizeof(why), "announce of %zu bytes, expected %zu", size, sizeof(a));
    return refuse();
  }
  memcpy(&a, bytes, sizeof(a));
  SocketAddress ring;
  if (a.magic != kAnnounceMagic)
    snprintf(why, sizeof(why), "malformed announce (bad magic 0x%08x)", a.magic);
  else if (!check(a, why, sizeof(why)))
    return refuse();
  else if (!unpackAddress(a.ringAddress, &ring))
    snprintf(why, sizeof(why), "rank %d sent an invalid address (family %d)", a.rank,
             a.ringAddress.family);
  else
    why[0] = '\0';
  if (why[0]) return refuse();
  fixSize(a.nranks);
  table_[a.rank] = a.ringAddress;
  state_[a.rank] = State::kJoined;
  ++arrived_;
  *rank = a.rank;
  return true;
}

bool RendezvousTable::withdraw(const void* bytes, size_t size, int* rank, std::string* reason) {
  char why[160];
  auto refuse = [&] {
    *reason = why;
    return false;
  };
  RankAnnounce a{};
  if (size != sizeof(a) + kReasonBytes) {
    snprintf(why, sizeof(why), "withdrawal of %zu bytes, expected %zu", size,
             sizeof(a) + kReasonBytes);
    return refuse();
  }
  memcpy(&a, bytes, sizeof(a));
  if (a.magic != kWithdrawMagic) {
    snprintf(why, sizeof(why), "malformed withdrawal (bad magic 0x%08x)", a.magic);
    return refuse();
  }
  if (!check(a, why, sizeof(why))) return refuse();
  fixSize(a.nranks);
  state_[a.rank] = State::kWithdrawn;
  ++withdrawn_;
  *rank = a.rank;
  if (failure_.empty())
    failure_ = "rank " + std::to_string(a.rank) +
               " could not join: " + quoteReason(static_cast<const char*>(bytes) + sizeof(a));
  return true;
}

bool readRingReport(const void* bytes, size_t size, int rank, std::string* failure,
                    std::string* why) {
  RingReport r;
  if (size != sizeof(r)) {
    *why =
        "ring report of " + std::to_string(size) + " bytes, expected " + std::to_string(sizeof(r));
    return false;
  }
  memcpy(&r, bytes, sizeof(r));
  if (r.magic != kRingReportMagic || r.rank != rank || (r.failed != 0 && r.failed != 1)) {
    *why = "malformed ring report on rank " + std::to_string(rank) + "'s connection";
    return false;
  }
  failure->clear();
  if (r.failed)
    *failure = "rank " + std::to_string(rank) +
               " could not connect the bootstrap ring: " + quoteReason(r.reason);
  return true;
}

Result checkTableHeader(const void* bytes, size_t size, int rank, int nranks) {
  TableHeader h;
  if (size != sizeof(h))
    return setError(tuttiRemoteError, "root sent a table header of %zu bytes, expected %zu", size,
                    sizeof(h));
  memcpy(&h, bytes, sizeof(h));
  if (h.magic != kTableMagic) return setError(tuttiRemoteError, "root sent a malformed table");
  if (h.status != kTableOk) {
    h.reason[sizeof(h.reason) - 1] = '\0';
    for (char& c : h.reason)
      if (c && (c < 0x20 || c >= 0x7f)) c = '?';
    if (h.status == kTableAborted) return setError(tuttiRemoteError, "%s", h.reason);
    return setError(tuttiInvalidArgument, "root refused rank %d: %s", rank, h.reason);
  }
  if (h.nranks != nranks)
    return setError(tuttiRemoteError, "root sent a table for %d ranks, expected %d", h.nranks,
                    nranks);
  return tuttiSuccess;
}

Result unpackTable(const void* bytes, size_t size, int nranks, std::vector<SocketAddress>* out) {
  if (nranks < 0 || size != static_cast<size_t>(nranks) * sizeof(PackedAddress))
    return setError(tuttiRemoteError, "root's table has %zu bytes, expected %d addresses", size,
                    nranks);
  out->assign(nranks, SocketAddress{});
  const char* p = static_cast<const char*>(bytes);
  for (int r = 0; r < nranks; ++r) {
    PackedAddress a;
    memcpy(&a, p + r * sizeof(PackedAddress), sizeof(a));
    if (!unpackAddress(a, &(*out)[r]))
      return setError(tuttiRemoteError, "root sent an invalid address for rank %d", r);
  }
  return tuttiSuccess;
}

Result checkRingHeader(const void* bytes, size_t size, uint32_t sequence, uint64_t payloadBytes,
                       int from) {
  RingHeader in;
  if (size != sizeof(in))
    return setError(tuttiRemoteError, "bootstrap: rank %d sent a header of %zu bytes", from, size);
  memcpy(&in, bytes, sizeof(in));
  if (in.magic != kRingMagic || in.sequence != sequence || in.bytes != payloadBytes)
    return setError(tuttiRemoteError,
                    "bootstrap: rank %d sent message #%u of %llu bytes, expected #%u of %llu "
                    "(ranks called different operations?)",
                    from, in.sequence, (unsigned long long)in.bytes, sequence,
                    (unsigned long long)payloadBytes);
  return tuttiSuccess;
}

}  // namespace tutti
