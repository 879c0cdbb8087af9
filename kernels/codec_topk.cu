// Top-k on the GPU. Encoding: one thread block per segment finds the kept-th largest
// magnitude key by a 4-pass radix select (8 bits per pass, shared-memory histograms), then
// writes the kept elements in index order (block-wide scans over tiles; among equal keys the
// lowest indices win), exactly the selection of the CPU encoder. Decoding scatters values:
// sums in rank order (one launch per segment keeps the order), outputs zero-filled first.
// Segments arrive from peers: an index out of range or not increasing is skipped, never
// written (the CPU path reports it as an error; docs/compression.md).
#include "codec_device.cuh"

namespace tutti {
namespace codec_detail {

constexpr int kTopKThreads = 1024;

template <typename T>
__device__ __forceinline__ float inputAt(const EncodeArgs& a, size_t i) {
  float v = loadAsFloat<T>(a.input, i);
  return a.residual ? codec::addRn(v, a.residual[i]) : v;
}

// Exclusive prefix count of `flag` over the block (thread order), and the block's total.
__device__ __forceinline__ unsigned blockPrefix(bool flag, unsigned* warpTotals, unsigned* total) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const unsigned ballot = __ballot_sync(0xffffffffu, flag);
  const unsigned before = __popc(ballot & ((1u << lane) - 1u));
  __syncthreads();  // warpTotals free to overwrite
  if (lane == 0) warpTotals[warp] = __popc(ballot);
  __syncthreads();
  unsigned offset = 0, sum = 0;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) {
    if (w < warp) offset += warpTotals[w];
    sum += warpTotals[w];
  }
  *total = sum;
  return offset + before;
}

template <typename T>
__global__ void __launch_bounds__(kTopKThreads) topkEncodeKernel(EncodeArgs a) {
  const int j = blockIdx.x;
  const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
  if (sp.len == 0) return;
  const codec::SegmentLayout l = codec::segmentLayout(a.spec, sp.len);
  uint8_t* seg = a.out + j * a.segBytes;
  float* values = reinterpret_cast<float*>(seg);
  uint32_t* index = reinterpret_cast<uint32_t*>(seg + l.scaleOffset);

  __shared__ unsigned hist[256];
  __shared__ uint32_t prefix, mask;
  __shared__ unsigned long long remaining;
  if (threadIdx.x == 0) {
    prefix = 0;
    mask = 0;
    remaining = l.kept;
  }
  for (int pass = 0; pass < 4; ++pass) {
    const int shift = 24 - 8 * pass;
    for (int d = threadIdx.x; d < 256; d += blockDim.x) hist[d] = 0;
    __syncthreads();
    const uint32_t p = prefix, m = mask;
    for (size_t i = threadIdx.x; i < sp.len; i += blockDim.x) {
      const uint32_t key = codec::topkKey(inputAt<T>(a, sp.offset + i));
      if ((key & m) == p) atomicAdd(&hist[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      unsigned long long cum = 0;
      for (int d = 255; d >= 0; --d) {
        if (cum + hist[d] >= remaining) {
          remaining -= cum;
          prefix |= static_cast<uint32_t>(d) << shift;
          mask |= 255u << shift;
          break;
        }
        cum += hist[d];
      }
    }
    __syncthreads();
  }
  // prefix is the kept-th largest key; `remaining` elements equal to it are kept.
  const uint32_t threshold = prefix;
  const unsigned long long need = remaining;
  __shared__ unsigned warpTotals[32];
  unsigned long long written = 0, tiesSeen = 0;
  for (size_t base = 0; base < sp.len; base += blockDim.x) {
    const size_t i = base + threadIdx.x;
    const bool in = i < sp.len;
    const float v = in ? inputAt<T>(a, sp.offset + i) : 0.0f;
    const uint32_t key = codec::topkKey(v);
    const bool eq = in && key == threshold;
    unsigned eqTotal = 0, selTotal = 0;
    const unsigned eqBefore = blockPrefix(eq, warpTotals, &eqTotal);
    const bool sel = in && (key > threshold || (eq && tiesSeen + eqBefore < need));
    const unsigned selBefore = blockPrefix(sel, warpTotals, &selTotal);
    if (sel) {
      values[written + selBefore] = v;
      index[written + selBefore] = static_cast<uint32_t>(i);
    }
    if (in && a.residual) a.residual[sp.offset + i] = sel ? 0.0f : residualOf(v, 0.0f);
    written += selTotal;
    tiesSeen += eqTotal;
  }
}

__global__ void zeroFloats(float* p, size_t n) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    p[i] = 0.0f;
}

// acc[index[t]] += value[t] for the kept entries of one segment (indices are distinct).
__global__ void topkAccumulate(const uint8_t* seg, size_t len, codec::CodecSpec spec, float* acc) {
  const codec::SegmentLayout l = codec::segmentLayout(spec, len);
  const float* values = reinterpret_cast<const float*>(seg);
  const uint32_t* index = reinterpret_cast<const uint32_t*>(seg + l.scaleOffset);
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t t = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < l.kept;
       t += stride) {
    const uint32_t i = index[t];
    if (i >= len || (t > 0 && index[t - 1] >= i)) continue;  // malformed: never written
    acc[i] = codec::addRn(acc[i], values[t]);
  }
}

