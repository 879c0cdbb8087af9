// Decoding kernels of the dense codecs (bf16, fp8, int8, 1-bit): one thread per element, the
// segments of all ranks summed in rank order (as the CPU does, so the sums are the same bits),
// or each segment decoded into its span of the output.
#include "codec_device.cuh"

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
      seg.decode4(i0, v);
      store4<T>(out, i0, v);
      continue;
    }
    for (size_t i = i0; i < i0 + 4 && i < sp.len; ++i) storeFromFloat<T>(out, i, seg(i));
  }
}

template <typename T>
struct DecodeSumRun {
  template <typename Reader>
  static cudaError_t go(const DecodeSumArgs& a, cudaStream_t s) {
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

template <typename T>
cudaError_t decodeSumTyped(const DecodeSumArgs& a, cudaStream_t s) {
  return withReader<DecodeSumRun<T>>(a, s);
}

template <typename T>
cudaError_t decodeOutTyped(const DecodeOutArgs& a, cudaStream_t s) {
  return withReader<DecodeOutRun<T>>(a, s);
}

}  // namespace codec_detail

cudaError_t launchDecodeSum(const DecodeSumArgs& a, cudaStream_t stream) {
  if (a.spec.codec == tuttiCodecTopK) return launchTopKDecodeSum(a, stream);
  if (a.len == 0) return cudaSuccess;
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::decodeSumTyped<float>(a, stream);
    case tuttiFloat16: return codec_detail::decodeSumTyped<Half>(a, stream);
    case tuttiBfloat16: return codec_detail::decodeSumTyped<BFloat16>(a, stream);
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
