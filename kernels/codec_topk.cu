// Top-k on the GPU. Encoding: one thread block per segment finds the kept-th largest
// magnitude key by a 4-pass radix select (8 bits per pass, shared-memory histograms), then
// writes the kept elements in index order (block-wide scans over tiles; among equal keys the
// lowest indices win), exactly the selection of the CPU encoder. Decoding scatters values:
// sums in rank order (one launch per segment keeps the order), outputs zero-filled first.
// Segments arrive from peers: an index out of range or not increasing is skipped, never
// written (the CPU path reports it as an error; docs/compression.md).
#include <algorithm>

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

// v4 (CodecKernels::kV4): the same selection over many thread blocks per segment. Three
// histogram passes (key bits 30..20, 19..9, 8..0; shared-memory histograms flushed into a
// global one, ~2048 blocks so that a hot bin takes few global atomics), each followed by a
// one-block digit choice as the 1-block kernel and the CPU make it; then a count pass per tile
// of kTopKTile elements (keys above the threshold, keys equal to it), an exclusive scan of the
// tile counts, and a write pass in which each tile puts its kept elements at its offset in
// index order (the first `need` ties by index, as the CPU). 5 reads of the input, each by the
// whole GPU. Scratch per segment (cudaMallocAsync on the stream, freed after the last kernel):
// the selection state, the global histogram and 2 counts per tile.
constexpr int kTopKBlock = 256, kTopKBins = 2048, kTopKSteps = 8;
constexpr size_t kTopKTile = 4 * kTopKBlock * kTopKSteps;  // elements per tile
constexpr int kTopKShift[3] = {20, 9, 0}, kTopKWidth[3] = {11, 11, 9};
constexpr int kTopKScanItems = 16;

struct TopKState {
  uint32_t prefix, mask;         // key bits chosen so far
  unsigned long long remaining;  // kept elements still to find below the prefix's bits
};

struct TopKScratch {
  uint8_t* base;
  size_t stride;  // bytes per segment
  __device__ TopKState* state(int j) const {
    return reinterpret_cast<TopKState*>(base + j * stride);
  }
  __device__ uint32_t* hist(int j) const {
    return reinterpret_cast<uint32_t*>(base + j * stride + sizeof(TopKState));
  }
  // Tile counts, turned into exclusive prefixes by the scan: keys above, keys equal.
  __device__ uint32_t* above(int j) const { return hist(j) + kTopKBins; }
  __device__ uint32_t* equal(int j, size_t tiles) const { return above(j) + tiles; }
};

__host__ __device__ inline size_t topkTiles(size_t len) {
  return (len + kTopKTile - 1) / kTopKTile;
}

// Elements i .. i + 3 of a segment (input + residual) and which are before len.
template <typename T>
__device__ __forceinline__ void topkLoad4(const T* in, const float* res, bool vec, size_t i,
                                          size_t len, float (&v)[4], bool (&ok)[4]) {
#pragma unroll
  for (int e = 0; e < 4; ++e) ok[e] = i + e < len;
  if (vec && i + 4 <= len) {
    loadGroup<T>(in, res, i, len, v);
    return;
  }
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    v[e] = 0.0f;
    if (ok[e]) {
      v[e] = loadAsFloat<T>(in, i + e);
      if (res) v[e] = codec::addRn(v[e], res[i + e]);
    }
  }
}

template <typename T>
__device__ __forceinline__ bool topkVec(const T* in, const float* res) {
  return alignedTo(in, Load4<T>::kAlign) && (!res || alignedTo(res, 16));
}

// Exclusive prefix of x over the block (thread order) and the block's total.
__device__ __forceinline__ uint32_t topkBlockScan(uint32_t x, uint32_t* total) {
  __shared__ uint32_t warps[kTopKBlock / 32];
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  uint32_t inc = x;
#pragma unroll
  for (int off = 1; off < 32; off <<= 1) {
    const uint32_t o = __shfl_up_sync(0xffffffffu, inc, off);
    if (lane >= off) inc += o;
  }
  __syncthreads();  // warps[] free to overwrite
  if (lane == 31) warps[w] = inc;
  __syncthreads();
  uint32_t before = 0, sum = 0;
#pragma unroll
  for (int k = 0; k < kTopKBlock / 32; ++k) {
    before += k < w ? warps[k] : 0u;
    sum += warps[k];
  }
  *total = sum;
  return before + inc - x;
}