template <typename T>
__global__ void finishSum(const float* acc, size_t len, int divisor, void* out) {
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < len;
       i += stride) {
    float v = acc[i];
    if (divisor) v = codec::divRn(v, static_cast<float>(divisor));
    storeFromFloat<T>(out, i, v);
  }
}

template <typename T>
__global__ void topkZeroSpans(DecodeOutArgs a) {
  const codec::SegmentSpan sp = a.rule.span(blockIdx.y);
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < sp.len;
       i += stride)
    storeFromFloat<T>(a.out, sp.offset + i, 0.0f);
}

template <typename T>
__global__ void topkScatterSpans(DecodeOutArgs a) {
  const int j = blockIdx.y;
  const codec::SegmentSpan sp = a.rule.span(j);
  if (sp.len == 0) return;
  const uint8_t* seg = a.in + j * a.segBytes;
  const codec::SegmentLayout l = codec::segmentLayout(a.spec, sp.len);
  const float* values = reinterpret_cast<const float*>(seg);
  const uint32_t* index = reinterpret_cast<const uint32_t*>(seg + l.scaleOffset);
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t t = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < l.kept;
       t += stride) {
    const uint32_t i = index[t];
    if (i >= sp.len || (t > 0 && index[t - 1] >= i)) continue;
    // 0 + v, as the CPU decoder accumulates onto a zeroed span.
    storeFromFloat<T>(a.out, sp.offset + i, codec::addRn(0.0f, values[t]));
  }
}

template <typename T>
cudaError_t topkEncodeTyped(const EncodeArgs& a, cudaStream_t s) {
  topkEncodeKernel<T><<<a.nseg, kTopKThreads, 0, s>>>(a);
  return cudaGetLastError();
}

template <typename T>
cudaError_t topkFinish(const DecodeSumArgs& a, cudaStream_t s) {
  finishSum<T><<<gridFor(a.len), kCodecThreads, 0, s>>>(a.scratch, a.len, a.divisor, a.out);
  return cudaGetLastError();
}

template <typename T>
cudaError_t topkDecodeOutTyped(const DecodeOutArgs& a, cudaStream_t s) {
  unsigned gx = gridFor(a.maxLen);
  if (gx > 1024) gx = 1024;
  const dim3 grid(gx, static_cast<unsigned>(a.nseg));
  topkZeroSpans<T><<<grid, kCodecThreads, 0, s>>>(a);
  topkScatterSpans<T><<<grid, kCodecThreads, 0, s>>>(a);
  return cudaGetLastError();
}

}  // namespace codec_detail

cudaError_t launchTopKEncode(const EncodeArgs& a, cudaStream_t stream) {
  if (a.nseg == 0) return cudaSuccess;
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::topkEncodeTyped<float>(a, stream);
    case tuttiFloat16: return codec_detail::topkEncodeTyped<Half>(a, stream);
    case tuttiBfloat16: return codec_detail::topkEncodeTyped<BFloat16>(a, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t launchTopKDecodeSum(const DecodeSumArgs& a, cudaStream_t stream) {
  using namespace codec_detail;
  if (a.len == 0) return cudaSuccess;
  if (!a.scratch) return cudaErrorInvalidValue;
  zeroFloats<<<gridFor(a.len), kCodecThreads, 0, stream>>>(a.scratch, a.len);
  for (int q = 0; q < a.nseg; ++q) {
    const codec::SegmentLayout l = codec::segmentLayout(a.spec, a.len);
    topkAccumulate<<<gridFor(l.kept), kCodecThreads, 0, stream>>>(a.in + q * a.segBytes, a.len,
                                                                  a.spec, a.scratch);
  }
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  switch (a.dtype) {
    case tuttiFloat32: return topkFinish<float>(a, stream);
    case tuttiFloat16: return topkFinish<Half>(a, stream);
    case tuttiBfloat16: return topkFinish<BFloat16>(a, stream);
    default: return cudaErrorInvalidValue;
  }
}

cudaError_t launchTopKDecodeOut(const DecodeOutArgs& a, cudaStream_t stream) {
  if (a.maxLen == 0 || a.nseg == 0) return cudaSuccess;
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::topkDecodeOutTyped<float>(a, stream);
    case tuttiFloat16: return codec_detail::topkDecodeOutTyped<Half>(a, stream);
    case tuttiBfloat16: return codec_detail::topkDecodeOutTyped<BFloat16>(a, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace tutti

namespace tutti {
const void* codecTopKModule() { return reinterpret_cast<const void*>(&codec_detail::zeroFloats); }
}  // namespace tutti
