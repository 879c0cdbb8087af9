// Encoding kernels of the block codecs (fp8 e4m3/e5m2, int8, 1-bit sign) and of bf16: warps
// over blocks of B elements, scales from warp reductions, codes stored as the CPU encoder
// stores them (host_codec.cc), bit for bit.
// Kernels of perf/gpu_codec_bench's table: perf/NOTES.md, "codec kernels".
#include <stdlib.h>

#include <string>

#include "codec_device.cuh"
#include "codec_sign1_v4.cuh"

namespace tutti {
namespace codec_detail {

// Blocks b0 .. b0 + U - 1 of a segment into a warp, lane l holding elements l, l + 32, ... of
// each (input + residual; zeros past the segment's end).
template <typename T, int B, int U, int K>
__device__ __forceinline__ void loadBlocks(const EncodeArgs& a, const codec::SegmentSpan& sp,
                                           size_t b0, int lane, float (&v)[U][K]) {
#pragma unroll
  for (int u = 0; u < U; ++u)
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const size_t i = (b0 + u) * B + lane + 32 * k;
      v[u][k] = 0.0f;
      if (i < sp.len) {
        v[u][k] = loadAsFloat<T>(a.input, sp.offset + i);
        if (a.residual) v[u][k] = codec::addRn(v[u][k], a.residual[sp.offset + i]);
      }
    }
}

// v2 (CodecKernels::kV2, and kV3's path for inputs not aligned for 16-byte loads).
// Segment j is handled by blocks with blockIdx.y = j (mod gridDim.y), so that neither the
// segment of an element nor its block is a 64-bit division: those divisions, per element
// or per block of 32, made the kernels compute-bound at a quarter of the copy bandwidth.
// A warp takes U = 256 / B consecutive blocks per step and loads all of them before the first
// reduction (8 loads of 128 bytes in flight per lane); lane u then computes block u's scale
// and shuffles it to the others: one division sequence per U blocks, not one per block (the
// two IEEE divisions of a scale cost more than encoding the 32 elements of a block).
template <typename T, typename Elem, int B>
__global__ void encodeScaledKernel(EncodeArgs a) {
  using Code = typename Elem::Code;
  constexpr int K = B / 32, U = 256 / B;
  const auto [lane, warp, nwarps] = warpGrid();
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const auto [sp, nb, seg, in, res] = encodeSegment<T, B>(a, j);
    for (size_t b0 = warp * U; b0 < nb; b0 += nwarps * U) {
      float v[U][K];
      loadBlocks<T, B>(a, sp, b0, lane, v);
      int32_t amax = 0;  // lane u: block u's
#pragma unroll
      for (int u = 0; u < U; ++u) {
        int32_t m = 0;
#pragma unroll
        for (int k = 0; k < K; ++k) {
          const int32_t mk = codec::finiteMagnitudeBits(v[u][k]);
          m = mk > m ? mk : m;
        }
        m = warpMax(m);
        amax = lane == u ? m : amax;
      }
      const codec::BlockScale mine =
          codec::scaleFromAmax(bitsFloat(static_cast<uint32_t>(amax)), Elem::kMax);
      if (lane < U && b0 + lane < nb)
        reinterpret_cast<float*>(seg + nb * B)[b0 + lane] = mine.scale;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const size_t b = b0 + u;
        if (b >= nb) break;  // the whole warp stops
        const float scale = __shfl_sync(0xffffffffu, mine.scale, u);
        const float inverse = __shfl_sync(0xffffffffu, mine.inverse, u);
        Code* codes = reinterpret_cast<Code*>(seg) + b * B;
#pragma unroll
        for (int k = 0; k < K; ++k) {
          const size_t i = b * B + lane + 32 * k;
          const Code c = Elem::encode(v[u][k], inverse);
          codes[lane + 32 * k] = c;
          if (a.residual && i < sp.len)
            a.residual[sp.offset + i] = residualOf(v[u][k], Elem::decode(c, scale));
        }
      }
    }
  }
}

