// Gradient-compression codecs on the CPU: the fp8 element encoder agrees with the reference
// conversion bit for bit, each codec's round trip stays within its bound on random data, and
// zeros, denormals, tiny blocks, infinities and NaN do what docs/compression.md says.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "compression/codec_spec.h"
#include "compression/host_codec.h"
#include "kernels/codecs/fp8_codec.h"
#include "kernels/codecs/int8_codec.h"
#include "kernels/codecs/sign1_codec.h"
#include "kernels/float_types.h"
#include "testing/random.h"

namespace tutti {
namespace {

using codec::CodecSpec;

CodecSpec spec(tuttiCodec_t c, int block = 32, float k = 0.01f) {
  CodecSpec s;
  s.codec = c;
  s.block = block;
  s.topkFraction = k;
  return s;
}

std::vector<float> roundTrip(const CodecSpec& s, const std::vector<float>& x,
                             std::vector<uint8_t>* bytes = nullptr) {
  std::vector<uint8_t> seg(codec::segmentLayout(s, x.size()).bytes + 1, 0xEE);
  std::vector<float> dec(x.size(), -1.0f), dec2(x.size(), -2.0f);
  hostEncodeSegment(s, x.data(), x.size(), seg.data(), dec.data());
  EXPECT_EQ(seg.back(), 0xEE) << "encoder wrote past its segment";
  EXPECT_EQ(hostDecodeSegment(s, seg.data(), x.size(), dec2.data(), false, 0), tuttiSuccess);
  // What the encoder reports as decoded is exactly what a receiver decodes.
  EXPECT_EQ(memcmp(dec.data(), dec2.data(), x.size() * sizeof(float)), 0);
  if (bytes) *bytes = seg;
  return dec2;
}

// Gaussian values of a few magnitudes (blocks of very different scales).
std::vector<float> gaussian(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = d(rng) * std::ldexp(1.0f, static_cast<int>(i / 97 % 9) - 4);
  return x;
}

double relL2(const std::vector<float>& x, const std::vector<float>& y) {
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    den += double(x[i]) * x[i];
  }
  return std::sqrt(num / den);
}

// Largest finite magnitude of x's block containing element i.
float blockAmax(const std::vector<float>& x, size_t i, int block) {
  size_t b0 = i / block * block, b1 = std::min(x.size(), b0 + block);
  float m = 0;
  for (size_t j = b0; j < b1; ++j)
    if (std::isfinite(x[j])) m = std::max(m, std::fabs(x[j]));
  return m;
}

TEST(Codecs, Fp8ElementEncoderMatchesReferenceConversion) {
  const uint64_t seed = testing::testSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<float> probes;
  // Every fp8 value, the midpoints between neighbours (ties) and their float neighbours.
  for (int b = 0; b < 256; ++b) {
    float e4 = toFloat(Fp8E4M3{static_cast<uint8_t>(b)});
    float e5 = toFloat(Fp8E5M2{static_cast<uint8_t>(b)});
    for (float f : {e4, e5})
      if (std::isfinite(f)) {
        probes.push_back(f);
        probes.push_back(std::nextafter(f, 1e30f));
        probes.push_back(std::nextafter(f, -1e30f));
      }
  }
  for (size_t i = 0, n = probes.size(); i + 1 < n; ++i)
    probes.push_back(0.5f * (probes[i] + probes[i + 1]));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::uniform_int_distribution<int> e(-30, 17);
  for (int i = 0; i < 200000; ++i) probes.push_back(std::ldexp(u(rng), e(rng)));
  for (float y : probes) {
    if (std::fabs(y) < 1e-37f) continue;  // the reference flushes fp32 denormals; so do we
    ASSERT_EQ(codec::Fp8E4M3Format::encodeScaled(y), toFp8E4M3(y).bits) << y;
    ASSERT_EQ(codec::Fp8E5M2Format::encodeScaled(y), toFp8E5M2(y).bits) << y;
  }
  EXPECT_EQ(codec::Fp8E4M3Format::encodeScaled(1e6f), 0x7e);  // saturates
  EXPECT_EQ(codec::Fp8E4M3Format::encodeScaled(-1e6f), 0xfe);
  EXPECT_EQ(codec::Fp8E5M2Format::encodeScaled(1e6f), 0x7b);  // never creates an infinity
  for (int b = 0; b < 256; ++b) {
    const uint8_t c = static_cast<uint8_t>(b);
    float r4 = toFloat(Fp8E4M3{c}), d4 = codec::Fp8E4M3Format::decodeRaw(c);
    float r5 = toFloat(Fp8E5M2{c}), d5 = codec::Fp8E5M2Format::decodeRaw(c);
    EXPECT_TRUE(std::isnan(r4) ? std::isnan(d4) : r4 == d4) << b;
    EXPECT_TRUE(std::isnan(r5) ? std::isnan(d5) : r5 == d5) << b;
  }
}

struct Bound {
  tuttiCodec_t codec;
  int block;
  double relL2;  // on gaussian data
};

TEST(Codecs, RoundTripWithinPerElementAndL2Bounds) {
  const uint64_t seed = testing::testSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  // Odd length: a partial last block in every block size.
  const std::vector<float> x = gaussian(10007, seed);
  for (int block : {32, 64, 128}) {
    SCOPED_TRACE("block " + std::to_string(block));
    std::vector<float> d = roundTrip(spec(tuttiCodecFp8E4M3, block), x);
    for (size_t i = 0; i < x.size(); ++i) {
      const float scale = blockAmax(x, i, block) / 448.0f;
      // Half a unit in the last place of a 3-bit mantissa, or half the subnormal step.
      ASSERT_LE(std::fabs(x[i] - d[i]),
                std::max(std::fabs(x[i]) * 0x1p-4f, scale * 0x1p-10f) * 1.0001f)
          << "e4m3 element " << i;
    }
    EXPECT_LE(relL2(x, d), 5e-2);
    d = roundTrip(spec(tuttiCodecFp8E5M2, block), x);
    for (size_t i = 0; i < x.size(); ++i) {
      const float scale = blockAmax(x, i, block) / 57344.0f;
      ASSERT_LE(std::fabs(x[i] - d[i]),
                std::max(std::fabs(x[i]) * 0x1p-3f, scale * 0x1p-17f) * 1.0001f)
          << "e5m2 element " << i;
    }
    EXPECT_LE(relL2(x, d), 1e-1);
    d = roundTrip(spec(tuttiCodecInt8, block), x);
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_LE(std::fabs(x[i] - d[i]), blockAmax(x, i, block) / 254.0f * 1.0001f)
          << "int8 element " << i;
    EXPECT_LE(relL2(x, d), 1e-2);
    d = roundTrip(spec(tuttiCodecSign1, block), x);
    for (size_t b0 = 0; b0 < x.size(); b0 += block) {
      const size_t b1 = std::min(x.size(), b0 + block);
      double mean = 0;
      for (size_t j = b0; j < b1; ++j) mean += std::fabs(x[j]);
      mean /= double(b1 - b0);
      for (size_t j = b0; j < b1; ++j) {
        ASSERT_NEAR(std::fabs(d[j]), mean, mean * 1e-5) << "sign1 element " << j;
        ASSERT_EQ(d[j] < 0, x[j] < 0) << "sign1 element " << j;
      }
    }
  }
  std::vector<float> d = roundTrip(spec(tuttiCodecBf16), x);
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_LE(std::fabs(x[i] - d[i]), std::fabs(x[i]) * 0x1p-8f) << "bf16 element " << i;
  EXPECT_LE(relL2(x, d), 5e-3);
}

TEST(Codecs, TopKKeepsTheLargestMagnitudesExactly) {
  const uint64_t seed = testing::testSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::vector<float> x = gaussian(5003, seed + 1);
  x[17] = x[4000] = 1e6f;  // ties between distinct positions: both kept (k >= 2)
  for (float k : {0.001f, 0.01f, 0.1f, 1.0f}) {
    const size_t kept = codec::topkKept(k, x.size());
    std::vector<uint8_t> bytes;
    std::vector<float> d = roundTrip(spec(tuttiCodecTopK, 32, k), x, &bytes);
    size_t nonzero = 0;
    float smallestKept = INFINITY, largestDropped = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (d[i] != 0) {
        ASSERT_EQ(d[i], x[i]) << i;  // kept values are exact
        ++nonzero;
        smallestKept = std::min(smallestKept, std::fabs(x[i]));
      } else {
        largestDropped = std::max(largestDropped, std::fabs(x[i]));
      }
    }
    EXPECT_EQ(nonzero, kept) << "k " << k;
    EXPECT_GE(smallestKept, largestDropped) << "k " << k;
    EXPECT_EQ(bytes.size() - 1, codec::roundUp16(8 * kept));
  }
  EXPECT_EQ(codec::topkKept(0.01f, 1), 1u);  // a non-empty segment sends at least one
  EXPECT_EQ(codec::topkKept(0.01f, 0), 0u);
  EXPECT_EQ(codec::topkKept(1.0f, 7), 7u);
}

