// Striped UCX: the stream position picks the part (stripe k on part k % N); every call goes to
// that part, cut at the stripe's end, so each part carries its stripes back to back as its own
// in-order stream. Progress is the workers' threads' (UcxWorker::startDriver): the calls here
// only hand out ring space, commit and release.
#include "transport/ucx_striped.h"

#include "base/error.h"

namespace tutti {
namespace {

class StripedUcxConnection : public Connection {
 public:
  StripedUcxConnection(std::vector<std::unique_ptr<Connection>> parts, size_t stripe)
      : parts_(std::move(parts)), stripe_(stripe) {}

  Result sendSpace(void** ptr, size_t* bytes) override {
    TUTTI_TRY(partAt(sendPos_).sendSpace(ptr, bytes));
    *bytes = clip(*bytes, sendPos_);
    return tuttiSuccess;
  }
  Result sendCommit(size_t bytes) override {
    if (bytes > stripeLeft(sendPos_))
      return setError(tuttiInternalError, "striped UCX: commit of %zu bytes past a stripe", bytes);
    TUTTI_TRY(partAt(sendPos_).sendCommit(bytes));
    sendPos_ += bytes;
    return tuttiSuccess;
  }
  Result recvPeek(const void** ptr, size_t* bytes) override {
    TUTTI_TRY(partAt(recvPos_).recvPeek(ptr, bytes));
    *bytes = clip(*bytes, recvPos_);
    return tuttiSuccess;
  }
  Result recvRelease(size_t bytes) override {
    if (bytes > stripeLeft(recvPos_))
      return setError(tuttiInternalError, "striped UCX: release of %zu bytes past a stripe", bytes);
    TUTTI_TRY(partAt(recvPos_).recvRelease(bytes));
    recvPos_ += bytes;
    return tuttiSuccess;
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
  bool peerReportedFailure() override {
    for (auto& p : parts_)
      if (p->peerReportedFailure()) return true;
    return false;
  }
  void markFailed() override {
    for (auto& p : parts_) p->markFailed();
  }
  const char* kind() const override { return "ucx"; }

 private:
  Connection& partAt(uint64_t pos) { return *parts_[(pos / stripe_) % parts_.size()]; }
  size_t stripeLeft(uint64_t pos) const { return stripe_ - static_cast<size_t>(pos % stripe_); }
  size_t clip(size_t bytes, uint64_t pos) const {
    const size_t left = stripeLeft(pos);
    return bytes < left ? bytes : left;
  }

  std::vector<std::unique_ptr<Connection>> parts_;
  size_t stripe_;
  uint64_t sendPos_ = 0, recvPos_ = 0;  // stream bytes committed, released
};

}  // namespace

std::unique_ptr<Connection> makeStripedUcxConnection(std::vector<std::unique_ptr<Connection>> parts,
                                                     size_t stripeBytes) {
  return std::make_unique<StripedUcxConnection>(std::move(parts), stripeBytes);
}

}  // namespace tutti