// As encodeScaledKernel, with the 1-bit block sum in the order of codec::sign1ButterflySum.
template <typename T, int B>
__global__ void encodeSign1Kernel(EncodeArgs a) {
  constexpr int K = B / 32, U = 256 / B;
  const auto [lane, warp, nwarps] = warpGrid();
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const auto [sp, nb, seg, in, res] = encodeSegment<T, B>(a, j);
    for (size_t b0 = warp * U; b0 < nb; b0 += nwarps * U) {
      float v[U][K];
      loadBlocks<T, B>(a, sp, b0, lane, v);
      float blockSum = 0.0f;  // lane u: block u's
      bool blockNonFinite = false;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        float sum = 0.0f;
        int nonFinite = 0;
#pragma unroll
        for (int k = 0; k < K; ++k) {
          const bool fin = codec::isFiniteBits(v[u][k]);
          nonFinite |= !fin;
          sum = codec::addRn(sum, fin ? bitsFloat(floatBits(v[u][k]) & 0x7fffffffu) : 0.0f);
        }
        // The butterfly of codec::sign1ButterflySum, one step per shuffle.
#pragma unroll
        for (int off = 16; off >= 1; off >>= 1)
          sum = codec::addRn(sum, __shfl_xor_sync(0xffffffffu, sum, off));
        nonFinite = __any_sync(0xffffffffu, nonFinite);
        blockSum = lane == u ? sum : blockSum;
        blockNonFinite = lane == u ? nonFinite != 0 : blockNonFinite;
      }
      // Lane u's block: its length (the last one may be partial) and scale.
      const size_t mb = b0 + lane;
      const size_t len = mb < nb && sp.len - mb * B < static_cast<size_t>(B) ? sp.len - mb * B : B;
      const float mine = codec::sign1Scale(blockSum, static_cast<int>(len), blockNonFinite);
      if (lane < U && mb < nb) reinterpret_cast<float*>(seg + nb * B / 8)[mb] = mine;
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const size_t b = b0 + u;
        if (b >= nb) break;  // the whole warp stops
        const float scale = __shfl_sync(0xffffffffu, mine, u);
#pragma unroll
        for (int k = 0; k < K; ++k) {
          const size_t i = b * B + lane + 32 * k;
          const uint32_t bit = codec::Sign1Format::bit(v[u][k]);
          // Byte g of the block holds elements 8g..8g+7, bit e for element 8g+e: the ballot of
          // 32 consecutive elements, stored little-endian, is exactly 4 such bytes.
          const uint32_t word = __ballot_sync(0xffffffffu, bit != 0);
          if (lane == 0) reinterpret_cast<uint32_t*>(seg + (b * B + 32 * k) / 8)[0] = word;
          if (a.residual && i < sp.len)
            a.residual[sp.offset + i] = residualOf(v[u][k], codec::Sign1Format::decode(bit, scale));
        }
      }
    }
  }
}

// v3: lane l of a warp holds 4 consecutive elements of a step of 128 (one 16-byte load, codes
// stored as one 32-bit word), a block of B elements is G = B / 4 lanes, and a warp takes
// R = 8 steps per iteration: 8 loads of 16 bytes in flight per lane, NB = 8 * 128 / B blocks.
// Lane t computes the scale of the iteration's block t (one division sequence per lane) and
// shuffles it back. Per element that leaves the codec's rounding and ~1.5 shuffles (v2: a
// 5-shuffle reduction and 2 shuffles per element, one element per lane).
constexpr int kVecSteps = 8;

// Of a value held alike by each block's G lanes in every step: lane t gets block t's.
template <int G>
__device__ __forceinline__ float gatherBlocks(const float (&x)[kVecSteps], int lane) {
  constexpr int kPerStep = 32 / G;
  float mine = 0.0f;
#pragma unroll
  for (int r = 0; r < kVecSteps; ++r) {
    const float o = __shfl_sync(0xffffffffu, x[r], (lane % kPerStep) * G);
    mine = lane / kPerStep == r ? o : mine;
  }
  return mine;
}

// Lane t's value, block t's, to every lane of block t in step r.
template <int G>
__device__ __forceinline__ float scatterBlock(float mine, int r, int lane) {
  return __shfl_sync(0xffffffffu, mine, r * (32 / G) + lane / G);
}

