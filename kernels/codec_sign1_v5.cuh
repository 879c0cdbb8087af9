// 1-bit sign decode-sum of generation v5 (CodecKernels::kV5; perf/NOTES.md, "codec kernels"),
// included by codec_decode.cu (its module is preloaded). Same bits as host_codec.cc's
// decodeSign1 summed in segment order, as v4's decodeSumSign1Kernel.
#pragma once

#include "codec_device.cuh"

namespace tutti {
namespace codec_detail {

// v4 measured 51% of a copy (H200): a warp loaded the bits and scales of 512 outputs, waited,
// decoded and stored, so an SM had ~16K outputs' codes in flight, and at ~88% of the bytes
// being stores the DRAM idled while the loads' round trip ran. Here a thread block takes a tile
// of 8192 outputs: its 256 threads copy the tile's bits and scales of every segment into shared
// memory with cp.async (16-byte units, all issued before one wait: ~2 KB per segment at B = 32,
// no registers held), then each warp decodes 1024 outputs from shared memory, lane l of step r
// outputs 128r + 4l .. + 3 of the warp's part (each store a warp's contiguous 512 bytes). With
// ~32 registers, 6-8 blocks per SM keep 50-64K outputs' codes in flight.
constexpr int kSign1TileOut = 8192;   // outputs per tile (32 per thread)
constexpr int kSign1TileMaxSeg = 16;  // segments summed by one tile (shared: 32 KB at B = 32)

template <int B>
struct Sign1Tile {
  static constexpr int kBitBytes = kSign1TileOut / 8;        // 1024
  static constexpr int kScaleBytes = kSign1TileOut / B * 4;  // 1024, 512, 256
  static constexpr int kSegBytes = kBitBytes + kScaleBytes;  // shared bytes per segment
  static constexpr int kUnits = kSegBytes / 16, kBitUnits = kBitBytes / 16;
};

// cp.async (sm_80 and later): a copy global -> shared that holds no register while in flight.
__device__ __forceinline__ void copyAsync16(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(
                   static_cast<unsigned>(__cvta_generic_to_shared(dst))),
               "l"(src)
               : "memory");
#else
  *static_cast<uint4*>(dst) = *static_cast<const uint4*>(src);
#endif
}
__device__ __forceinline__ void copyAsync4(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(
                   static_cast<unsigned>(__cvta_generic_to_shared(dst))),
               "l"(src)
               : "memory");
#else
  *static_cast<uint32_t*>(dst) = *static_cast<const uint32_t*>(src);
#endif
}
__device__ __forceinline__ void copyAsyncWaitAll() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_all;\n" ::: "memory");
#endif
}

// Segments 16-byte aligned (a.in and a.segBytes), out aligned to 4 elements, 1 <= nseg <=
// kSign1TileMaxSeg; dynamic shared memory nseg * Sign1Tile<B>::kSegBytes. The last
// len % kSign1TileOut outputs are done element by element.
template <typename T, int B>
__global__ void __launch_bounds__(kCodecThreads, 6) decodeSumSign1TileKernel(DecodeSumArgs a) {
  using L = Sign1Tile<B>;
  extern __shared__ uint4 sign1TileShared[];
  uint8_t* sm = reinterpret_cast<uint8_t*>(sign1TileShared);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const size_t tiles = a.len / kSign1TileOut;
  const size_t scaleOffset = (a.len + B - 1) / B * B / 8;
  const bool scales16 = scaleOffset % 16 == 0;
  const bool pow2 = a.divisor > 0 && (a.divisor & (a.divisor - 1)) == 0;
  const float inverse = pow2 ? 1.0f / static_cast<float>(a.divisor) : 0.0f;
  const int units = a.nseg * L::kUnits;
  for (size_t t = blockIdx.x; t < tiles; t += gridDim.x) {
    // Unit i: 16 bytes of segment q = i / kUnits at shared byte 16 i (segment q's bits, then
    // its scales, from byte q * kSegBytes).
    for (int i = threadIdx.x; i < units; i += blockDim.x) {
      const int q = i / L::kUnits, u = i - q * L::kUnits;
      const uint8_t* seg = a.in + q * a.segBytes;
      uint8_t* dst = sm + 16 * i;
      if (u < L::kBitUnits) {
        copyAsync16(dst, seg + t * L::kBitBytes + 16 * u);
      } else {
        const uint8_t* src = seg + scaleOffset + t * L::kScaleBytes + 16 * (u - L::kBitUnits);
        if (scales16) {
          copyAsync16(dst, src);
        } else {
#pragma unroll
          for (int k = 0; k < 4; ++k) copyAsync4(dst + 4 * k, src + 4 * k);
        }
      }
    }
    copyAsyncWaitAll();
    __syncthreads();
    const size_t base = t * kSign1TileOut;
#pragma unroll 2
    for (int r = 0; r < kSign1TileOut / kCodecThreads / 4; ++r) {
      const int e = warp * (kSign1TileOut / 8) + 128 * r + 4 * lane;  // tile element
      float v[4];
      {
        const uint32_t nib = static_cast<uint32_t>(sm[e >> 3]) >> (e & 4);
        const float sc = reinterpret_cast<const float*>(sm + L::kBitBytes)[e / B];
#pragma unroll
        for (int c = 0; c < 4; ++c)
          v[c] = bitsFloat(floatBits(sc) ^ ((nib << (31 - c)) & 0x80000000u));
      }
#pragma unroll 4
      for (int q = 1; q < a.nseg; ++q) {
        const uint8_t* s = sm + q * L::kSegBytes;
        const uint32_t nib = static_cast<uint32_t>(s[e >> 3]) >> (e & 4);
        const float sc = reinterpret_cast<const float*>(s + L::kBitBytes)[e / B];
#pragma unroll
        for (int c = 0; c < 4; ++c)
          v[c] = codec::addRn(v[c], bitsFloat(floatBits(sc) ^ ((nib << (31 - c)) & 0x80000000u)));
      }
      if (a.divisor)
#pragma unroll
        for (int c = 0; c < 4; ++c)
          v[c] = pow2 ? codec::mulRn(v[c], inverse)
                      : codec::divRn(v[c], static_cast<float>(a.divisor));
      store4<T>(a.out, base + e, v);
    }
    __syncthreads();  // the tile's shared bytes are read before the next tile's copies land
  }
  // The last len % kSign1TileOut outputs, one by one.
  sign1DecodeSumFrom<T, B>(a, tiles * kSign1TileOut);
}

}  // namespace codec_detail
}  // namespace tutti
