// Encoding kernels of the block codecs (fp8 e4m3/e5m2, int8, 1-bit sign) and of bf16: one warp
// per block of B elements (lane l holds elements l, l + 32, ...), scales from a warp
// reduction, codes stored as the CPU encoder stores them (host_codec.cc), bit for bit.
#include "codec_device.cuh"

namespace tutti {
namespace codec_detail {

template <typename T, typename Elem, int B>
__global__ void encodeScaledKernel(EncodeArgs a, size_t maxBlocks) {
  using Code = typename Elem::Code;
  constexpr int K = B / 32;
  const int lane = threadIdx.x & 31;
  const size_t nwarps = (static_cast<size_t>(gridDim.x) * blockDim.x) >> 5;
  const size_t total = static_cast<size_t>(a.nseg) * maxBlocks;
  for (size_t w = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; w < total;
       w += nwarps) {
    const int j = static_cast<int>(w / maxBlocks);
    const size_t b = w % maxBlocks;
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    const size_t nb = (sp.len + B - 1) / B;
    if (b >= nb) continue;  // the whole warp skips
    float v[K];
    int32_t m = 0;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const size_t i = b * B + lane + 32 * k;
      v[k] = 0.0f;
      if (i < sp.len) {
        v[k] = loadAsFloat<T>(a.input, sp.offset + i);
        if (a.residual) v[k] = codec::addRn(v[k], a.residual[sp.offset + i]);
      }
      const int32_t mk = codec::finiteMagnitudeBits(v[k]);
      m = mk > m ? mk : m;
    }
    m = warpMax(m);
    const codec::BlockScale s =
        codec::scaleFromAmax(bitsFloat(static_cast<uint32_t>(m)), Elem::kMax);
    uint8_t* seg = a.out + j * a.segBytes;
    Code* codes = reinterpret_cast<Code*>(seg) + b * B;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const size_t i = b * B + lane + 32 * k;
      const Code c = Elem::encode(v[k], s.inverse);
      codes[lane + 32 * k] = c;
      if (a.residual && i < sp.len)
        a.residual[sp.offset + i] = residualOf(v[k], Elem::decode(c, s.scale));
    }
    if (lane == 0) reinterpret_cast<float*>(seg + nb * B)[b] = s.scale;
  }
}

template <typename T, int B>
__global__ void encodeSign1Kernel(EncodeArgs a, size_t maxBlocks) {
  constexpr int K = B / 32;
  const int lane = threadIdx.x & 31;
  const size_t nwarps = (static_cast<size_t>(gridDim.x) * blockDim.x) >> 5;
  const size_t total = static_cast<size_t>(a.nseg) * maxBlocks;
  for (size_t w = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; w < total;
       w += nwarps) {
    const int j = static_cast<int>(w / maxBlocks);
    const size_t b = w % maxBlocks;
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    const size_t nb = (sp.len + B - 1) / B;
    if (b >= nb) continue;
    float v[K];
    float sum = 0.0f;
    int nonFinite = 0;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const size_t i = b * B + lane + 32 * k;
      v[k] = 0.0f;
      if (i < sp.len) {
        v[k] = loadAsFloat<T>(a.input, sp.offset + i);
        if (a.residual) v[k] = codec::addRn(v[k], a.residual[sp.offset + i]);
      }
      const bool fin = codec::isFiniteBits(v[k]);
      nonFinite |= !fin;
      sum = codec::addRn(sum, fin ? bitsFloat(floatBits(v[k]) & 0x7fffffffu) : 0.0f);
    }
    // The butterfly of codec::sign1ButterflySum, one step per shuffle.
#pragma unroll
    for (int off = 16; off >= 1; off >>= 1)
      sum = codec::addRn(sum, __shfl_xor_sync(0xffffffffu, sum, off));
    nonFinite = __any_sync(0xffffffffu, nonFinite);
    const size_t len = sp.len - b * B < static_cast<size_t>(B) ? sp.len - b * B : B;
    const float scale = codec::sign1Scale(sum, static_cast<int>(len), nonFinite != 0);
    uint8_t* seg = a.out + j * a.segBytes;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const size_t i = b * B + lane + 32 * k;
      const uint32_t bit = codec::Sign1Format::bit(v[k]);
      // Byte g of the block holds elements 8g..8g+7, bit e for element 8g+e: the ballot of
      // 32 consecutive elements, stored little-endian, is exactly 4 such bytes.
      const uint32_t word = __ballot_sync(0xffffffffu, bit != 0);
      if (lane == 0) reinterpret_cast<uint32_t*>(seg + (b * B + 32 * k) / 8)[0] = word;
      if (a.residual && i < sp.len)
        a.residual[sp.offset + i] = residualOf(v[k], codec::Sign1Format::decode(bit, scale));
    }
    if (lane == 0) reinterpret_cast<float*>(seg + nb * B / 8)[b] = scale;
  }
}