template <typename T, typename Elem, int B>
__global__ void __launch_bounds__(kCodecThreads) encodeScaledVecKernel(EncodeArgs a) {
  constexpr int G = B / 4, kPerIter = 128 * kVecSteps;
  const auto [lane, warp, nwarps] = warpGrid();
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const auto [sp, nb, seg, in, res] = encodeSegment<T, B>(a, j);
    float* scales = reinterpret_cast<float*>(seg + nb * B);
    for (size_t c0 = warp * kPerIter; c0 < sp.len; c0 += nwarps * kPerIter) {
      float v[kVecSteps][4], amax[kVecSteps];
#pragma unroll
      for (int r = 0; r < kVecSteps; ++r)
        loadGroup<T>(in, res, c0 + 128 * r + 4 * lane, sp.len, v[r]);
#pragma unroll
      for (int r = 0; r < kVecSteps; ++r) {
        int32_t m = 0;
#pragma unroll
        for (int e = 0; e < 4; ++e) m = max(m, codec::finiteMagnitudeBits(v[r][e]));
#pragma unroll
        for (int off = G / 2; off >= 1; off >>= 1) m = max(m, __shfl_xor_sync(0xffffffffu, m, off));
        amax[r] = bitsFloat(static_cast<uint32_t>(m));
      }
      const codec::BlockScale mine = codec::scaleFromAmax(gatherBlocks<G>(amax, lane), Elem::kMax);
      const size_t bt = c0 / B + lane;
      if (lane < kPerIter / B && bt < nb) scales[bt] = mine.scale;
#pragma unroll
      for (int r = 0; r < kVecSteps; ++r) {
        if (c0 + 128 * r >= nb * B) break;  // the whole warp stops
        const size_t i = c0 + 128 * r + 4 * lane;
        const uint32_t w = Elem::encode4(v[r], scatterBlock<G>(mine.inverse, r, lane));
        if (i < nb * B) *reinterpret_cast<uint32_t*>(seg + i) = w;
        if (res) {
          float d[4];
          Elem::decode4(w, scatterBlock<G>(mine.scale, r, lane), d);
          storeResidual4(res, i, sp.len, v[r], d);
        }
      }
    }
  }
}

// As encodeScaledVecKernel for the 1-bit codec. The block sum keeps the CPU's order
// (host_codec.cc encodeSign1, sign1ButterflySum): lane l of 32 folds elements l, l + 32, ...
// left to right, then a halving tree adds partial l + off to l for off = 16, 8, 4, 2, 1. Here
// element 32k + 4m + c of a block is in the block's lane 8k + m, component c: the fold is
// shuffles from lanes 8 apart; tree steps 16, 8 and 4 (m's bits) pair lanes 4, 2 and 1 apart,
// each lane keeping half of its components (so 6 shuffles for 4 elements); steps 2 and 1
// (c's bits) pair the lanes that ended up with components c and c ^ 2, then c ^ 1.
template <int K>
__device__ __forceinline__ float sign1GroupSum(float (&p)[4], int lane) {
  if (K > 1) {
    const int base = (lane & ~(8 * K - 1)) | (lane & 7);
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      float acc = p[c];
#pragma unroll
      for (int k = 1; k < K; ++k)
        acc = codec::addRn(acc, __shfl_sync(0xffffffffu, p[c], base + 8 * k));
      p[c] = acc;
    }
  }
  const bool h2 = lane & 4, h1 = lane & 2;
  // Step 16: this lane keeps components 2 * h2 and 2 * h2 + 1, its partner the other two.
  float k0 = h2 ? p[2] : p[0], k1 = h2 ? p[3] : p[1];
  const float s0 = h2 ? p[0] : p[2], s1 = h2 ? p[1] : p[3];
  k0 = codec::addRn(k0, __shfl_xor_sync(0xffffffffu, s0, 4));
  k1 = codec::addRn(k1, __shfl_xor_sync(0xffffffffu, s1, 4));
  // Step 8: component 2 * h2 + h1.
  float k = h1 ? k1 : k0;
  k = codec::addRn(k, __shfl_xor_sync(0xffffffffu, h1 ? k0 : k1, 2));
  k = codec::addRn(k, __shfl_xor_sync(0xffffffffu, k, 1));     // step 4
  k = codec::addRn(k, __shfl_xor_sync(0xffffffffu, k, 4));     // step 2: components c, c ^ 2
  return codec::addRn(k, __shfl_xor_sync(0xffffffffu, k, 2));  // step 1
}

