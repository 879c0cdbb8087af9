// Routing by message length: part 0 carries the short messages and every byte outside an
// announced message; a message of at least `stripeMin` bytes is dealt in stripes over parts
// 1..N, continuing the rotation where the last striped message stopped. Both ends announce the
// same messages in the same order (Connection::beginSendMessage / beginRecvMessage), so each
// finds every byte's part without headers, and every call here goes to that part, cut at the
// stripe's end. Parts 1..N are moved by threads of their own (UCX: UcxWorker::startDriver;
// sockets: the striped connection's stream threads); part 0 by the caller, as one unrouted
// stream is, so a short message never waits on a hand-off between threads.
#include "transport/routed_connection.h"

#include <cstdint>

#include "base/error.h"

namespace tutti {
namespace {

// Where one direction of the stream stands.
struct Route {
  uint64_t messageLeft = 0;    // bytes of the announced message still to move; 0: none
  size_t part = 0;             // the part carrying the next bytes
  size_t partLeft = SIZE_MAX;  // ... up to here (the stripe's or message's end)
  uint64_t stripes = 0;        // stripes dealt so far: the rotation over parts 1..N
};

class RoutedConnection : public Connection {
 public:
  RoutedConnection(std::vector<std::unique_ptr<Connection>> parts, size_t stripe, size_t stripeMin,
                   const char* kind)
      : parts_(std::move(parts)), stripe_(stripe), stripeMin_(stripeMin), kind_(kind) {}

  size_t fullRateMessageBytes() const override { return stripeMin_; }
  bool carriesDeviceMemory() const override {
    for (const auto& p : parts_)
      if (!p->carriesDeviceMemory()) return false;
    return true;
  }
  Result beginSendMessage(size_t bytes) override { return begin(tx_, bytes, "send"); }
  Result beginRecvMessage(size_t bytes) override { return begin(rx_, bytes, "receive"); }

  Result sendSpace(void** ptr, size_t* bytes) override {
    TUTTI_TRY(parts_[tx_.part]->sendSpace(ptr, bytes));
    if (*bytes > tx_.partLeft) *bytes = tx_.partLeft;
    return tuttiSuccess;
  }
  Result sendCommit(size_t bytes) override {
    if (bytes > tx_.partLeft)
      return setError(tuttiInternalError, "routed stream: commit of %zu bytes past a stripe",
                      bytes);
    TUTTI_TRY(parts_[tx_.part]->sendCommit(bytes));
    advance(tx_, bytes);
    return tuttiSuccess;
  }
  Result recvPeek(const void** ptr, size_t* bytes) override {
    TUTTI_TRY(parts_[rx_.part]->recvPeek(ptr, bytes));
    if (*bytes > rx_.partLeft) *bytes = rx_.partLeft;
    return tuttiSuccess;
  }
  Result recvRelease(size_t bytes) override {
    if (bytes > rx_.partLeft)
      return setError(tuttiInternalError, "routed stream: release of %zu bytes past a stripe",
                      bytes);
    TUTTI_TRY(parts_[rx_.part]->recvRelease(bytes));
    advance(rx_, bytes);
    return tuttiSuccess;
  }

  // The direct paths are the carrying part's, within its stripe, so a payload is reserved a
  // stripe at a time. UCX's stripe workers take send windows (their drivers send from the
  // caller's buffer) and no receives; striped sockets' stream threads move their windows
  // straight from and into the caller's buffers.
  size_t directMinBytes() const override { return parts_[0]->directMinBytes(); }
  Result sendDirectReserve(size_t bytes, size_t* reserved) override {
    return parts_[tx_.part]->sendDirectReserve(bytes < tx_.partLeft ? bytes : tx_.partLeft,
                                               reserved);
  }
  Result sendDirect(const void* src, size_t bytes, size_t* sent) override {
    TUTTI_TRY(parts_[tx_.part]->sendDirect(src, bytes, sent));
    advance(tx_, *sent);
    return tuttiSuccess;
  }
  Result recvDirectReserve(size_t messageLeft, size_t* reserved) override {
    return parts_[rx_.part]->recvDirectReserve(
        messageLeft < rx_.partLeft ? messageLeft : rx_.partLeft, reserved);
  }
  Result recvDirect(void* dst, size_t bytes, size_t* got) override {
    TUTTI_TRY(parts_[rx_.part]->recvDirect(dst, bytes, got));
    advance(rx_, *got);
    return tuttiSuccess;
  }
  void abandonDirect() override {
    for (auto& p : parts_) p->abandonDirect();
  }

  Result progress() override {
    for (auto& p : parts_) TUTTI_TRY(p->progress());
    return tuttiSuccess;
  }
  bool flushed() override {
    for (auto& p : parts_)
      if (!p->flushed()) return false;
    return true;
  }
  Result checkPeer() override {
    for (auto& p : parts_) TUTTI_TRY(p->checkPeer());
    return tuttiSuccess;
  }
  void markFailed() override {
    for (auto& p : parts_) p->markFailed();
  }
  const char* kind() const override { return kind_; }

 private:
  Result begin(Route& r, size_t bytes, const char* what) {
    if (r.messageLeft != 0)
      return setError(tuttiInternalError,
                      "routed stream: a %zu-byte %s message begins with %llu bytes of the last "
                      "one still to move",
                      bytes, what, (unsigned long long)r.messageLeft);
    r.messageLeft = bytes;
    if (bytes >= stripeMin_) {
      nextStripe(r);
    } else {
      r.part = 0;
      r.partLeft = bytes;
    }
    return tuttiSuccess;
  }
  void nextStripe(Route& r) {
    r.part = 1 + static_cast<size_t>(r.stripes++ % (parts_.size() - 1));
    r.partLeft = r.messageLeft < stripe_ ? static_cast<size_t>(r.messageLeft) : stripe_;
  }
  // `bytes` of the current part moved: on to the next stripe, or back to part 0 once the
  // message is done (bytes outside announced messages go there, unbounded).
  void advance(Route& r, size_t bytes) {
    if (r.messageLeft == 0) return;
    r.messageLeft -= bytes;
    r.partLeft -= bytes;
    if (r.messageLeft == 0) {
      r.part = 0;
      r.partLeft = SIZE_MAX;
    } else if (r.partLeft == 0) {
      nextStripe(r);
    }
  }

  std::vector<std::unique_ptr<Connection>> parts_;
  size_t stripe_, stripeMin_;
  const char* kind_;
  Route tx_, rx_;
};

}  // namespace

std::unique_ptr<Connection> makeRoutedConnection(std::vector<std::unique_ptr<Connection>> parts,
                                                 size_t stripeBytes, size_t stripeMinBytes,
                                                 const char* kind) {
  return std::make_unique<RoutedConnection>(std::move(parts), stripeBytes, stripeMinBytes, kind);
}

}  // namespace tutti