template <typename T>
__global__ void encodeBf16Kernel(EncodeArgs a, size_t maxLen) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  const size_t total = static_cast<size_t>(a.nseg) * maxLen;
  for (size_t t = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < total;
       t += stride) {
    const int j = static_cast<int>(t / maxLen);
    const size_t i = t % maxLen;
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    if (i >= sp.len) continue;
    float v = loadAsFloat<T>(a.input, sp.offset + i);
    if (a.residual) v = codec::addRn(v, a.residual[sp.offset + i]);
    const uint16_t c = codec::Bf16Format::encode(v);
    reinterpret_cast<uint16_t*>(a.out + j * a.segBytes)[i] = c;
    if (a.residual) a.residual[sp.offset + i] = residualOf(v, codec::Bf16Format::decode(c));
  }
}

template <typename T, typename Elem>
cudaError_t encodeScaled(const EncodeArgs& a, size_t maxLen, cudaStream_t s) {
  switch (a.spec.block) {
    case 32: {
      const size_t mb = (maxLen + 31) / 32;
      encodeScaledKernel<T, Elem, 32><<<gridFor(a.nseg * mb * 32), kCodecThreads, 0, s>>>(a, mb);
      break;
    }
    case 64: {
      const size_t mb = (maxLen + 63) / 64;
      encodeScaledKernel<T, Elem, 64><<<gridFor(a.nseg * mb * 32), kCodecThreads, 0, s>>>(a, mb);
      break;
    }
    default: {
      const size_t mb = (maxLen + 127) / 128;
      encodeScaledKernel<T, Elem, 128><<<gridFor(a.nseg * mb * 32), kCodecThreads, 0, s>>>(a, mb);
      break;
    }
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t encodeSign1(const EncodeArgs& a, size_t maxLen, cudaStream_t s) {
  switch (a.spec.block) {
    case 32: {
      const size_t mb = (maxLen + 31) / 32;
      encodeSign1Kernel<T, 32><<<gridFor(a.nseg * mb * 32), kCodecThreads, 0, s>>>(a, mb);
      break;
    }
    case 64: {
      const size_t mb = (maxLen + 63) / 64;
      encodeSign1Kernel<T, 64><<<gridFor(a.nseg * mb * 32), kCodecThreads, 0, s>>>(a, mb);
      break;
    }
    default: {
      const size_t mb = (maxLen + 127) / 128;
      encodeSign1Kernel<T, 128><<<gridFor(a.nseg * mb * 32), kCodecThreads, 0, s>>>(a, mb);
      break;
    }
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t encodeTyped(const EncodeArgs& a, cudaStream_t s) {
  const size_t maxLen = maxSpan(a.rule, a.firstSeg, a.nseg);
  if (maxLen == 0) return cudaSuccess;
  switch (a.spec.codec) {
    case tuttiCodecBf16:
      encodeBf16Kernel<T><<<gridFor(a.nseg * maxLen), kCodecThreads, 0, s>>>(a, maxLen);
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
