// Routing by message length (src/transport/routed_connection.cc), over in-memory parts: short
// messages and unannounced bytes travel on part 0 (the caller's), long ones in stripes dealt in
// turn over parts 1..N, and a receiver that announces the same messages reads every byte back
// once and in order, whatever sizes the caller commits and releases. Direct reservations go to
// the part that carries the bytes, within its stripe.
#include <gtest/gtest.h>

#include <string.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "transport/routed_connection.h"

namespace tutti {
namespace {

// One direction of an in-memory stream, shared by its two ends.
struct Pipe {
  std::string bytes;   // committed, not yet released
  size_t carried = 0;  // every byte ever committed (to see which part carried what)
};

// An end that writes into `out` and reads from `in`; `window` caps each region it hands out.
class MemEnd : public Connection {
 public:
  // `direct`: reserves all it is asked for, or (as a UCX stripe worker) nothing.
  MemEnd(std::shared_ptr<Pipe> out, std::shared_ptr<Pipe> in, size_t window, bool direct = true)
      : out_(std::move(out)), in_(std::move(in)), scratch_(window), direct_(direct) {}
  Result sendSpace(void** ptr, size_t* bytes) override {
    *ptr = scratch_.data();
    *bytes = scratch_.size();
    return tuttiSuccess;
  }
  Result sendCommit(size_t bytes) override {
    out_->bytes.append(scratch_.data(), bytes);
    out_->carried += bytes;
    return tuttiSuccess;
  }
  Result recvPeek(const void** ptr, size_t* bytes) override {
    *ptr = in_->bytes.data();
    *bytes = std::min(in_->bytes.size(), scratch_.size());
    return tuttiSuccess;
  }
  Result recvRelease(size_t bytes) override {
    if (bytes > in_->bytes.size()) return tuttiInternalError;
    in_->bytes.erase(0, bytes);
    return tuttiSuccess;
  }
  Result checkPeer() override { return tuttiSuccess; }
  void markFailed() override {}
  const char* kind() const override { return "mem"; }
  // A direct path that sends from the caller's memory.
  size_t directMinBytes() const override { return 1; }
  Result sendDirectReserve(size_t bytes, size_t* reserved) override {
    *reserved = direct_ ? bytes : 0;
    return tuttiSuccess;
  }
  Result sendDirect(const void* src, size_t bytes, size_t* sent) override {
    out_->bytes.append(static_cast<const char*>(src), bytes);
    out_->carried += bytes;
    *sent = bytes;
    return tuttiSuccess;
  }

