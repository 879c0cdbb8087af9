// Encoding kernels of the block codecs (fp8 e4m3/e5m2, int8, 1-bit sign) and of bf16: one warp
// per block of B elements (lane l holds elements l, l + 32, ...), scales from a warp
// reduction, codes stored as the CPU encoder stores them (host_codec.cc), bit for bit.
// Kernels of perf/gpu_codec_bench's table: perf/NOTES.md, "codec kernels".
#include "codec_device.cuh"

namespace tutti {
namespace codec_detail {

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
  const int lane = threadIdx.x & 31;
  const size_t warp = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const size_t nwarps = (static_cast<size_t>(gridDim.x) * blockDim.x) >> 5;
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    const size_t nb = (sp.len + B - 1) / B;
    uint8_t* seg = a.out + j * a.segBytes;
    for (size_t b0 = warp * U; b0 < nb; b0 += nwarps * U) {
      float v[U][K];
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
  const int lane = threadIdx.x & 31;
  const size_t warp = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const size_t nwarps = (static_cast<size_t>(gridDim.x) * blockDim.x) >> 5;
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    const size_t nb = (sp.len + B - 1) / B;
    uint8_t* seg = a.out + j * a.segBytes;
    for (size_t b0 = warp * U; b0 < nb; b0 += nwarps * U) {
      float v[U][K];
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

// Input as 4 elements at once (16 bytes of fp32), where it is aligned for that.
template <typename T>
struct Load4;
template <>
struct Load4<float> {
  static constexpr size_t kAlign = 16;
  static __device__ __forceinline__ float4 at(const void* p, size_t i) {
    return *reinterpret_cast<const float4*>(static_cast<const float*>(p) + i);
  }
};
template <typename H>
struct Load4Half {
  static constexpr size_t kAlign = 8;
  static __device__ __forceinline__ float4 at(const void* p, size_t i) {
    const uint2 w = *reinterpret_cast<const uint2*>(static_cast<const H*>(p) + i);
    H h[4];
    memcpy(h, &w, sizeof(w));
    return make_float4(toFloat(h[0]), toFloat(h[1]), toFloat(h[2]), toFloat(h[3]));
  }
};
template <>
struct Load4<Half> : Load4Half<Half> {};
template <>
struct Load4<BFloat16> : Load4Half<BFloat16> {};

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

template <typename T, typename Elem, int B>
cudaError_t encodeScaledAs(const EncodeArgs& a, size_t maxLen, cudaStream_t s) {
  const size_t warps = ((maxLen + B - 1) / B + 256 / B - 1) / (256 / B);
  encodeScaledKernel<T, Elem, B><<<segmentGrid(32 * warps, a.nseg), kCodecThreads, 0, s>>>(a);
  return cudaGetLastError();
}

template <typename T, typename Elem>
cudaError_t encodeScaled(const EncodeArgs& a, size_t maxLen, cudaStream_t s) {
  switch (a.spec.block) {
    case 32: return encodeScaledAs<T, Elem, 32>(a, maxLen, s);
    case 64: return encodeScaledAs<T, Elem, 64>(a, maxLen, s);
    default: return encodeScaledAs<T, Elem, 128>(a, maxLen, s);
  }
}

template <typename T, int B>
cudaError_t encodeSign1As(const EncodeArgs& a, size_t maxLen, cudaStream_t s) {
  const size_t warps = ((maxLen + B - 1) / B + 256 / B - 1) / (256 / B);
  encodeSign1Kernel<T, B><<<segmentGrid(32 * warps, a.nseg), kCodecThreads, 0, s>>>(a);
  return cudaGetLastError();
}

template <typename T>
cudaError_t encodeSign1(const EncodeArgs& a, size_t maxLen, cudaStream_t s) {
  switch (a.spec.block) {
    case 32: return encodeSign1As<T, 32>(a, maxLen, s);
    case 64: return encodeSign1As<T, 64>(a, maxLen, s);
    default: return encodeSign1As<T, 128>(a, maxLen, s);
  }
}

template <typename T>
cudaError_t encodeTyped(const EncodeArgs& a, cudaStream_t s) {
  const size_t maxLen = maxSpan(a.rule, a.firstSeg, a.nseg);
  if (maxLen == 0) return cudaSuccess;
  switch (a.spec.codec) {
    case tuttiCodecBf16:
      encodeBf16Kernel<T><<<segmentGrid((maxLen + 3) / 4, a.nseg), kCodecThreads, 0, s>>>(a);
      return cudaGetLastError();
    case tuttiCodecFp8E4M3: return encodeScaled<T, Fp8E4M3Dev>(a, maxLen, s);
    case tuttiCodecFp8E5M2: return encodeScaled<T, Fp8E5M2Dev>(a, maxLen, s);
    case tuttiCodecInt8: return encodeScaled<T, Int8Dev>(a, maxLen, s);
    case tuttiCodecSign1: return encodeSign1<T>(a, maxLen, s);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace codec_detail

cudaError_t launchEncode(const EncodeArgs& a, cudaStream_t stream) {
  if (a.spec.codec == tuttiCodecTopK) return launchTopKEncode(a, stream);
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::encodeTyped<float>(a, stream);
    case tuttiFloat16: return codec_detail::encodeTyped<Half>(a, stream);
    case tuttiBfloat16: return codec_detail::encodeTyped<BFloat16>(a, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace tutti

namespace tutti {
const void* codecEncodeModule() {
  return reinterpret_cast<const void*>(&codec_detail::encodeBf16Kernel<float>);
}
}  // namespace tutti
