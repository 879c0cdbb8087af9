// Decoding kernels of the dense codecs (bf16, fp8, int8, 1-bit): threads over groups of 4
// elements, the segments of all ranks summed in rank order (as the CPU does, so the sums are the
// same bits), or each segment decoded into its span of the output.
#include "codec_device.cuh"
#include "codec_sign1_v4.cuh"
#include "codec_sign1_v5.cuh"

namespace tutti {
namespace codec_detail {

// One thread per 4 elements: codes of 4 elements in one load, 4 outputs in one store, where
// segments and output are aligned for it (workspaces are); element by element where not.
template <typename T, typename Reader>
__global__ void decodeSumKernel(DecodeSumArgs a) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  const bool vec = alignedTo(a.in, 8) && a.segBytes % 8 == 0 && alignedTo(a.out, 4 * sizeof(T));
  for (size_t g = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; 4 * g < a.len;
       g += stride) {
    const size_t i0 = 4 * g;
    if (vec && i0 + 4 <= a.len) {
      float v[4], w[4];
      Reader(a.in, a.len).decode4(i0, v);
      for (int q = 1; q < a.nseg; ++q) {
        Reader(a.in + q * a.segBytes, a.len).decode4(i0, w);
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = codec::addRn(v[e], w[e]);
      }
      if (a.divisor)
#pragma unroll
        for (int e = 0; e < 4; ++e) v[e] = codec::divRn(v[e], static_cast<float>(a.divisor));
      store4<T>(a.out, i0, v);
      continue;
    }
    for (size_t i = i0; i < i0 + 4 && i < a.len; ++i) {
      float v = Reader(a.in, a.len)(i);
      for (int q = 1; q < a.nseg; ++q) v = codec::addRn(v, Reader(a.in + q * a.segBytes, a.len)(i));
      if (a.divisor) v = codec::divRn(v, static_cast<float>(a.divisor));
      storeFromFloat<T>(a.out, i, v);
    }
  }
}

// v3: a thread takes 2 groups of 4 elements a grid stride apart (each store instruction a warp's
// contiguous 512 bytes) and issues the code and scale loads of up to 4 segments for both before
// it decodes the first: 16 loads in flight per thread where v2 had 2, whose decode waited on
// each. The element math is the Readers' unpack4 (no int-to-float conversions, fp8 by bit
// placement), and a power-of-two divisor is a multiplication by its inverse: both round the
// exact quotient once, so they give the same bits as the division, subnormals included.
constexpr int kSumGroups = 2, kSumBatch = 4;

template <typename T, typename Reader>
__global__ void __launch_bounds__(kCodecThreads) decodeSumVecKernel(DecodeSumArgs a) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  const size_t groups = a.len / 4;  // whole groups; the tail is the last thread's
  const bool pow2 = a.divisor > 0 && (a.divisor & (a.divisor - 1)) == 0;
  const float inverse = pow2 ? 1.0f / static_cast<float>(a.divisor) : 0.0f;
  for (size_t g0 = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; g0 < groups;
       g0 += kSumGroups * stride) {
    float v[kSumGroups][4];
    for (int q0 = 0; q0 < a.nseg; q0 += kSumBatch) {
      typename Reader::Raw raw[kSumBatch][kSumGroups];
#pragma unroll
      for (int q = 0; q < kSumBatch; ++q) {
        if (q0 + q >= a.nseg) break;
        const Reader seg(a.in + (q0 + q) * a.segBytes, a.len);
#pragma unroll
        for (int u = 0; u < kSumGroups; ++u)
          if (g0 + u * stride < groups) raw[q][u] = seg.fetch4(4 * (g0 + u * stride));
      }
#pragma unroll
      for (int q = 0; q < kSumBatch; ++q) {
        if (q0 + q >= a.nseg) break;
#pragma unroll
        for (int u = 0; u < kSumGroups; ++u) {
          float w[4];
          Reader::unpack4(raw[q][u], w);
#pragma unroll
          for (int e = 0; e < 4; ++e) v[u][e] = q0 + q == 0 ? w[e] : codec::addRn(v[u][e], w[e]);
        }
      }
    }
#pragma unroll
    for (int u = 0; u < kSumGroups; ++u) {
      if (g0 + u * stride >= groups) break;
      if (a.divisor)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          v[u][e] = pow2 ? codec::mulRn(v[u][e], inverse)
                         : codec::divRn(v[u][e], static_cast<float>(a.divisor));
      store4<T>(a.out, 4 * (g0 + u * stride), v[u]);
    }
  }
  // The last len % 4 elements, one by one.
  const size_t i = 4 * groups + static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < a.len) {
    float x = Reader(a.in, a.len)(i);
    for (int q = 1; q < a.nseg; ++q) x = codec::addRn(x, Reader(a.in + q * a.segBytes, a.len)(i));
    if (a.divisor) x = codec::divRn(x, static_cast<float>(a.divisor));
    storeFromFloat<T>(a.out, i, x);
  }
}

