// Environment parsing: byte suffixes, bad values fall back to defaults.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/env.h"

namespace tutti {
namespace {

TEST(Env, ParseBytes) {
  uint64_t b = 0;
  EXPECT_TRUE(parseBytes("512", &b));
  EXPECT_EQ(b, 512u);
  EXPECT_TRUE(parseBytes("64k", &b));
  EXPECT_EQ(b, 64u << 10);
  EXPECT_TRUE(parseBytes("1M", &b));
  EXPECT_EQ(b, 1u << 20);
  EXPECT_TRUE(parseBytes("2GB", &b));
  EXPECT_EQ(b, 2ull << 30);
  EXPECT_FALSE(parseBytes("", &b));
  EXPECT_FALSE(parseBytes("12x", &b));
  EXPECT_FALSE(parseBytes("k", &b));
}

TEST(Env, IntFallsBackOnGarbage) {
  setenv("TUTTI_TEST_INT", "42", 1);
  EXPECT_EQ(envInt("TUTTI_TEST_INT", 7), 42);
  setenv("TUTTI_TEST_INT", "4x2", 1);
  EXPECT_EQ(envInt("TUTTI_TEST_INT", 7), 7);
  unsetenv("TUTTI_TEST_INT");
  EXPECT_EQ(envInt("TUTTI_TEST_INT", 7), 7);
  setenv("TUTTI_TEST_BYTES", "3k", 1);
  EXPECT_EQ(envBytes("TUTTI_TEST_BYTES", 1), 3072u);
  unsetenv("TUTTI_TEST_BYTES");
}

}  // namespace
}  // namespace tutti
