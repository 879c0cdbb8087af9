// UCX striping choices (src/transport/ucx_striping.h): what `auto` asks for on a host, how the
// variables are read, and the agreement every rank reaches from all the asks.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "transport/peer_threads.h"
#include "transport/ucx_striping.h"

namespace tutti {
namespace {

TEST(UcxStriping, AutoFeedsAWorkerPerTwoCpusOfEachLocalRank) {
  EXPECT_EQ(autoStripeWorkers(16, 1, 1, false), 4);  // capped at 4
  EXPECT_EQ(autoStripeWorkers(16, 2, 2, false), 4);
  EXPECT_EQ(autoStripeWorkers(8, 2, 2, false), 2);
  EXPECT_EQ(autoStripeWorkers(2, 1, 1, false), 1);  // the 2-CPU VM: striping only costs there
  EXPECT_EQ(autoStripeWorkers(1, 0, 1, false), 1);
  EXPECT_EQ(autoStripeWorkers(128, 8, 8, false), 4);
}

TEST(UcxStriping, AutoStaysAtOneWithRdmaOrManyRemotePeers) {
  EXPECT_EQ(autoStripeWorkers(64, 1, 1, true), 1);
  EXPECT_EQ(autoStripeWorkers(64, 1, kMaxThreadedPeers, false), 4);
  EXPECT_EQ(autoStripeWorkers(64, 1, kMaxThreadedPeers + 1, false), 1);
}

class UcxStripingEnv : public ::testing::Test {
 protected:
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* v :
         {"TUTTI_UCX_WORKERS", "TUTTI_UCX_STRIPE_BYTES", "TUTTI_UCX_STRIPE_MIN_BYTES",
          "TUTTI_CHECKSUM", "TUTTI_UCX_STRIPE_DIRECT"})
      unsetenv(v);
  }
};

TEST_F(UcxStripingEnv, UnsetAndAutoAskForWhatTheHostFeeds) {
  StripingAsk a;
  ASSERT_EQ(readStripingAsk(3, &a), tuttiSuccess);
  EXPECT_EQ(a.workers, 3u);
  EXPECT_EQ(a.workersSet, 0u);
  EXPECT_EQ(a.stripe, 1u << 20);
  EXPECT_EQ(a.stripeMin, 0u);
  setenv("TUTTI_UCX_WORKERS", "auto", 1);
  ASSERT_EQ(readStripingAsk(2, &a), tuttiSuccess);
  EXPECT_EQ(a.workers, 2u);
  EXPECT_EQ(a.workersSet, 0u);
  setenv("TUTTI_UCX_WORKERS", "5", 1);
  setenv("TUTTI_CHECKSUM", "1", 1);
  ASSERT_EQ(readStripingAsk(2, &a), tuttiSuccess);
  EXPECT_EQ(a.workers, 5u);
  EXPECT_EQ(a.workersSet, 1u);
  EXPECT_EQ(a.checksum, 1u);
}

TEST_F(UcxStripingEnv, BadValuesNameTheVariable) {
  StripingAsk a;
  for (const char* v : {"0", "17", "two", "4x"}) {
    setenv("TUTTI_UCX_WORKERS", v, 1);
    EXPECT_EQ(readStripingAsk(1, &a), tuttiInvalidArgument) << v;
    EXPECT_NE(lastError().find(std::string("TUTTI_UCX_WORKERS=") + v), std::string::npos)
        << lastError();
  }
  unsetenv("TUTTI_UCX_WORKERS");
  setenv("TUTTI_UCX_STRIPE_BYTES", "1000", 1);
  EXPECT_EQ(readStripingAsk(1, &a), tuttiInvalidArgument);
  EXPECT_NE(lastError().find("TUTTI_UCX_STRIPE_BYTES=1000"), std::string::npos) << lastError();
}

TEST_F(UcxStripingEnv, StripeWindowsOnWhereTheHostHasOtherRanks) {
  bool on = true;
  ASSERT_EQ(readStripeWindows(1, &on), tuttiSuccess);
  EXPECT_FALSE(on);
  ASSERT_EQ(readStripeWindows(2, &on), tuttiSuccess);
  EXPECT_TRUE(on);
  setenv("TUTTI_UCX_STRIPE_DIRECT", "auto", 1);
  ASSERT_EQ(readStripeWindows(1, &on), tuttiSuccess);
  EXPECT_FALSE(on);
  setenv("TUTTI_UCX_STRIPE_DIRECT", "1", 1);
  ASSERT_EQ(readStripeWindows(1, &on), tuttiSuccess);
  EXPECT_TRUE(on);
  setenv("TUTTI_UCX_STRIPE_DIRECT", "0", 1);
  ASSERT_EQ(readStripeWindows(4, &on), tuttiSuccess);
  EXPECT_FALSE(on);
  for (const char* v : {"2", "yes"}) {
    setenv("TUTTI_UCX_STRIPE_DIRECT", v, 1);
    EXPECT_EQ(readStripeWindows(2, &on), tuttiInvalidArgument) << v;
    EXPECT_NE(lastError().find(std::string("TUTTI_UCX_STRIPE_DIRECT=") + v), std::string::npos)
        << lastError();
  }
}