template <typename T, typename Reader>
__global__ void decodeOutKernel(DecodeOutArgs a) {
  const int j = blockIdx.y;
  const codec::SegmentSpan sp = a.rule.span(j);
  const uint8_t* in = a.in + j * a.segBytes;
  const Reader seg(in, sp.len);
  void* out = static_cast<char*>(a.out) + sp.offset * sizeof(T);
  const bool vec = alignedTo(in, 8) && alignedTo(out, 4 * sizeof(T));
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t g = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; 4 * g < sp.len;
       g += stride) {
    const size_t i0 = 4 * g;
    if (vec && i0 + 4 <= sp.len) {
      float v[4];
      Reader::unpack4(seg.fetch4(i0), v);
      store4<T>(out, i0, v);
      continue;
    }
    for (size_t i = i0; i < i0 + 4 && i < sp.len; ++i) storeFromFloat<T>(out, i, seg(i));
  }
}

template <typename T, CodecKernels K>
struct DecodeSumRun {
  template <typename Reader>
  static cudaError_t go(const DecodeSumArgs& a, cudaStream_t s) {
    const bool vec = reinterpret_cast<uintptr_t>(a.in) % 8 == 0 && a.segBytes % 8 == 0 &&
                     reinterpret_cast<uintptr_t>(a.out) % (4 * sizeof(T)) == 0;
    if (K == CodecKernels::kV3 && vec)
      decodeSumVecKernel<T, Reader>
          <<<gridFor((a.len + 4 * kSumGroups - 1) / (4 * kSumGroups)), kCodecThreads, 0, s>>>(a);
    else
      decodeSumKernel<T, Reader><<<gridFor((a.len + 3) / 4), kCodecThreads, 0, s>>>(a);
    return cudaGetLastError();
  }
};

template <typename T>
struct DecodeOutRun {
  template <typename Reader>
  static cudaError_t go(const DecodeOutArgs& a, cudaStream_t s) {
    unsigned gx = gridFor((a.maxLen + 3) / 4);
    if (gx > 1024) gx = 1024;
    decodeOutKernel<T, Reader><<<dim3(gx, static_cast<unsigned>(a.nseg)), kCodecThreads, 0, s>>>(a);
    return cudaGetLastError();
  }
};

template <typename T, int B>
cudaError_t decodeSumSign1As(const DecodeSumArgs& a, cudaStream_t s) {
  const size_t warps = a.len / kSign1SumChunk;
  decodeSumSign1Kernel<T, B><<<gridFor(32 * (warps > 0 ? warps : 1)), kCodecThreads, 0, s>>>(a);
  return cudaGetLastError();
}

// v4: the 1-bit kernel of codec_sign1_v4.cuh (segments 16-byte aligned for its bit loads) and
// the fp8 readers with fp16 conversions; the other codecs as v3.
template <typename T>
cudaError_t decodeSumV4(const DecodeSumArgs& a, cudaStream_t s) {
  using V3 = DecodeSumRun<T, CodecKernels::kV3>;
  switch (a.spec.codec) {
    case tuttiCodecFp8E4M3:
      return withBlockReader<V3, Fp8ReaderV4Of<Fp8E4M3Dev>::template Reader>(a, s);
    case tuttiCodecFp8E5M2:
      return withBlockReader<V3, Fp8ReaderV4Of<Fp8E5M2Dev>::template Reader>(a, s);
    case tuttiCodecSign1:
      if (reinterpret_cast<uintptr_t>(a.in) % 16 == 0 && a.segBytes % 16 == 0 &&
          reinterpret_cast<uintptr_t>(a.out) % (4 * sizeof(T)) == 0) {
        switch (a.spec.block) {
          case 32: return decodeSumSign1As<T, 32>(a, s);
          case 64: return decodeSumSign1As<T, 64>(a, s);
          default: return decodeSumSign1As<T, 128>(a, s);
        }
      }
      break;
    default: break;
  }
  return withReader<V3>(a, s);
}