template <typename T, int B>
__global__ void __launch_bounds__(kCodecThreads) encodeSign1VecKernel(EncodeArgs a) {
  constexpr int G = B / 4, kPerIter = 128 * kVecSteps;
  const auto [lane, warp, nwarps] = warpGrid();
  const uint32_t groupMask = G == 32 ? 0xffffffffu : (1u << (G % 32)) - 1u;
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const auto [sp, nb, seg, in, res] = encodeSegment<T, B>(a, j);
    float* scales = reinterpret_cast<float*>(seg + nb * B / 8);
    for (size_t c0 = warp * kPerIter; c0 < sp.len; c0 += nwarps * kPerIter) {
      float v[kVecSteps][4], sum[kVecSteps];
      uint32_t bad[kVecSteps];
#pragma unroll
      for (int r = 0; r < kVecSteps; ++r)
        loadGroup<T>(in, res, c0 + 128 * r + 4 * lane, sp.len, v[r]);
#pragma unroll
      for (int r = 0; r < kVecSteps; ++r) {
        float p[4];
#pragma unroll
        for (int e = 0; e < 4; ++e)
          p[e] = codec::isFiniteBits(v[r][e]) ? bitsFloat(floatBits(v[r][e]) & 0x7fffffffu) : 0.0f;
        sum[r] = sign1GroupSum<B / 32>(p, lane);
        bad[r] = __ballot_sync(0xffffffffu, nonFinite4(v[r]) != 0);
      }
      // Lane t: block t of the iteration (step t / (32 / G), lanes from (t % (32 / G)) * G).
      const int g = (lane % (32 / G)) * G;
      bool nonFinite = false;
#pragma unroll
      for (int r = 0; r < kVecSteps; ++r)
        nonFinite = lane / (32 / G) == r ? ((bad[r] >> g) & groupMask) != 0 : nonFinite;
      const size_t bt = c0 / B + lane;
      const size_t len = bt < nb && sp.len - bt * B < static_cast<size_t>(B) ? sp.len - bt * B : B;
      const float mine =
          codec::sign1Scale(gatherBlocks<G>(sum, lane), static_cast<int>(len), nonFinite);
      if (lane < kPerIter / B && bt < nb) scales[bt] = mine;
#pragma unroll
      for (int r = 0; r < kVecSteps; ++r) {
        if (c0 + 128 * r >= nb * B) break;  // the whole warp stops
        const size_t i = c0 + 128 * r + 4 * lane;
        // Bit e of byte g holds element 8g + e: lane l's 4 bits are bits 4 (l % 8) .. of word
        // l / 8 of the step, ORed together over the word's 8 lanes.
        uint32_t word = 0;
#pragma unroll
        for (int e = 0; e < 4; ++e) word |= codec::Sign1Format::bit(v[r][e]) << e;
        word <<= 4 * (lane & 7);
        word |= __shfl_xor_sync(0xffffffffu, word, 1);
        word |= __shfl_xor_sync(0xffffffffu, word, 2);
        word |= __shfl_xor_sync(0xffffffffu, word, 4);
        if ((lane & 7) == 0 && i < nb * B) *reinterpret_cast<uint32_t*>(seg + i / 8) = word;
        if (res) {
          const float scale = scatterBlock<G>(mine, r, lane);
          float d[4];
#pragma unroll
          for (int e = 0; e < 4; ++e)
            d[e] = codec::Sign1Format::decode(codec::Sign1Format::bit(v[r][e]), scale);
          storeResidual4(res, i, sp.len, v[r], d);
        }
      }
    }
  }
}