TEST(Codecs, ZerosDenormalsAndTinyBlocksEncodeAsZero) {
  for (tuttiCodec_t c : {tuttiCodecFp8E4M3, tuttiCodecFp8E5M2, tuttiCodecInt8}) {
    SCOPED_TRACE(codecName(c));
    std::vector<float> zeros(64, 0.0f);
    zeros[3] = -0.0f;
    for (float v : roundTrip(spec(c), zeros)) EXPECT_EQ(v, 0.0f);
    std::vector<float> denormals(64, 1e-40f);
    denormals[5] = -3e-39f;
    for (float v : roundTrip(spec(c), denormals)) EXPECT_EQ(v, 0.0f);
    std::vector<float> tiny(64, 1e-31f);  // below 2^-100: the block encodes as zeros
    for (float v : roundTrip(spec(c), tiny)) EXPECT_EQ(v, 0.0f);
    std::vector<float> small(64, 1e-29f);  // above it: encoded like any value
    for (float v : roundTrip(spec(c), small)) EXPECT_NEAR(v, 1e-29f, 1e-31f);
    // A denormal next to a normal value: rounds to zero, the normal one is exact.
    std::vector<float> mixed(32, 1e-40f);
    mixed[0] = 1.0f;
    std::vector<float> d = roundTrip(spec(c), mixed);
    EXPECT_EQ(d[0], 1.0f);
    EXPECT_EQ(d[1], 0.0f);
  }
  std::vector<float> zeros(40, 0.0f);
  for (float v : roundTrip(spec(tuttiCodecSign1), zeros)) EXPECT_EQ(v, 0.0f);  // scale 0
  for (float v : roundTrip(spec(tuttiCodecBf16), std::vector<float>{1e-40f}))
    EXPECT_NEAR(v, 1e-40f, 0x1p-134f);  // bf16 denormals: steps of 2^-133, rounded to nearest
}

