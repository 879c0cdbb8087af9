// Storage types for float16, bfloat16 and the two fp8 formats, with round-to-nearest-even
// conversions written once for host and device so both executors produce identical bits.
// fp8 conversions saturate to the largest finite value (e4m3 has no infinity; e5m2 keeps an
// incoming infinity but never creates one from a finite overflow).
#pragma once

#include <cstdint>
#include <cstring>

#include "host_device.h"

namespace tutti {

TUTTI_HD uint32_t floatBits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  return u;
}
TUTTI_HD float bitsFloat(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

// Drops `shift` low bits of `mant`, rounding to nearest, ties to even (shift in 1..31).
TUTTI_HD uint32_t roundShiftRne(uint32_t mant, int shift) {
  uint32_t q = mant >> shift;
  uint32_t rem = mant & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return q;
}

TUTTI_HD uint16_t floatToHalfBits(float f) {
  uint32_t x = floatBits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0u);
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to infinity
  if (a < 0x38800000u) {                        // below 2^-14: half subnormal or zero
    int exp = static_cast<int>(a >> 23);
    int shift = 126 - exp;
    if (shift > 24) return sign;
    uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    return static_cast<uint16_t>(sign | roundShiftRne(mant, shift));
  }
  return static_cast<uint16_t>(sign | roundShiftRne(a - 0x38000000u, 13));
}

TUTTI_HD float halfBitsToFloat(uint16_t h) {
  uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return bitsFloat(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    float v = static_cast<float>(mant) * 5.9604644775390625e-8f;  // mant * 2^-24
    return sign ? -v : v;
  }
  return bitsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

TUTTI_HD uint16_t floatToBf16Bits(float f) {
  uint32_t x = floatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

TUTTI_HD float bf16BitsToFloat(uint16_t b) { return bitsFloat(static_cast<uint32_t>(b) << 16); }

// Generic fp8 encode: M mantissa bits, exponent bias B, largest finite magnitude maxBits.
template <int M, int B>
TUTTI_HD uint8_t floatToFp8Bits(float f, uint8_t maxBits, uint8_t nanBits, bool hasInf) {
  uint32_t x = floatBits(f);
  uint8_t sign = static_cast<uint8_t>((x >> 24) & 0x80u);
  uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | nanBits;
  if (a == 0x7f800000u) return sign | (hasInf ? static_cast<uint8_t>(maxBits + 1) : maxBits);
  if (a < 0x00800000u) return sign;  // float subnormals are far below fp8's range
  int exp = static_cast<int>(a >> 23) - 127;
  uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  int baseExp = exp > 1 - B ? exp : 1 - B;  // subnormal range shares the smallest exponent
  int shift = 23 - M + (baseExp - exp);
  if (shift > 24) return sign;
  uint32_t q = roundShiftRne(mant, shift);
  uint32_t enc = (static_cast<uint32_t>(baseExp + B - 1) << M) + q;
  if (baseExp == 1 - B) enc = q;  // subnormal, or the smallest normal after a carry
  if (enc > maxBits) enc = maxBits;
  return sign | static_cast<uint8_t>(enc);
}

template <int E, int M, int B>
TUTTI_HD float fp8BitsToFloat(uint8_t b, bool hasInf) {
  uint32_t sign = (static_cast<uint32_t>(b) & 0x80u) << 24;
  uint32_t exp = (b >> M) & ((1u << E) - 1u);
  uint32_t mant = b & ((1u << M) - 1u);
  if (hasInf && exp == (1u << E) - 1u)
    return bitsFloat(sign | 0x7f800000u | (mant ? 0x400000u : 0u));
  if (!hasInf && (b & 0x7fu) == 0x7fu) return bitsFloat(sign | 0x7fc00000u);
  if (exp == 0) {
    float v = static_cast<float>(mant) * bitsFloat(static_cast<uint32_t>(127 + 1 - B - M) << 23);
    return sign ? -v : v;
  }
  return bitsFloat(sign | ((exp - B + 127u) << 23) | (mant << (23 - M)));
}

struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};
struct Fp8E4M3 {
  uint8_t bits;
};
struct Fp8E5M2 {
  uint8_t bits;
};

// On the GPU the conversion instructions give the same round-to-nearest-even bits as the
// portable code above, in one instruction.
#if defined(__CUDA_ARCH__)
__device__ __forceinline__ float toFloat(Half v) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v.bits));
  return f;
}
__device__ __forceinline__ Half toHalf(float f) {
  Half h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.bits) : "f"(f));
  return h;
}
#else
inline float toFloat(Half v) { return halfBitsToFloat(v.bits); }
inline Half toHalf(float f) { return Half{floatToHalfBits(f)}; }
#endif
TUTTI_HD float toFloat(BFloat16 v) { return bf16BitsToFloat(v.bits); }
TUTTI_HD float toFloat(Fp8E4M3 v) { return fp8BitsToFloat<4, 3, 7>(v.bits, false); }
TUTTI_HD float toFloat(Fp8E5M2 v) { return fp8BitsToFloat<5, 2, 15>(v.bits, true); }

TUTTI_HD BFloat16 toBFloat16(float f) { return BFloat16{floatToBf16Bits(f)}; }
TUTTI_HD Fp8E4M3 toFp8E4M3(float f) { return Fp8E4M3{floatToFp8Bits<3, 7>(f, 0x7e, 0x7f, false)}; }
TUTTI_HD Fp8E5M2 toFp8E5M2(float f) { return Fp8E5M2{floatToFp8Bits<2, 15>(f, 0x7b, 0x7f, true)}; }

}  // namespace tutti
