// 1-bit sign codec kernels of generation v4 (CodecKernels::kV4; perf/NOTES.md, "codec kernels"):
// encode with two lanes per block part, decode-sum with 16-byte loads of bits and scales. The
// encoder is instantiated in codec_encode.cu, the decoder in codec_decode.cu (their modules are
// preloaded). Same bits as host_codec.cc's encodeSign1 and decodeSign1.
#pragma once

#include "codec_device.cuh"

namespace tutti {
namespace codec_detail {

// v3's encoder (lane = 4 consecutive elements) needed 6 shuffles per 4 elements to keep the CPU's
// summation order and 128 registers: 2 blocks of 256 threads per SM, latency-bound at 53% of a
// copy. v4 lets the layout follow the order instead. The CPU sums a block as: lane l of 32 folds
// elements l, l + 32, ... left to right, then a halving tree adds partial x + off to x for
// off = 16, 8, 4, 2, 1. Here lane m (0 or 1) of a pair holds elements 8j + 4m + c (j, c < 4;
// one 16-byte load per j) of each 32-element part k of its block, so the fold over k and tree
// steps 16 (j ^ 2) and 8 (j ^ 1) are additions in registers; step 4 (m ^ 1) pairs the lanes,
// each keeping 2 of its 4 components (2 shuffles), steps 2 and 1 (c ^ 2, c ^ 1) take one shuffle
// each: 4 shuffles per 16 elements, and every lane of the pair ends with the block's sum.
// A non-finite element adds a NaN, so the sum is NaN exactly when the CPU's flag is set (finite
// magnitudes are non-negative: their sum may overflow to inf, never to NaN). A full block's
// scale is sum * 2^-log2(B): the same correctly rounded quotient as the CPU's division.
constexpr int kSign1Pairs = 16;  // blocks per warp and round

__device__ __forceinline__ float sign1Magnitude(float x) {
  const uint32_t a = floatBits(x) & 0x7fffffffu;
  return a < 0x7f800000u ? bitsFloat(a) : bitsFloat(0x7fc00000u);
}

// The block sum of the pair, from this lane's 4 partial sums g[c] (tree position 4m + c).
__device__ __forceinline__ float sign1PairSum(const float (&g)[4], int m) {
  float k0 = m ? g[2] : g[0], k1 = m ? g[3] : g[1];  // step 4: components kept
  k0 = codec::addRn(k0, __shfl_xor_sync(0xffffffffu, m ? g[0] : g[2], 1));
  k1 = codec::addRn(k1, __shfl_xor_sync(0xffffffffu, m ? g[1] : g[3], 1));
  // Lane 0 holds components 0 and 1, lane 1 components 2 and 3. Step 2: c + (c ^ 2).
  const float t = codec::addRn(m ? k1 : k0, __shfl_xor_sync(0xffffffffu, m ? k0 : k1, 1));
  return codec::addRn(t, __shfl_xor_sync(0xffffffffu, t, 1));  // step 1
}

__device__ __forceinline__ float sign1ScaleOf(float sum, size_t len, int B) {
  if ((floatBits(sum) & 0x7fffffffu) > 0x7f800000u) return bitsFloat(0x7fc00000u);
  if (len == static_cast<size_t>(B)) return codec::mulRn(sum, 1.0f / static_cast<float>(B));
  return codec::divRn(sum, static_cast<float>(len));
}

// res[i + c] = v[c] - decode(v[c]) for the elements before len; 0 where the scale is not finite
// (then the decoded value is not, and a block with a non-finite element has a NaN scale): the
// residualOf rule without its per-element tests.
__device__ __forceinline__ void storeSign1Residual4(float* res, size_t i, size_t len,
                                                    const float (&v)[4], float scale) {
  const bool finite = codec::isFiniteBits(scale);
  float r[4];
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    const float d = bitsFloat(floatBits(scale) ^ (floatBits(v[c]) & 0x80000000u));
    r[c] = finite ? codec::subRn(v[c], d) : 0.0f;
  }
  if (i + 4 <= len) {
    *reinterpret_cast<float4*>(res + i) = make_float4(r[0], r[1], r[2], r[3]);
    return;
  }
#pragma unroll
  for (int c = 0; c < 4; ++c)
    if (i + c < len) res[i + c] = r[c];
}

// R rounds of 16 blocks per warp iteration (R * 4 * B / 32 loads of 16 bytes in flight per lane).
template <typename T, int B, int R>
__global__ void __launch_bounds__(kCodecThreads, 4) encodeSign1PairKernel(EncodeArgs a) {
  constexpr int K = B / 32, kPerIter = R * kSign1Pairs;
  const auto [lane, warp, nwarps] = warpGrid();
  const int m = lane & 1, p = lane >> 1;
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const auto [sp, nb, seg, in, res] = encodeSegment<T, B>(a, j);
    float* scales = reinterpret_cast<float*>(seg + nb * B / 8);
    for (size_t b0 = warp * kPerIter; b0 < nb; b0 += nwarps * kPerIter) {
      float v[R][K][4][4];
#pragma unroll
      for (int r = 0; r < R; ++r)
#pragma unroll
        for (int k = 0; k < K; ++k)
#pragma unroll
          for (int q = 0; q < 4; ++q)
            loadGroup<T>(in, res, (b0 + kSign1Pairs * r + p) * B + 32 * k + 8 * q + 4 * m, sp.len,
                         v[r][k][q]);
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const size_t b = b0 + kSign1Pairs * r + p;
        float g[4];
#pragma unroll
        for (int c = 0; c < 4; ++c) {
          float f[4];
#pragma unroll
          for (int q = 0; q < 4; ++q) {
            f[q] = sign1Magnitude(v[r][0][q][c]);
#pragma unroll
            for (int k = 1; k < K; ++k) f[q] = codec::addRn(f[q], sign1Magnitude(v[r][k][q][c]));
          }
          // Steps 16 (q ^ 2), then 8 (q ^ 1).
          g[c] = codec::addRn(codec::addRn(f[0], f[2]), codec::addRn(f[1], f[3]));
        }
        const float sum = sign1PairSum(g, m);
        // Bit 8q + 4m + c of part k's word: element 8q + 4m + c's sign (little-endian bytes of
        // 8 elements); the pair's two halves ORed.
        uint32_t word[K];
#pragma unroll
        for (int k = 0; k < K; ++k) {
          uint32_t w = 0;
#pragma unroll
          for (int q = 0; q < 4; ++q)
#pragma unroll
            for (int c = 0; c < 4; ++c) w |= (floatBits(v[r][k][q][c]) >> 31) << (8 * q + c);
          w <<= 4 * m;
          word[k] = w | __shfl_xor_sync(0xffffffffu, w, 1);
        }
        if (b >= nb) continue;  // shuffles done: the lanes past the segment stop here
        const size_t len = sp.len - b * B < static_cast<size_t>(B) ? sp.len - b * B : B;
        const float scale = sign1ScaleOf(sum, len, B);
        if (m == 0) scales[b] = scale;
#pragma unroll
        for (int k = 0; k < K; ++k)
          if ((k & 1) == m) *reinterpret_cast<uint32_t*>(seg + (b * B + 32 * k) / 8) = word[k];
        if (res)
#pragma unroll
          for (int k = 0; k < K; ++k)
#pragma unroll
            for (int q = 0; q < 4; ++q)
              storeSign1Residual4(res, b * B + 32 * k + 8 * q + 4 * m, sp.len, v[r][k][q], scale);
      }
    }
  }
}