__global__ void topkInit(EncodeArgs a, TopKScratch sc) {
  const int j = blockIdx.x;
  const size_t len = a.rule.span(a.firstSeg + j).len;
  if (threadIdx.x == 0) *sc.state(j) = TopKState{0, 0, codec::segmentLayout(a.spec, len).kept};
  for (int d = threadIdx.x; d < kTopKBins; d += blockDim.x) sc.hist(j)[d] = 0;
}

template <typename T>
__global__ void __launch_bounds__(kTopKBlock)
    topkHistPass(EncodeArgs a, TopKScratch sc, int shift, int width) {
  __shared__ uint32_t h[kTopKBins];
  const uint32_t digitMask = (1u << width) - 1u;
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    if (sp.len == 0) continue;
    const T* in = static_cast<const T*>(a.input) + sp.offset;
    const float* res = a.residual ? a.residual + sp.offset : nullptr;
    const bool vec = topkVec(in, res);
    const TopKState st = *sc.state(j);
    for (int d = threadIdx.x; d < kTopKBins; d += blockDim.x) h[d] = 0;
    __syncthreads();
    const size_t stride = 4 * static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = 4 * (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x); i < sp.len;
         i += stride) {
      float v[4];
      bool ok[4];
      topkLoad4<T>(in, res, vec, i, sp.len, v, ok);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const uint32_t key = codec::topkKey(v[e]);
        if (ok[e] && (key & st.mask) == st.prefix) atomicAdd(&h[(key >> shift) & digitMask], 1u);
      }
    }
    __syncthreads();
    uint32_t* gh = sc.hist(j);
    for (int d = threadIdx.x; d < kTopKBins; d += blockDim.x)
      if (h[d]) atomicAdd(&gh[d], h[d]);
    __syncthreads();  // h reused by the next segment
  }
}

// One block per segment: the digit whose bin holds the remaining-th largest key (from the top),
// as the 1-block kernel's thread 0 finds it; then the histogram is cleared for the next pass.
__global__ void __launch_bounds__(kTopKBlock)
    topkChooseDigit(EncodeArgs a, TopKScratch sc, int shift, int width) {
  const int j = blockIdx.x;
  if (a.rule.span(a.firstSeg + j).len == 0) return;
  __shared__ unsigned long long part[kTopKBlock];
  uint32_t* gh = sc.hist(j);
  const int bins = 1 << width, per = bins / kTopKBlock;
  unsigned long long sum = 0;
  for (int d = threadIdx.x * per; d < (threadIdx.x + 1) * per; ++d) sum += gh[d];
  part[threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.x == 0) {
    TopKState st = *sc.state(j);
    unsigned long long cum = 0;
    int c = kTopKBlock - 1;
    for (; c > 0; --c) {
      if (cum + part[c] >= st.remaining) break;
      cum += part[c];
    }
    for (int d = (c + 1) * per - 1; d >= c * per; --d) {
      if (cum + gh[d] >= st.remaining || d == c * per) {
        st.remaining -= cum;
        st.prefix |= static_cast<uint32_t>(d) << shift;
        st.mask |= static_cast<uint32_t>(bins - 1) << shift;
        break;
      }
      cum += gh[d];
    }
    *sc.state(j) = st;
  }
  __syncthreads();
  for (int d = threadIdx.x; d < kTopKBins; d += blockDim.x) gh[d] = 0;
}