// A non-finite element changes only itself (block codecs) or only its own block (1-bit).
TEST(Codecs, NonFiniteInputsStayLocal) {
  const std::vector<float> base = gaussian(96, testing::testSeed() + 2);
  for (tuttiCodec_t c : {tuttiCodecFp8E4M3, tuttiCodecFp8E5M2, tuttiCodecInt8, tuttiCodecBf16,
                         tuttiCodecSign1, tuttiCodecTopK}) {
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      SCOPED_TRACE(std::string(codecName(c)) + " with " + std::to_string(bad));
      std::vector<float> x = base, zeroed = base;
      x[40] = bad;
      zeroed[40] = 0.0f;
      const CodecSpec s = spec(c, 32, 0.1f);
      std::vector<float> d = roundTrip(s, x), z = roundTrip(s, zeroed);
      for (size_t i = 0; i < x.size(); ++i) {
        if (i == 40) continue;
        if (c == tuttiCodecSign1 && i / 32 == 1) {
          EXPECT_TRUE(std::isnan(d[i])) << i;  // 1-bit: the block of the non-finite is NaN
        } else if (c == tuttiCodecTopK) {
          // The non-finite element takes one of the kept slots.
          EXPECT_TRUE(d[i] == 0 || d[i] == x[i]) << i;
        } else {
          EXPECT_EQ(d[i], z[i]) << i;
        }
      }
      const float got = d[40];
      const bool infKept = c == tuttiCodecFp8E5M2 || c == tuttiCodecBf16 || c == tuttiCodecTopK;
      if (std::isnan(bad) || !infKept)
        EXPECT_TRUE(std::isnan(got)) << got;
      else
        EXPECT_EQ(got, bad);
    }
  }
}

// The CPU's 1-bit scale sums in the order of the GPU's warp butterfly: every lane of the
// butterfly ends with the halving tree's bits.
TEST(Codecs, Sign1SumIsTheWarpButterflysResult) {
  std::mt19937_64 rng(testing::testSeed());
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int trial = 0; trial < 1000; ++trial) {
    float p[32], lanes[32];
    for (int l = 0; l < 32; ++l) p[l] = lanes[l] = std::ldexp(u(rng), trial % 40 - 20);
    for (int off = 16; off >= 1; off >>= 1) {
      float q[32];
      for (int l = 0; l < 32; ++l) q[l] = lanes[l] + lanes[l ^ off];
      memcpy(lanes, q, sizeof(q));
    }
    const float tree = codec::sign1ButterflySum(p);
    for (int l = 0; l < 32; ++l) ASSERT_EQ(floatBits(lanes[l]), floatBits(tree)) << trial;
  }
}