// Rounds per warp iteration: 8 loads of 16 bytes per lane at B = 32 and 64, 16 at B = 128.
template <int B>
constexpr int sign1PairRounds() {
  return B == 32 ? 2 : 1;
}

// Decode-sum. A warp iteration is 512 output elements; lane group g (8 lanes) owns the 128
// elements from 128g, lane h of it elements 32r + 4h .. + 3 of step r (each store a group's
// whole 128-byte line). A group's bits are one 16-byte word per segment and its scales one
// 4-, 8- or 16-byte load: 2 loads per segment and 16 elements (v3: 2 per 4 elements, whose
// address arithmetic dominated).
constexpr int kSign1SumChunk = 512, kSign1SumBatch = 4;

struct Sign1Raw {
  uint4 bits;  // the group's 4 words (parts 0..3)
  float s[4];  // the scale of each part
};

template <int B>
__device__ __forceinline__ Sign1Raw sign1Fetch(const uint8_t* seg, size_t scaleOffset,
                                               bool scales16, size_t e0) {
  Sign1Raw raw;
  raw.bits = *reinterpret_cast<const uint4*>(seg + e0 / 8);
  const float* sc = reinterpret_cast<const float*>(seg + scaleOffset) + e0 / B;
  if (B == 32) {
    if (scales16) {
      const float4 s = *reinterpret_cast<const float4*>(sc);
      raw.s[0] = s.x, raw.s[1] = s.y, raw.s[2] = s.z, raw.s[3] = s.w;
    } else {
#pragma unroll
      for (int r = 0; r < 4; ++r) raw.s[r] = sc[r];
    }
  } else if (B == 64) {
    const float2 s = *reinterpret_cast<const float2*>(sc);
    raw.s[0] = raw.s[1] = s.x;
    raw.s[2] = raw.s[3] = s.y;
  } else {
    raw.s[0] = raw.s[1] = raw.s[2] = raw.s[3] = sc[0];
  }
  return raw;
}

