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
  // Tells the peer this side failed, so its waits end now rather than at the timeout.
  virtual void markFailed() = 0;
  virtual const char* kind() const = 0;
  // Message boundaries, announced by both ends at the same point of the stream with the same
  // count: the sender before committing a message's first byte, the receiver before peeking
  // it. `bytes` is all the message occupies in the stream (header, padded payload, trailer).
  // A stream may route a message by its size (striped UCX keeps short ones off its threads).
  // Errors when the previous message in that direction is not finished.
  virtual Result beginSendMessage(size_t bytes) {
    (void)bytes;
    return tuttiSuccess;
  }
  virtual Result beginRecvMessage(size_t bytes) {
    (void)bytes;
    return tuttiSuccess;
  }
  // The message length from which this stream runs at its full rate (0: any length). Striped
  // UCX reaches its stripe workers only from its threshold on; the GPU proxy sizes its chunks
  // so that their messages get there.
  virtual size_t fullRateMessageBytes() const { return 0; }
  // True when the stream's engine could move device (CUDA) memory itself: UCX built with CUDA,
  // which with an RDMA NIC and nvidia_peermem reads and writes GPU memory directly (GPUDirect
  // RDMA). The GPU proxy reports it and stages through pinned host memory all the same: the
  // executor's plans copy and reduce with the CPU (docs/gpu-executor.md).
  virtual bool carriesDeviceMemory() const { return false; }

  // Optional direct path (sockets): a large payload moves between the caller's memory and the
  // network without the staging copy. The stream stays one ordered byte stream: a reservation
  // names the next bytes after those already committed (sender) or already staged (receiver),
  // always a multiple of kAlign so staged bytes keep their alignment. The connection keeps only
  // counts, never the caller's pointer, so a call that fails leaves nothing pointing into user
  // memory. One reservation per direction at a time; the caller finishes it before another.
  //
  // The smallest payload the direct path is worth (0: not supported, use the staging calls).
  virtual size_t directMinBytes() const { return 0; }
  // Sender: reserves up to `bytes` (rounded down to kAlign) after every committed byte; bytes
  // committed later leave after the reservation. *reserved: how many sendDirect must carry.
  virtual Result sendDirectReserve(size_t bytes, size_t* reserved) {
    *reserved = 0;
    return tuttiSuccess;
  }
  // Sends up to `bytes` of the reservation from `src` without blocking; *sent may be 0.
  virtual Result sendDirect(const void* src, size_t bytes, size_t* sent) {
    *sent = 0;
    return tuttiSuccess;
  }
  // Receiver: `messageLeft` bytes of the current message are still to be consumed; reserves
  // the part after what is staged now (rounded down to kAlign) for recvDirect.
  virtual Result recvDirectReserve(size_t messageLeft, size_t* reserved) {
    *reserved = 0;
    return tuttiSuccess;
  }
  // Receives up to `bytes` of the reservation into `dst` without blocking; *got is 0 while
  // staged bytes (which come first in the stream) remain to be consumed with recvPeek.
  virtual Result recvDirect(void* dst, size_t bytes, size_t* got) {
    *got = 0;
    return tuttiSuccess;
  }
  // Called when the executor gives up on a call while a reservation may be open: returns only
  // once nothing (a stream thread, say) touches the memory handed to sendDirect/recvDirect, so
  // the caller may free it. The stream is then broken: the connection fails.
  virtual void abandonDirect() {}
  // Stream alignment: every message starts on this boundary and capacity is a multiple of it.
  static constexpr size_t kAlign = 16;
};

}  // namespace tutti