 private:
  std::shared_ptr<Pipe> out_, in_;
  std::vector<char> scratch_;
  bool direct_;
};

constexpr size_t kStripe = 64, kStripeMin = 192;

// Two routed ends over `parts` in-memory part pairs (part 0 and parts - 1 stripe parts);
// `stripeDirect`: whether the stripe parts take direct reservations.
struct StripedPair {
  std::vector<std::shared_ptr<Pipe>> ab;  // a -> b, by part
  std::unique_ptr<Connection> a, b;
  explicit StripedPair(int parts, size_t window = 40, bool stripeDirect = true) {
    std::vector<std::unique_ptr<Connection>> pa, pb;
    for (int i = 0; i < parts; ++i) {
      ab.push_back(std::make_shared<Pipe>());
      auto ba = std::make_shared<Pipe>();
      pa.push_back(std::make_unique<MemEnd>(ab.back(), ba, window, i == 0 || stripeDirect));
      pb.push_back(std::make_unique<MemEnd>(ba, ab.back(), window, i == 0 || stripeDirect));
    }
    a = makeRoutedConnection(std::move(pa), kStripe, kStripeMin, "mem");
    b = makeRoutedConnection(std::move(pb), kStripe, kStripeMin, "mem");
  }
};

// Commits `msg` in pieces of random size (each within what sendSpace hands out).
void sendAll(Connection* c, const std::string& msg, std::mt19937* rng) {
  size_t done = 0;
  while (done < msg.size()) {
    void* p;
    size_t n;
    ASSERT_EQ(c->sendSpace(&p, &n), tuttiSuccess);
    ASSERT_GT(n, 0u);
    n = std::min(n, msg.size() - done);
    n = 1 + (*rng)() % n;
    memcpy(p, msg.data() + done, n);
    ASSERT_EQ(c->sendCommit(n), tuttiSuccess);
    done += n;
  }
}

std::string recvAll(Connection* c, size_t bytes, std::mt19937* rng) {
  std::string got;
  while (got.size() < bytes) {
    const void* p;
    size_t n;
    EXPECT_EQ(c->recvPeek(&p, &n), tuttiSuccess);
    if (n == 0) {
      ADD_FAILURE() << "the stream stalled after " << got.size() << " of " << bytes << " bytes";
      break;
    }
    n = std::min(n, bytes - got.size());
    n = 1 + (*rng)() % n;
    got.append(static_cast<const char*>(p), n);
    EXPECT_EQ(c->recvRelease(n), tuttiSuccess);
  }
  return got;
}

std::string randomBytes(size_t n, std::mt19937* rng) {
  std::string s(n, '\0');
  for (char& ch : s) ch = static_cast<char>((*rng)());
  return s;
}

TEST(RoutedConnection, ShortMessagesStayOnPartZeroAndLongOnesAreDealtInTurn) {
  const int kStripeParts = 3;
  StripedPair pair(1 + kStripeParts);
  std::mt19937 rng(1234);
  // Around the threshold, stripes that end mid-message, and a message of exactly one stripe
  // count short (below kStripeMin).
  const std::vector<size_t> sizes = {48,  1056,    16, kStripeMin, kStripeMin - 16,
                                     400, kStripe, 32, 5000};
  // What each part carries: the rotation carries on from one round into the next.
  std::vector<size_t> expect(1 + kStripeParts, 0);
  uint64_t stripes = 0;
  auto addRound = [&] {
    for (size_t bytes : sizes) {
      if (bytes < kStripeMin) {
        expect[0] += bytes;
        continue;
      }
      for (size_t off = 0; off < bytes; off += kStripe)
        expect[1 + stripes++ % kStripeParts] += std::min(kStripe, bytes - off);
    }
  };
  for (int round = 0; round < 2; ++round) {
    // Round 1 sends everything before receiving anything; round 0 interleaves.
    std::vector<std::string> sent;
    for (size_t bytes : sizes) {
      sent.push_back(randomBytes(bytes, &rng));
      ASSERT_EQ(pair.a->beginSendMessage(bytes), tuttiSuccess);
      sendAll(pair.a.get(), sent.back(), &rng);
      if (round == 0) {
        ASSERT_EQ(pair.b->beginRecvMessage(bytes), tuttiSuccess);
        EXPECT_EQ(recvAll(pair.b.get(), bytes, &rng), sent.back()) << bytes << "-byte message";
      }
    }
    if (round == 1)
      for (size_t i = 0; i < sizes.size(); ++i) {
        ASSERT_EQ(pair.b->beginRecvMessage(sizes[i]), tuttiSuccess);
        EXPECT_EQ(recvAll(pair.b.get(), sizes[i], &rng), sent[i]) << sizes[i] << "-byte message";
      }
    addRound();
    for (int part = 0; part <= kStripeParts; ++part)
      EXPECT_EQ(pair.ab[part]->carried, expect[part]) << "part " << part << ", round " << round;
    for (int part = 0; part <= kStripeParts; ++part)
      EXPECT_TRUE(pair.ab[part]->bytes.empty()) << "part " << part << " has bytes left over";
  }
}

TEST(RoutedConnection, FullRateFromTheStripeThreshold) {
  StripedPair pair(3);
  // The GPU proxy sizes its chunks from this (ProxyExecutor::defaultChunkBytes).
  EXPECT_EQ(pair.a->fullRateMessageBytes(), kStripeMin);
}

TEST(RoutedConnection, UnannouncedBytesTravelOnPartZero) {
  StripedPair pair(3);
  std::mt19937 rng(7);
  const std::string s = randomBytes(1000, &rng);
  sendAll(pair.a.get(), s, &rng);
  EXPECT_EQ(pair.ab[0]->carried, 1000u);
  EXPECT_EQ(recvAll(pair.b.get(), s.size(), &rng), s);
  // Then an announced long message, then unannounced bytes again.
  const std::string m = randomBytes(300, &rng), t = randomBytes(20, &rng);
  ASSERT_EQ(pair.a->beginSendMessage(m.size()), tuttiSuccess);
  sendAll(pair.a.get(), m, &rng);
  sendAll(pair.a.get(), t, &rng);
  EXPECT_EQ(pair.ab[0]->carried, 1020u);
  EXPECT_EQ(pair.ab[1]->carried + pair.ab[2]->carried, 300u);
  ASSERT_EQ(pair.b->beginRecvMessage(m.size()), tuttiSuccess);
  EXPECT_EQ(recvAll(pair.b.get(), m.size(), &rng), m);
  EXPECT_EQ(recvAll(pair.b.get(), t.size(), &rng), t);
}

TEST(RoutedConnection, ARegionNeverCrossesAStripe) {
  StripedPair pair(3, 1000);
  ASSERT_EQ(pair.a->beginSendMessage(kStripeMin + 100), tuttiSuccess);
  void* p;
  size_t n;
  ASSERT_EQ(pair.a->sendSpace(&p, &n), tuttiSuccess);
  EXPECT_EQ(n, kStripe);
  EXPECT_EQ(pair.a->sendCommit(kStripe + 16), tuttiInternalError);
  // A short message's region ends with the message.
  StripedPair other(3, 1000);
  ASSERT_EQ(other.a->beginSendMessage(48), tuttiSuccess);
  ASSERT_EQ(other.a->sendSpace(&p, &n), tuttiSuccess);
  EXPECT_EQ(n, 48u);
}

TEST(RoutedConnection, AMessageBegunBeforeTheLastEndsIsAnError) {
  StripedPair pair(3);
  std::mt19937 rng(3);
  ASSERT_EQ(pair.a->beginSendMessage(300), tuttiSuccess);
  sendAll(pair.a.get(), randomBytes(200, &rng), &rng);
  EXPECT_EQ(pair.a->beginSendMessage(64), tuttiInternalError);
  EXPECT_NE(lastError().find("100 bytes of the last one"), std::string::npos) << lastError();
  ASSERT_EQ(pair.b->beginRecvMessage(48), tuttiSuccess);
  EXPECT_EQ(pair.b->beginRecvMessage(48), tuttiInternalError);
}

TEST(RoutedConnection, StripeWorkersWithoutDirectPathsTakeStripesThroughTheirRings) {
  StripedPair pair(3, 40, false);
  std::mt19937 rng(5);
  EXPECT_EQ(pair.a->directMinBytes(), 1u);
  size_t reserved = 0;
  ASSERT_EQ(pair.a->beginSendMessage(kStripeMin), tuttiSuccess);
  ASSERT_EQ(pair.a->sendDirectReserve(kStripeMin, &reserved), tuttiSuccess);
  EXPECT_EQ(reserved, 0u) << "the stripe part reserves nothing: the ring carries the stripe";
  sendAll(pair.a.get(), randomBytes(kStripeMin, &rng), &rng);
  const std::string s = randomBytes(160, &rng);
  ASSERT_EQ(pair.a->beginSendMessage(s.size()), tuttiSuccess);
  ASSERT_EQ(pair.a->sendDirectReserve(1000, &reserved), tuttiSuccess);
  EXPECT_EQ(reserved, s.size()) << "clipped to the message";
  size_t sent = 0;
  ASSERT_EQ(pair.a->sendDirect(s.data(), s.size(), &sent), tuttiSuccess);
  EXPECT_EQ(sent, s.size());
  // The message is done: the next one may begin, and the receiver reads both in order.
  EXPECT_EQ(pair.a->beginSendMessage(48), tuttiSuccess);
  ASSERT_EQ(pair.b->beginRecvMessage(kStripeMin), tuttiSuccess);
  EXPECT_EQ(recvAll(pair.b.get(), kStripeMin, &rng).size(), kStripeMin);
  ASSERT_EQ(pair.b->beginRecvMessage(s.size()), tuttiSuccess);
  EXPECT_EQ(recvAll(pair.b.get(), s.size(), &rng), s);
}

TEST(RoutedConnection, DirectReservationsGoToTheCarryingPartWithinItsStripe) {
  StripedPair pair(3);
  std::mt19937 rng(6);
  // 3 stripes and a partial fourth: parts 1, 2, 1, 2.
  const std::string s = randomBytes(kStripeMin + 16, &rng);
  ASSERT_EQ(pair.a->beginSendMessage(s.size()), tuttiSuccess);
  size_t done = 0;
  const size_t expectPart[] = {1, 2, 1, 2};
  for (size_t k = 0; done < s.size(); ++k) {
    size_t reserved = 0, sent = 0;
    ASSERT_EQ(pair.a->sendDirectReserve(s.size() - done, &reserved), tuttiSuccess);
    EXPECT_EQ(reserved, std::min(kStripe, s.size() - done)) << "stripe " << k;
    const size_t before = pair.ab[expectPart[k]]->carried;
    ASSERT_EQ(pair.a->sendDirect(s.data() + done, reserved, &sent), tuttiSuccess);
    EXPECT_EQ(sent, reserved);
    EXPECT_EQ(pair.ab[expectPart[k]]->carried, before + sent) << "stripe " << k;
    done += sent;
  }
  EXPECT_EQ(pair.ab[0]->carried, 0u) << "a striped message leaves part 0 alone";
  ASSERT_EQ(pair.b->beginRecvMessage(s.size()), tuttiSuccess);
  EXPECT_EQ(recvAll(pair.b.get(), s.size(), &rng), s);
}

}  // namespace
}  // namespace tutti