// One thread per 4 elements of a segment: 16-byte loads and 8-byte stores where the segment's
// input, residual and codes are aligned for them, one element at a time where not.
template <typename T>
__global__ void encodeBf16Kernel(EncodeArgs a) {
  const size_t tid = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    uint16_t* codes = reinterpret_cast<uint16_t*>(a.out + j * a.segBytes);
    const T* in = static_cast<const T*>(a.input) + sp.offset;
    float* res = a.residual ? a.residual + sp.offset : nullptr;
    const bool vec =
        alignedTo(in, Load4<T>::kAlign) && alignedTo(codes, 8) && (!res || alignedTo(res, 16));
    for (size_t g = tid; 4 * g < sp.len; g += stride) {
      const size_t i0 = 4 * g;
      if (vec && i0 + 4 <= sp.len) {
        const float4 x = Load4<T>::at(in, i0);
        float v[4] = {x.x, x.y, x.z, x.w};
        if (res) {
          const float4 r = *reinterpret_cast<const float4*>(res + i0);
          v[0] = codec::addRn(v[0], r.x);
          v[1] = codec::addRn(v[1], r.y);
          v[2] = codec::addRn(v[2], r.z);
          v[3] = codec::addRn(v[3], r.w);
        }
        uint16_t c[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) c[e] = codec::Bf16Format::encode(v[e]);
        uint2 w;
        memcpy(&w, c, sizeof(w));
        *reinterpret_cast<uint2*>(codes + i0) = w;
        if (res)
          *reinterpret_cast<float4*>(res + i0) =
              make_float4(residualOf(v[0], codec::Bf16Format::decode(c[0])),
                          residualOf(v[1], codec::Bf16Format::decode(c[1])),
                          residualOf(v[2], codec::Bf16Format::decode(c[2])),
                          residualOf(v[3], codec::Bf16Format::decode(c[3])));
        continue;
      }
      for (size_t i = i0; i < i0 + 4 && i < sp.len; ++i) {
        float v = loadAsFloat<T>(in, i);
        if (res) v = codec::addRn(v, res[i]);
        const uint16_t c = codec::Bf16Format::encode(v);
        codes[i] = c;
        if (res) res[i] = residualOf(v, codec::Bf16Format::decode(c));
      }
    }
  }
}

// Whether every segment's input, residual and codes are aligned for the v3 kernels: the
// input to 4 elements (segment offsets too: block-aligned rules keep them multiples of B),
// the residual to 16 bytes, the codes to 4.
template <typename T>
bool vectorizable(const EncodeArgs& a) {
  auto aligned = [](const void* p, size_t n) { return reinterpret_cast<uintptr_t>(p) % n == 0; };
  const size_t step = a.rule.kind == codec::SegmentRule::kBlockAligned
                          ? static_cast<size_t>(a.rule.block)
                          : a.rule.uniform;
  return aligned(a.input, Load4<T>::kAlign) && (!a.residual || aligned(a.residual, 16)) &&
         aligned(a.out, 4) && a.segBytes % 4 == 0 && step % 4 == 0;
}

template <typename T, typename Elem, int B>
cudaError_t encodeScaledAs(const EncodeArgs& a, size_t maxLen, CodecKernels k, cudaStream_t s) {
  if (k != CodecKernels::kV2 && vectorizable<T>(a)) {
    const size_t warps = (maxLen + 128 * kVecSteps - 1) / (128 * kVecSteps);
    encodeScaledVecKernel<T, Elem, B><<<segmentGrid(32 * warps, a.nseg), kCodecThreads, 0, s>>>(a);
    return cudaGetLastError();
  }
  const size_t warps = ((maxLen + B - 1) / B + 256 / B - 1) / (256 / B);
  encodeScaledKernel<T, Elem, B><<<segmentGrid(32 * warps, a.nseg), kCodecThreads, 0, s>>>(a);
  return cudaGetLastError();
}

template <typename T, typename Elem>
cudaError_t encodeScaled(const EncodeArgs& a, size_t maxLen, CodecKernels k, cudaStream_t s) {
  switch (a.spec.block) {
    case 32: return encodeScaledAs<T, Elem, 32>(a, maxLen, k, s);
    case 64: return encodeScaledAs<T, Elem, 64>(a, maxLen, k, s);
    default: return encodeScaledAs<T, Elem, 128>(a, maxLen, k, s);
  }
}

