// Type facts and the exact encode/decode of the harness' data types.
#include "harness/dtypes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace tutti::perf {
namespace {

uint32_t bits(DataType t, double v) {
  uint64_t b = 0;
  encodeValue(t, v, &b);
  return static_cast<uint32_t>(b);
}

TEST(DataTypes, Sizes) {
  EXPECT_EQ(typeSize(DataType::kInt8), 1u);
  EXPECT_EQ(typeSize(DataType::kHalf), 2u);
  EXPECT_EQ(typeSize(DataType::kBfloat16), 2u);
  EXPECT_EQ(typeSize(DataType::kFloat), 4u);
  EXPECT_EQ(typeSize(DataType::kUint64), 8u);
  EXPECT_EQ(typeSize(DataType::kFp8E4M3), 1u);
  EXPECT_EQ(typeSize(DataType::kFp8E5M2), 1u);
}

TEST(DataTypes, KnownBitPatterns) {
  EXPECT_EQ(bits(DataType::kHalf, 1.0), 0x3c00u);
  EXPECT_EQ(bits(DataType::kHalf, -2.0), 0xc000u);
  EXPECT_EQ(bits(DataType::kHalf, 65504.0), 0x7bffu);
  EXPECT_EQ(bits(DataType::kHalf, 1e6), 0x7c00u);                   // overflow rounds to infinity
  EXPECT_EQ(bits(DataType::kHalf, std::ldexp(1.0, -24)), 0x0001u);  // smallest subnormal
  EXPECT_EQ(bits(DataType::kBfloat16, 1.0), 0x3f80u);
  EXPECT_EQ(bits(DataType::kBfloat16, -0.25), 0xbe80u);
  EXPECT_EQ(bits(DataType::kFp8E4M3, 1.0), 0x38u);
  EXPECT_EQ(bits(DataType::kFp8E4M3, 448.0), 0x7eu);
  EXPECT_EQ(bits(DataType::kFp8E4M3, 1000.0), 0x7eu);  // saturates, no infinity in e4m3
  EXPECT_EQ(bits(DataType::kFp8E4M3, std::ldexp(1.0, -9)), 0x01u);
  EXPECT_EQ(bits(DataType::kFp8E5M2, 1.0), 0x3cu);
  EXPECT_EQ(bits(DataType::kFp8E5M2, 57344.0), 0x7bu);
  EXPECT_EQ(bits(DataType::kFp8E5M2, -1.5), 0xbeu);
}

TEST(DataTypes, RoundToNearestEven) {
  // 1 + 2^-11 is halfway between half's 1 and 1 + 2^-10: ties go to the even mantissa (1).
  EXPECT_EQ(bits(DataType::kHalf, 1.0 + std::ldexp(1.0, -11)), 0x3c00u);
  EXPECT_EQ(bits(DataType::kHalf, 1.0 + 3 * std::ldexp(1.0, -11)), 0x3c02u);
  // e4m3: 1.0625 is halfway between 1 and 1.125 -> 1.0; 1.1875 -> 1.25.
  EXPECT_EQ(bits(DataType::kFp8E4M3, 1.0625), 0x38u);
  EXPECT_EQ(bits(DataType::kFp8E4M3, 1.1875), 0x3au);
}

TEST(DataTypes, DecodeSpecials) {
  uint8_t nanE4m3 = 0x7f;
  EXPECT_TRUE(std::isnan(decodeValue(DataType::kFp8E4M3, &nanE4m3)));
  uint8_t infE5m2 = 0x7c;
  EXPECT_TRUE(std::isinf(decodeValue(DataType::kFp8E5M2, &infE5m2)));
  uint16_t negInfHalf = 0xfc00;
  EXPECT_EQ(decodeValue(DataType::kHalf, &negInfHalf), -INFINITY);
}

TEST(DataTypes, SmallFloatsRoundTripEveryPattern) {
  for (DataType t : {DataType::kFp8E4M3, DataType::kFp8E5M2}) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint8_t in = static_cast<uint8_t>(b);
      double v = decodeValue(t, &in);
      if (std::isnan(v)) continue;
      EXPECT_EQ(bits(t, v), b) << typeName(t) << " pattern " << b;
    }
  }
  for (DataType t : {DataType::kHalf, DataType::kBfloat16}) {
    for (uint32_t b = 0; b < 65536; ++b) {
      uint16_t in = static_cast<uint16_t>(b);
      double v = decodeValue(t, &in);
      if (std::isnan(v)) continue;
      ASSERT_EQ(bits(t, v), b) << typeName(t) << " pattern " << b;
    }
  }
}

TEST(DataTypes, IntegersWrapAndTruncate) {
  EXPECT_EQ(bits(DataType::kInt8, 130), 0x82u);  // wraps to -126
  uint8_t b = 0x82;
  EXPECT_EQ(decodeValue(DataType::kInt8, &b), -126);
  EXPECT_EQ(bits(DataType::kUint8, -1), 0xffu);
  EXPECT_EQ(bits(DataType::kInt32, -7.9), static_cast<uint32_t>(-7));
  int64_t big = 0;
  encodeValue(DataType::kInt64, -9007199254740991.0, &big);
  EXPECT_EQ(big, -9007199254740991LL);
  EXPECT_EQ(decodeValue(DataType::kInt64, &big), -9007199254740991.0);
}

TEST(DataTypes, ExactLimits) {
  EXPECT_EQ(exactIntegerLimit(DataType::kFloat), 16777216.0);
  EXPECT_EQ(exactIntegerLimit(DataType::kHalf), 2048.0);
  EXPECT_EQ(exactIntegerLimit(DataType::kFp8E4M3), 16.0);
  EXPECT_EQ(exactIntegerLimit(DataType::kFp8E5M2), 8.0);
  EXPECT_EQ(exactIntegerLimit(DataType::kInt8), 127.0);
  EXPECT_EQ(exactIntegerLimit(DataType::kUint8), 255.0);
  EXPECT_EQ(exactIntegerLimit(DataType::kUint64), 9007199254740991.0);
}

TEST(DataTypes, OpNames) {
  std::vector<RedOp> ops;
  ASSERT_TRUE(parseRedOpList("all", &ops));
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_STREQ(opName(ops[0]), "sum");
  EXPECT_STREQ(opName(ops[4]), "avg");
  RedOp op;
  EXPECT_TRUE(parseRedOp("min", &op));
  EXPECT_EQ(op, RedOp::kMin);
}

}  // namespace
}  // namespace tutti::perf
