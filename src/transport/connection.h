// The transport interface: one bidirectional byte stream per peer, read and written in place.
// Every transport (shm, socket; later GPU P2P staging, UCX, ibverbs) implements these calls,
// none of which blocks: the executor drives progress and owns every wait and its deadline.
#pragma once

#include <cstddef>

#include "base/error.h"

namespace tutti {

class Connection {
 public:
  virtual ~Connection() = default;

  // Sender side: a contiguous writable region of the stream (0 bytes when out of credits).
  virtual Result sendSpace(void** ptr, size_t* bytes) = 0;
  // Publishes `bytes` written into the last sendSpace region.
  virtual Result sendCommit(size_t bytes) = 0;
  // Receiver side: a contiguous readable region (0 bytes when nothing has arrived).
  virtual Result recvPeek(const void** ptr, size_t* bytes) = 0;
  // Returns `bytes` of the peeked region to the sender as credits.
  virtual Result recvRelease(size_t bytes) = 0;
  // Moves bytes for transports that need the host to push them (sockets).
  virtual Result progress() { return tuttiSuccess; }
  // True once every committed byte has left this process (sockets stage them first); a
  // step is complete only when its sends are flushed, or a quiet caller would strand them.
  virtual bool flushed() { return true; }
  // Cheap health check: an error once the peer is gone or reported a failure.
  virtual Result checkPeer() = 0;
  // Cheap, no syscall: true once the peer marked the stream failed (checked at the end of
  // every collective so a late rank does not report success after its peers gave up).
  virtual bool peerReportedFailure() { return false; }
  // Tells the peer this side failed, so its waits end now rather than at the timeout.
  virtual void markFailed() = 0;
  virtual const char* kind() const = 0;
  // Stream alignment: every message starts on this boundary and capacity is a multiple of it.
  static constexpr size_t kAlign = 16;
};

}  // namespace tutti