StripingAsk ask(uint32_t workers, bool set, uint64_t stripe = 1u << 20, uint64_t min = 0,
                uint32_t checksum = 0) {
  return StripingAsk{workers, set ? 1u : 0u, stripe, min, checksum, 0};
}

// The rule both network transports agree their thread counts by (transport/peer_threads.h).
TEST(PeerThreads, ACountSetAnywhereBindsElseTheFewestAskedFor) {
  CountAgreement a = agreeCount({{4, false}, {2, false}, {3, false}});
  EXPECT_EQ(a.count, 2);
  EXPECT_TRUE(a.fromAuto);
  EXPECT_EQ(a.differs, -1);
  a = agreeCount({{1, false}, {3, true}, {4, false}, {3, true}});
  EXPECT_EQ(a.count, 3);
  EXPECT_FALSE(a.fromAuto);
  EXPECT_EQ(a.setBy, 1);
  EXPECT_EQ(a.differs, -1);
  a = agreeCount({{2, false}, {3, true}, {4, false}, {5, true}, {6, true}});
  EXPECT_EQ(a.setBy, 1);
  EXPECT_EQ(a.differs, 3);  // the first that differs: every rank names the same pair
  EXPECT_EQ(agreeCount({{0, false}}).count, 1);
  EXPECT_EQ(agreeCount({}).count, 1);
}

TEST(UcxStriping, TheFewestAskedUnlessACountIsSet) {
  Striping s;
  ASSERT_EQ(agreeStriping({ask(4, false), ask(2, false), ask(3, false)}, &s), tuttiSuccess);
  EXPECT_EQ(s.workers, 2);
  EXPECT_TRUE(s.fromAuto);
  EXPECT_EQ(s.stripe, 1u << 20);
  EXPECT_EQ(s.stripeMin, 2u << 20) << "unset: a stripe per stripe worker";
  ASSERT_EQ(agreeStriping({ask(1, false), ask(3, true), ask(4, false)}, &s), tuttiSuccess);
  EXPECT_EQ(s.workers, 3);
  EXPECT_FALSE(s.fromAuto);
  EXPECT_EQ(s.stripeMin, 3u << 20);
  ASSERT_EQ(agreeStriping({ask(4, false, 4096, 65536), ask(4, false, 4096, 65536)}, &s),
            tuttiSuccess);
  EXPECT_EQ(s.stripe, 4096u);
  EXPECT_EQ(s.stripeMin, 65536u);
}

TEST(UcxStriping, DisagreementsFailNamingBothSides) {
  Striping s;
  EXPECT_EQ(agreeStriping({ask(3, true), ask(2, true)}, &s), tuttiInvalidArgument);
  EXPECT_NE(lastError().find("TUTTI_UCX_WORKERS differs between ranks: 3 and 2 (rank 1"),
            std::string::npos)
      << lastError();
  EXPECT_EQ(agreeStriping({ask(2, false), ask(2, false, 65536)}, &s), tuttiInvalidArgument);
  EXPECT_NE(lastError().find("rank 0 has 1048576, rank 1 has 65536"), std::string::npos)
      << lastError();
  EXPECT_EQ(agreeStriping({ask(2, false, 1 << 20, 4 << 20), ask(2, false)}, &s),
            tuttiInvalidArgument);
  EXPECT_NE(lastError().find("TUTTI_UCX_STRIPE_MIN_BYTES differs"), std::string::npos)
      << lastError();
  EXPECT_EQ(agreeStriping({ask(2, false), ask(2, false, 1 << 20, 0, 1)}, &s), tuttiInvalidArgument);
  EXPECT_NE(lastError().find("TUTTI_CHECKSUM differs between ranks: rank 0 has 0, rank 1 has 1"),
            std::string::npos)
      << lastError();
}

TEST(UcxStriping, OneWorkerIgnoresTheStripeSettings) {
  Striping s;
  ASSERT_EQ(agreeStriping({ask(1, false), ask(4, false, 65536, 7, 1)}, &s), tuttiSuccess);
  EXPECT_EQ(s.workers, 1);
}

}  // namespace
}  // namespace tutti