TEST(Codecs, SegmentSizesFollowTheLayout) {
  EXPECT_EQ(codec::segmentLayout(spec(tuttiCodecInt8, 32), 32).bytes, 48u);  // 32 + 4 -> 48
  EXPECT_EQ(codec::segmentLayout(spec(tuttiCodecInt8, 32), 1024).bytes, 1024u + 128u);
  EXPECT_EQ(codec::segmentLayout(spec(tuttiCodecFp8E4M3, 128), 1000).bytes, 1024u + 32u);
  EXPECT_EQ(codec::segmentLayout(spec(tuttiCodecSign1, 32), 1024).bytes, 128u + 128u);
  EXPECT_EQ(codec::segmentLayout(spec(tuttiCodecSign1, 128), 1024).bytes, 128u + 32u);
  EXPECT_EQ(codec::segmentLayout(spec(tuttiCodecBf16), 7).bytes, 16u);
  EXPECT_EQ(codec::segmentLayout(spec(tuttiCodecTopK, 32, 0.01f), 1000).bytes, 80u);
  for (tuttiCodec_t c = tuttiCodecBf16; c < tuttiNumCodecs; c = tuttiCodec_t(c + 1))
    EXPECT_EQ(codec::segmentLayout(spec(c), 0).bytes, 0u);
}

TEST(Codecs, MalformedTopKSegmentsAreRejected) {
  const CodecSpec s = spec(tuttiCodecTopK, 32, 0.25f);
  std::vector<float> x = gaussian(16, 7), out(16, 5.0f);
  std::vector<uint8_t> seg(codec::segmentLayout(s, 16).bytes);
  hostEncodeSegment(s, x.data(), 16, seg.data(), nullptr);
  uint32_t* index =
      reinterpret_cast<uint32_t*>(seg.data() + codec::segmentLayout(s, 16).scaleOffset);
  std::vector<uint8_t> bad = seg;
  reinterpret_cast<uint32_t*>(bad.data() + (reinterpret_cast<uint8_t*>(index) - seg.data()))[1] =
      16;
  EXPECT_EQ(hostDecodeSegment(s, bad.data(), 16, out.data(), false, 3), tuttiRemoteError);
  EXPECT_NE(lastError().find("rank 3"), std::string::npos) << lastError();
  for (float v : out) EXPECT_EQ(v, 5.0f);  // nothing written
  bad = seg;
  uint32_t* bi =
      reinterpret_cast<uint32_t*>(bad.data() + (reinterpret_cast<uint8_t*>(index) - seg.data()));
  std::swap(bi[0], bi[1]);  // out of order
  EXPECT_EQ(hostDecodeSegment(s, bad.data(), 16, out.data(), true, 1), tuttiRemoteError);
}

TEST(Codecs, ParseAndDescribe) {
  tuttiCompression_t c;
  EXPECT_EQ(parseCompression("fp8_e4m3:64", &c), "");
  EXPECT_EQ(c.codec, tuttiCodecFp8E4M3);
  EXPECT_EQ(c.blockSize, 64);
  EXPECT_EQ(parseCompression("topk:0.05", &c), "");
  EXPECT_EQ(c.codec, tuttiCodecTopK);
  EXPECT_FLOAT_EQ(c.topkFraction, 0.05f);
  EXPECT_EQ(parseCompression("int8", &c), "");
  EXPECT_EQ(c.blockSize, 32);
  EXPECT_NE(parseCompression("int8:48", &c), "");
  EXPECT_NE(parseCompression("topk:2", &c), "");
  EXPECT_NE(parseCompression("zip", &c), "");
  CodecSpec s;
  bool inter = true;
  EXPECT_EQ(parseCompression("sign1:128", &c), "");
  EXPECT_EQ(checkCompression(&c, &s, &inter), tuttiSuccess);
  EXPECT_FALSE(inter);
  EXPECT_EQ(describeCompression(s), "sign1:128");
}

}  // namespace
}  // namespace tutti
