// A rank's bootstrap: rendezvous with the root, then an authenticated TCP ring to the other
// ranks used for the small exchanges of init (peer info, buffer handles) and barriers.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "bootstrap/socket.h"
#include "bootstrap/unique_id.h"

namespace tutti {

struct BootstrapOptions {
  int timeoutMs;                   // bound on every wait
  const std::atomic<bool>* abort;  // set by tuttiCommAbort
};

class Bootstrap {
 public:
  static Result create(const tuttiUniqueId& id, int rank, int nranks,
                       const BootstrapOptions& options, std::unique_ptr<Bootstrap>* out);

  // `data` holds nranks slots of `bytesPerRank`; this rank's slot is filled on entry, every
  // slot on return. Each message is checked for size and sequence before it is accepted.
  Result allGather(void* data, size_t bytesPerRank);
  Result barrier();
  // Closes the ring so that peers blocked on us fail at once instead of timing out.
  void shutdown();
  // Non-blocking: true when a ring neighbour's connection has closed (the process is gone).
  bool neighbourClosed();

  int rank() const { return rank_; }
  int nranks() const { return nranks_; }
  const SocketAddress& ringAddress() const { return ringAddress_; }

 private:
  Bootstrap(int rank, int nranks, const BootstrapOptions& options)
      : rank_(rank), nranks_(nranks), options_(options) {}
  Result rendezvous(const UniqueIdData& id, std::vector<SocketAddress>* table);
  Result connectRing(const UniqueIdData& id, const std::vector<SocketAddress>& table);
  Deadline deadline() const { return Deadline::afterMs(options_.timeoutMs); }

  int rank_;
  int nranks_;
  BootstrapOptions options_;
  Socket listener_, next_, prev_;
  SocketAddress ringAddress_;
  uint32_t sequence_ = 0;
};

}  // namespace tutti