template <typename T, int B>
cudaError_t encodeSign1As(const EncodeArgs& a, size_t maxLen, CodecKernels k, cudaStream_t s) {
  if (k == CodecKernels::kV4 && vectorizable<T>(a)) {
    constexpr int R = sign1PairRounds<B>();
    const size_t warps = ((maxLen + B - 1) / B + R * kSign1Pairs - 1) / (R * kSign1Pairs);
    encodeSign1PairKernel<T, B, R><<<segmentGrid(32 * warps, a.nseg), kCodecThreads, 0, s>>>(a);
    return cudaGetLastError();
  }
  const bool v3 = k == CodecKernels::kV3;
  if (v3 && vectorizable<T>(a)) {
    const size_t warps = (maxLen + 128 * kVecSteps - 1) / (128 * kVecSteps);
    encodeSign1VecKernel<T, B><<<segmentGrid(32 * warps, a.nseg), kCodecThreads, 0, s>>>(a);
    return cudaGetLastError();
  }
  const size_t warps = ((maxLen + B - 1) / B + 256 / B - 1) / (256 / B);
  encodeSign1Kernel<T, B><<<segmentGrid(32 * warps, a.nseg), kCodecThreads, 0, s>>>(a);
  return cudaGetLastError();
}

template <typename T>
cudaError_t encodeSign1(const EncodeArgs& a, size_t maxLen, CodecKernels k, cudaStream_t s) {
  switch (a.spec.block) {
    case 32: return encodeSign1As<T, 32>(a, maxLen, k, s);
    case 64: return encodeSign1As<T, 64>(a, maxLen, k, s);
    default: return encodeSign1As<T, 128>(a, maxLen, k, s);
  }
}

template <typename T>
cudaError_t encodeTyped(const EncodeArgs& a, CodecKernels k, cudaStream_t s) {
  const size_t maxLen = maxSpan(a.rule, a.firstSeg, a.nseg);
  if (maxLen == 0) return cudaSuccess;
  switch (a.spec.codec) {
    case tuttiCodecBf16:
      encodeBf16Kernel<T><<<segmentGrid((maxLen + 3) / 4, a.nseg), kCodecThreads, 0, s>>>(a);
      return cudaGetLastError();
    case tuttiCodecFp8E4M3: return encodeScaled<T, Fp8E4M3Dev>(a, maxLen, k, s);
    case tuttiCodecFp8E5M2: return encodeScaled<T, Fp8E5M2Dev>(a, maxLen, k, s);
    case tuttiCodecInt8: return encodeScaled<T, Int8Dev>(a, maxLen, k, s);
    case tuttiCodecSign1: return encodeSign1<T>(a, maxLen, k, s);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace codec_detail

CodecKernels codecKernelsFor(CodecKernels k) {
  static const CodecKernels fromEnv = [] {
    const char* e = getenv("TUTTI_CODEC_KERNELS");
    const std::string v = e ? e : "";
    return v == "v2"   ? CodecKernels::kV2
           : v == "v3" ? CodecKernels::kV3
           : v == "v4" ? CodecKernels::kV4
           : v == "v5" ? CodecKernels::kV5
                       : CodecKernels::kV5;
  }();
  return k == CodecKernels::kBest ? fromEnv : k;
}

cudaError_t launchEncode(const EncodeArgs& a, cudaStream_t stream, CodecKernels k) {
  k = codecKernelsFor(k);
  if (k == CodecKernels::kV5) k = CodecKernels::kV4;  // v5 changed only a decode kernel
  if (a.spec.codec == tuttiCodecTopK) return launchTopKEncode(a, stream, k);
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::encodeTyped<float>(a, k, stream);
    case tuttiFloat16: return codec_detail::encodeTyped<Half>(a, k, stream);
    case tuttiBfloat16: return codec_detail::encodeTyped<BFloat16>(a, k, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace tutti

namespace tutti {
const void* codecEncodeModule() {
  return reinterpret_cast<const void*>(&codec_detail::encodeBf16Kernel<float>);
}
}  // namespace tutti