// Keys above the threshold and equal to it, per tile.
template <typename T>
__global__ void __launch_bounds__(kTopKBlock) topkCountTiles(EncodeArgs a, TopKScratch sc) {
  __shared__ uint32_t warpSums[2][kTopKBlock / 32];
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    const size_t tiles = topkTiles(sp.len);
    const T* in = static_cast<const T*>(a.input) + sp.offset;
    const float* res = a.residual ? a.residual + sp.offset : nullptr;
    const bool vec = topkVec(in, res);
    const uint32_t thr = sc.state(j)->prefix;
    for (size_t t = blockIdx.x; t < tiles; t += gridDim.x) {
      uint32_t above = 0, equal = 0;
#pragma unroll
      for (int s = 0; s < kTopKSteps; ++s) {
        float v[4];
        bool ok[4];
        topkLoad4<T>(in, res, vec, t * kTopKTile + 4 * (s * kTopKBlock + threadIdx.x), sp.len, v,
                     ok);
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const uint32_t key = codec::topkKey(v[e]);
          above += ok[e] && key > thr;
          equal += ok[e] && key == thr;
        }
      }
      above = __reduce_add_sync(0xffffffffu, above);
      equal = __reduce_add_sync(0xffffffffu, equal);
      __syncthreads();  // warpSums free
      if (lane == 0) warpSums[0][w] = above, warpSums[1][w] = equal;
      __syncthreads();
      if (threadIdx.x == 0) {
        uint32_t sa = 0, se = 0;
        for (int k = 0; k < kTopKBlock / 32; ++k) sa += warpSums[0][k], se += warpSums[1][k];
        sc.above(j)[t] = sa;
        sc.equal(j, tiles)[t] = se;
      }
    }
  }
}

// One block per segment: the tile counts become exclusive prefixes (both arrays).
__global__ void __launch_bounds__(kTopKBlock) topkScanTiles(EncodeArgs a, TopKScratch sc) {
  const int j = blockIdx.x;
  const size_t tiles = topkTiles(a.rule.span(a.firstSeg + j).len);
  uint32_t* arr[2] = {sc.above(j), sc.equal(j, tiles)};
  uint32_t carry[2] = {0, 0};
  for (size_t base = 0; base < tiles; base += kTopKBlock * kTopKScanItems) {
    const size_t first = base + threadIdx.x * kTopKScanItems;
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      uint32_t mine = 0;
      for (int k = 0; k < kTopKScanItems; ++k)
        if (first + k < tiles) mine += arr[q][first + k];
      uint32_t total = 0;
      uint32_t run = carry[q] + topkBlockScan(mine, &total);
      for (int k = 0; k < kTopKScanItems; ++k)
        if (first + k < tiles) {
          const uint32_t x = arr[q][first + k];
          arr[q][first + k] = run;
          run += x;
        }
      carry[q] += total;
    }
  }
}

// Each tile's kept elements at its offset, in index order; every residual of the tile.
template <typename T>
__global__ void __launch_bounds__(kTopKBlock) topkWriteTiles(EncodeArgs a, TopKScratch sc) {
  for (int j = blockIdx.y; j < a.nseg; j += gridDim.y) {
    const codec::SegmentSpan sp = a.rule.span(a.firstSeg + j);
    if (sp.len == 0) continue;
    const codec::SegmentLayout l = codec::segmentLayout(a.spec, sp.len);
    uint8_t* seg = a.out + j * a.segBytes;
    float* values = reinterpret_cast<float*>(seg);
    uint32_t* index = reinterpret_cast<uint32_t*>(seg + l.scaleOffset);
    const size_t tiles = topkTiles(sp.len);
    const T* in = static_cast<const T*>(a.input) + sp.offset;
    float* res = a.residual ? a.residual + sp.offset : nullptr;
    const bool vec = topkVec(in, res);
    const TopKState st = *sc.state(j);
    const uint32_t thr = st.prefix;
    const unsigned long long need = st.remaining;
    for (size_t t = blockIdx.x; t < tiles; t += gridDim.x) {
      unsigned long long eqSeen = sc.equal(j, tiles)[t];
      unsigned long long pos = sc.above(j)[t] + (eqSeen < need ? eqSeen : need);
      for (int s = 0; s < kTopKSteps; ++s) {
        const size_t i = t * kTopKTile + 4 * (s * kTopKBlock + threadIdx.x);
        float v[4];
        bool ok[4], sel[4], eq[4];
        topkLoad4<T>(in, res, vec, i, sp.len, v, ok);
        uint32_t nEq = 0, nAbove = 0;
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const uint32_t key = codec::topkKey(v[e]);
          sel[e] = ok[e] && key > thr;
          eq[e] = ok[e] && key == thr;
          nEq += eq[e];
          nAbove += sel[e];
        }
        if (__syncthreads_or(nEq + nAbove)) {  // rare: ~fraction of the steps
          uint32_t eqTotal = 0, selTotal = 0;
          unsigned long long rank = eqSeen + topkBlockScan(nEq, &eqTotal);
          uint32_t nSel = 0;
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            if (eq[e]) sel[e] = rank++ < need;
            nSel += sel[e];
          }
          unsigned long long w = pos + topkBlockScan(nSel, &selTotal);
#pragma unroll
          for (int e = 0; e < 4; ++e)
            if (sel[e]) {
              values[w] = v[e];
              index[w] = static_cast<uint32_t>(i + e);
              ++w;
            }
          pos += selTotal;
          eqSeen += eqTotal;
        }
        if (res) {
          float r[4];
#pragma unroll
          for (int e = 0; e < 4; ++e) r[e] = sel[e] ? 0.0f : residualOf(v[e], 0.0f);
          if (vec && i + 4 <= sp.len) {
            *reinterpret_cast<float4*>(res + i) = make_float4(r[0], r[1], r[2], r[3]);
          } else {
#pragma unroll
            for (int e = 0; e < 4; ++e)
              if (ok[e]) res[i + e] = r[e];
          }
        }
      }
    }
  }
}