template <typename T, int B>
__global__ void __launch_bounds__(kCodecThreads, B == 32 ? 4 : 1)
    decodeSumSign1Kernel(DecodeSumArgs a) {
  const int lane = threadIdx.x & 31, h = lane & 7, g = lane >> 3;
  const size_t warp = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const size_t nwarps = (static_cast<size_t>(gridDim.x) * blockDim.x) >> 5;
  const size_t chunks = a.len / kSign1SumChunk;  // whole chunks; the tail is done below
  const size_t scaleOffset = (a.len + B - 1) / B * B / 8;
  const bool scales16 = scaleOffset % 16 == 0;
  const bool pow2 = a.divisor > 0 && (a.divisor & (a.divisor - 1)) == 0;
  const float inverse = pow2 ? 1.0f / static_cast<float>(a.divisor) : 0.0f;
  for (size_t c = warp; c < chunks; c += nwarps) {
    const size_t e0 = c * kSign1SumChunk + 128 * g;  // the group's first element
    float v[4][4];
    for (int q0 = 0; q0 < a.nseg; q0 += kSign1SumBatch) {
      Sign1Raw raw[kSign1SumBatch];
#pragma unroll
      for (int q = 0; q < kSign1SumBatch; ++q)
        if (q0 + q < a.nseg)
          raw[q] = sign1Fetch<B>(a.in + (q0 + q) * a.segBytes, scaleOffset, scales16, e0);
#pragma unroll
      for (int q = 0; q < kSign1SumBatch; ++q) {
        if (q0 + q >= a.nseg) break;
        const uint32_t words[4] = {raw[q].bits.x, raw[q].bits.y, raw[q].bits.z, raw[q].bits.w};
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const uint32_t w = words[r] >> (4 * h);  // this lane's 4 bits, lowest first
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            const float d = bitsFloat(floatBits(raw[q].s[r]) ^ ((w << (31 - e)) & 0x80000000u));
            v[r][e] = q0 + q == 0 ? d : codec::addRn(v[r][e], d);
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      if (a.divisor)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          v[r][e] = pow2 ? codec::mulRn(v[r][e], inverse)
                         : codec::divRn(v[r][e], static_cast<float>(a.divisor));
      store4<T>(a.out, e0 + 32 * r + 4 * h, v[r]);
    }
  }
  // The last len % 512 elements, one by one.
  sign1DecodeSumFrom<T, B>(a, chunks * kSign1SumChunk);
}

}  // namespace codec_detail
}  // namespace tutti
