// A rank's bootstrap: rendezvous with the root, then an authenticated TCP ring to the other
// ranks used for the small exchanges of init (peer info, buffer handles) and barriers.
#pragma once

#include <atomic>
#include <memory>
#include <string>
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
  // Joins the communicator: rendezvous, then the ring. A rank that fails before it has
  // announced itself (no usable interface, say) withdraws, so that the others fail too.
  static Result create(const tuttiUniqueId& id, int rank, int nranks,
                       const BootstrapOptions& options, std::unique_ptr<Bootstrap>* out);
  // For a rank that failed before create(): tells the rendezvous root that it will not join and
  // why (`why`, its error), so that every other rank's init fails at once with that reason
  // instead of at the timeout. Best effort, bounded by the timeout; this thread's error is left
  // as it was. Rank 0 starts the root first when the id says it hosts it.
  static void withdraw(const tuttiUniqueId& id, int rank, int nranks,
                       const BootstrapOptions& options, const std::string& why);

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
  Result listenForRing();
  static void sendWithdrawal(const UniqueIdData& id, int rank, int nranks,
                             const BootstrapOptions& options, const std::string& why);
  Result rendezvous(const UniqueIdData& id, std::vector<SocketAddress>* table);
  Result connectRing(const UniqueIdData& id, const std::vector<SocketAddress>& table);
  // Serves the ring listener until rank `prev` has proved the secret and said who it is (then
  // prev_ holds it), or `dl` passes, or the communicator is aborted, or `stop` is set.
  Result acceptPredecessor(const UniqueIdData& id, int prev, Deadline dl,
                           const std::atomic<bool>& stop);
  Deadline deadline() const { return Deadline::afterMs(options_.timeoutMs); }

  int rank_;
  int nranks_;
  BootstrapOptions options_;
  // The root's word that a rank failed to connect the ring, when it comes within `waitMs`; ""
  // otherwise. Closes the connection once the root has spoken or left.
  std::string rootFailure(int waitMs);
  // Tells the root, over the connection this rank joined on, that the ring is connected
  // (`failure` empty) or why it is not.
  void reportRing(const std::string& failure);

  Socket listener_, next_, prev_;
  Socket root_;  // from the rendezvous until the ring is connected (or not)
  SocketAddress ringAddress_;
  uint32_t sequence_ = 0;
};

}  // namespace tutti