template <typename T, int B>
cudaError_t decodeSumSign1TileAs(const DecodeSumArgs& a, cudaStream_t s) {
  const size_t tiles = a.len / kSign1TileOut;
  const unsigned grid = static_cast<unsigned>(tiles > 8192 ? 8192 : tiles);
  const size_t shared = static_cast<size_t>(a.nseg) * Sign1Tile<B>::kSegBytes;
  decodeSumSign1TileKernel<T, B><<<grid, kCodecThreads, shared, s>>>(a);
  return cudaGetLastError();
}

// v5: v4 with the tiled 1-bit decode-sum of codec_sign1_v5.cuh where it applies (segments
// 16-byte aligned, at least one tile, at most kSign1TileMaxSeg segments); v4's kernels elsewhere.
template <typename T>
cudaError_t decodeSumV5(const DecodeSumArgs& a, cudaStream_t s) {
  if (a.spec.codec == tuttiCodecSign1 && reinterpret_cast<uintptr_t>(a.in) % 16 == 0 &&
      a.segBytes % 16 == 0 && reinterpret_cast<uintptr_t>(a.out) % (4 * sizeof(T)) == 0 &&
      a.nseg >= 1 && a.nseg <= kSign1TileMaxSeg && a.len >= static_cast<size_t>(kSign1TileOut)) {
    switch (a.spec.block) {
      case 32: return decodeSumSign1TileAs<T, 32>(a, s);
      case 64: return decodeSumSign1TileAs<T, 64>(a, s);
      case 128: return decodeSumSign1TileAs<T, 128>(a, s);
      default: break;
    }
  }
  return decodeSumV4<T>(a, s);
}

template <typename T>
cudaError_t decodeSumTyped(const DecodeSumArgs& a, CodecKernels k, cudaStream_t s) {
  if (k == CodecKernels::kV5) return decodeSumV5<T>(a, s);
  if (k == CodecKernels::kV4) return decodeSumV4<T>(a, s);
  if (k == CodecKernels::kV2) return withReader<DecodeSumRun<T, CodecKernels::kV2>>(a, s);
  return withReader<DecodeSumRun<T, CodecKernels::kV3>>(a, s);
}

template <typename T>
cudaError_t decodeOutTyped(const DecodeOutArgs& a, cudaStream_t s) {
  return withReader<DecodeOutRun<T>>(a, s);
}

}  // namespace codec_detail

cudaError_t launchDecodeSum(const DecodeSumArgs& a, cudaStream_t stream, CodecKernels k) {
  k = codecKernelsFor(k);
  if (a.spec.codec == tuttiCodecTopK) return launchTopKDecodeSum(a, stream);
  if (a.len == 0) return cudaSuccess;
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::decodeSumTyped<float>(a, k, stream);
    case tuttiFloat16: return codec_detail::decodeSumTyped<Half>(a, k, stream);
    case tuttiBfloat16: return codec_detail::decodeSumTyped<BFloat16>(a, k, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t launchDecodeOut(const DecodeOutArgs& a, cudaStream_t stream) {
  if (a.spec.codec == tuttiCodecTopK) return launchTopKDecodeOut(a, stream);
  if (a.maxLen == 0 || a.nseg == 0) return cudaSuccess;
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::decodeOutTyped<float>(a, stream);
    case tuttiFloat16: return codec_detail::decodeOutTyped<Half>(a, stream);
    case tuttiBfloat16: return codec_detail::decodeOutTyped<BFloat16>(a, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace tutti

namespace tutti {
const void* codecDecodeModule() {
  return reinterpret_cast<const void*>(
      &codec_detail::decodeOutKernel<float, codec_detail::Bf16Reader>);
}
}  // namespace tutti