template <typename T>
cudaError_t topkEncodeMultiBlock(const EncodeArgs& a, cudaStream_t s) {
  const size_t maxLen = maxSpan(a.rule, a.firstSeg, a.nseg);
  if (maxLen == 0) return cudaSuccess;
  const size_t tiles = topkTiles(maxLen);
  TopKScratch sc;
  sc.stride = codec::roundUp16(sizeof(TopKState) + 4 * kTopKBins + 8 * tiles);
  cudaError_t e = cudaMallocAsync(reinterpret_cast<void**>(&sc.base), sc.stride * a.nseg, s);
  if (e != cudaSuccess) return e;
  topkInit<<<a.nseg, kTopKBlock, 0, s>>>(a, sc);
  dim3 passGrid = segmentGrid((maxLen + 15) / 16, a.nseg);
  passGrid.x = std::min(passGrid.x, std::max(1u, 2048u / passGrid.y));
  for (int pass = 0; pass < 3; ++pass) {
    topkHistPass<T><<<passGrid, kTopKBlock, 0, s>>>(a, sc, kTopKShift[pass], kTopKWidth[pass]);
    topkChooseDigit<<<a.nseg, kTopKBlock, 0, s>>>(a, sc, kTopKShift[pass], kTopKWidth[pass]);
  }
  const dim3 tileGrid = segmentGrid(tiles * kTopKBlock, a.nseg);
  topkCountTiles<T><<<tileGrid, kTopKBlock, 0, s>>>(a, sc);
  topkScanTiles<<<a.nseg, kTopKBlock, 0, s>>>(a, sc);
  topkWriteTiles<T><<<tileGrid, kTopKBlock, 0, s>>>(a, sc);
  e = cudaGetLastError();
  const cudaError_t f = cudaFreeAsync(sc.base, s);
  return e != cudaSuccess ? e : f;
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
cudaError_t topkEncodeTyped(const EncodeArgs& a, CodecKernels k, cudaStream_t s) {
  if (k == CodecKernels::kV4 || k == CodecKernels::kV5) return topkEncodeMultiBlock<T>(a, s);
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

cudaError_t launchTopKEncode(const EncodeArgs& a, cudaStream_t stream, CodecKernels k) {
  k = codecKernelsFor(k);
  if (a.nseg == 0) return cudaSuccess;
  switch (a.dtype) {
    case tuttiFloat32: return codec_detail::topkEncodeTyped<float>(a, k, stream);
    case tuttiFloat16: return codec_detail::topkEncodeTyped<Half>(a, k, stream);
    case tuttiBfloat16: return codec_detail::topkEncodeTyped<BFloat16>(a, k, stream);
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
