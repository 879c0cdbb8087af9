// Number formats: the shared conversions round to nearest even, saturate fp8, and agree with
// exhaustive round trips over every 8- and 16-bit encoding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernels/float_types.h"

namespace tutti {
namespace {

TEST(FloatTypes, HalfRoundTripsEveryEncoding) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = halfBitsToFloat(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    EXPECT_EQ(floatToHalfBits(f), b) << std::hex << b;
  }
}

TEST(FloatTypes, HalfRoundsToNearestEven) {
  EXPECT_EQ(floatToHalfBits(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalfBits(1.0f + 0x1p-11f), 0x3c00);      // tie -> even
  EXPECT_EQ(floatToHalfBits(1.0f + 3 * 0x1p-11f), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(floatToHalfBits(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalfBits(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(floatToHalfBits(0x1p-24f), 0x0001);  // smallest subnormal
  EXPECT_EQ(floatToHalfBits(0x1p-25f), 0x0000);  // tie -> even (zero)
  EXPECT_EQ(floatToHalfBits(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(halfBitsToFloat(floatToHalfBits(NAN))));
}

TEST(FloatTypes, Bf16RoundTripsAndRounds) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bf16BitsToFloat(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    EXPECT_EQ(floatToBf16Bits(f), b);
  }
  EXPECT_EQ(floatToBf16Bits(1.0f + 0x1p-8f), 0x3f80);  // tie -> even
  EXPECT_EQ(floatToBf16Bits(1.0f + 0x1p-7f), 0x3f81);
}

TEST(FloatTypes, Fp8E4M3) {
  for (uint32_t b = 0; b < 256; ++b) {
    float f = toFloat(Fp8E4M3{static_cast<uint8_t>(b)});
    if (std::isnan(f)) continue;
    EXPECT_EQ(toFp8E4M3(f).bits, b) << b;
  }
  EXPECT_EQ(toFloat(Fp8E4M3{0x7e}), 448.0f);   // largest finite
  EXPECT_EQ(toFp8E4M3(1000.0f).bits, 0x7e);    // saturates
  EXPECT_EQ(toFp8E4M3(INFINITY).bits, 0x7e);   // no infinity in e4m3
  EXPECT_EQ(toFloat(Fp8E4M3{0x01}), 0x1p-9f);  // smallest subnormal
  EXPECT_TRUE(std::isnan(toFloat(Fp8E4M3{0x7f})));
  EXPECT_EQ(toFp8E4M3(1.0625f).bits, toFp8E4M3(1.0f).bits);  // tie -> even
}

TEST(FloatTypes, Fp8E5M2) {
  for (uint32_t b = 0; b < 256; ++b) {
    float f = toFloat(Fp8E5M2{static_cast<uint8_t>(b)});
    if (std::isnan(f) || std::isinf(f)) continue;
    EXPECT_EQ(toFp8E5M2(f).bits, b) << b;
  }
  EXPECT_EQ(toFloat(Fp8E5M2{0x7b}), 57344.0f);
  EXPECT_EQ(toFp8E5M2(1e6f).bits, 0x7b);                  // finite overflow saturates
  EXPECT_TRUE(std::isinf(toFloat(toFp8E5M2(INFINITY))));  // an incoming infinity stays
  EXPECT_EQ(toFloat(Fp8E5M2{0x01}), 0x1p-16f);
}

}  // namespace
}  // namespace tutti
