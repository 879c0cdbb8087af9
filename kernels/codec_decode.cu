// Decoding kernels of the dense codecs (bf16, fp8, int8, 1-bit): one thread per element, the
// segments of all ranks summed in rank order (as the CPU does, so the sums are the same bits),
// or each segment decoded into its span of the output.
#include "codec_device.cuh"

namespace tutti {
namespace codec_detail {

template <typename T, typename Reader>
__global__ void decodeSumKernel(DecodeSumArgs a) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.len;
       i += stride) {
    float v = Reader(a.in, a.len)(i);
    for (int q = 1; q < a.nseg; ++q) v = codec::addRn(v, Reader(a.in + q * a.segBytes, a.len)(i));
    if (a.divisor) v = codec::divRn(v, static_cast<float>(a.divisor));
    storeFromFloat<T>(a.out, i, v);
  }
}

template <typename T, typename Reader>
__global__ void decodeOutKernel(DecodeOutArgs a) {
  const int j = blockIdx.y;
  const codec::SegmentSpan sp = a.rule.span(j);
  const Reader seg(a.in + j * a.segBytes, sp.len);
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < sp.len;
       i += stride)
    storeFromFloat<T>(a.out, sp.offset + i, seg(i));
}

template <typename T>
struct DecodeSumRun {
  template <typename Reader>
  static cudaError_t go(const DecodeSumArgs& a, cudaStream_t s) {
    decodeSumKernel<T, Reader><<<gridFor(a.len), kCodecThreads, 0, s>>>(a);
    return cudaGetLastError();
  }
};

template <typename T>
struct DecodeOutRun {
  template <typename Reader>
  static cudaError_t go(const DecodeOutArgs& a, cudaStream_t s) {
    unsigned gx = gridFor(a.maxLen);
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
