// TUTTI_FAULT parsing: every kind and hook, defaults, and a sentence for each malformed part.
#include <gtest/gtest.h>

#include "base/fault_injection.h"

namespace tutti {
namespace {

TEST(FaultSpec, ParsesEveryKindAndWhere) {
  FaultSpec s;
  ASSERT_EQ(parseFaultSpec("rank=2,call=100,kind=kill", &s), tuttiSuccess) << lastError();
  EXPECT_EQ(s.rank, 2);
  EXPECT_EQ(s.call, 100);
  EXPECT_EQ(s.kind, FaultKind::kKill);
  EXPECT_EQ(s.where, FaultWhere::kSend);  // the default hook
  ASSERT_EQ(parseFaultSpec("rank=1,call=3,kind=delay:500ms,where=recv", &s), tuttiSuccess);
  EXPECT_EQ(s.kind, FaultKind::kDelay);
  EXPECT_EQ(s.delayMs, 500);
  EXPECT_EQ(s.where, FaultWhere::kRecv);
  ASSERT_EQ(parseFaultSpec("kind=delay:2s,where=proxy", &s), tuttiSuccess);
  EXPECT_EQ(s.delayMs, 2000);
  EXPECT_EQ(s.rank, -1);
  ASSERT_EQ(parseFaultSpec("rank=*,kind=hang,where=gpu", &s), tuttiSuccess);
  EXPECT_EQ(s.kind, FaultKind::kHang);
  ASSERT_EQ(parseFaultSpec("kind=close,where=bootstrap", &s), tuttiSuccess);
  EXPECT_EQ(s.where, FaultWhere::kBootstrap);
  ASSERT_EQ(parseFaultSpec("kind=corrupt,where=recv", &s), tuttiSuccess);
  EXPECT_EQ(s.kind, FaultKind::kCorrupt);
}

TEST(FaultSpec, RejectsMalformedSpecsWithASentence) {
  FaultSpec s;
  for (const char* bad :
       {"", "rank=1", "kind=explode", "kind=kill,where=disk", "rank=x,kind=kill",
        "kind=delay:", "kind=delay:5h", "kind=kill,color=red", "kind=kill,,rank=1", "kind",
        "kind=corrupt,where=bootstrap", "kind=corrupt,where=gpu", "call=-1,kind=kill",
        "call=99999999999,kind=kill", "kind=delay:5ms,kind=close", "rank=1,rank=2,kind=kill"}) {
    clearError();
    EXPECT_EQ(parseFaultSpec(bad, &s), tuttiInvalidArgument) << bad;
    EXPECT_NE(lastError().find("TUTTI_FAULT"), std::string::npos) << bad << ": " << lastError();
  }
}

TEST(FaultSpec, OffByDefault) { EXPECT_FALSE(faultArmed()); }

}  // namespace
}  // namespace tutti
