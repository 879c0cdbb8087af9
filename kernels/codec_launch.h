// Host-side entry points of the codec kernels (CUDA builds only): encode a call's input into
// encoded segments, decode segments summed in rank order, decode segments into an output.
// Layouts: codecs/codec_layout.h; element math: codecs/*_codec.h (shared with the CPU).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "codecs/codec_layout.h"
#include "codecs/segment_rule.h"
#include "tutti/tutti.h"

namespace tutti {

// Which generation of the codec kernels runs: kBest (the library's choice), or one generation
// of perf/NOTES.md's "codec kernels" table, kept so that perf/gpu_codec_bench times them side by
// side in one run (issue 12). All give the CPU codecs' bits. kV3 changed the block encoders and
// decode-sum; kV4 is kV3 with new 1-bit encode and decode-sum kernels (block sums of 2 lanes),
// fp8 decode-sum through fp16 conversions, and a multi-block top-k encode. kV5 is kV4 with a
// tiled 1-bit decode-sum (bits and scales staged in shared memory by cp.async); every other
// kernel of kV5 is kV4's. kBest is kV5: on the H200 (2026-12-02, 23:16 and 23:35 UTC) it was the
// fastest or within 3% of it in every kernel.
enum class CodecKernels { kV2, kV3, kV4, kV5, kBest };
// The generation a call runs: k itself, or for kBest kV5 unless TUTTI_CODEC_KERNELS=v2|v3|v4|v5
// names another (for checking a generation's bits through the library's calls).
CodecKernels codecKernelsFor(CodecKernels k);

// Encodes `nseg` segments: segment j covers input elements rule.span(j) and goes to
// out + j * segBytes. With `residual` (fp32, indexed like the input), each element encoded is
// input + residual, and residual becomes what the encoding lost (0 where not finite).
// Bytes past each segment's layout are left alone (the caller zeroes the buffer first).
struct EncodeArgs {
  const void* input;
  tuttiDataType_t dtype;  // float32, float16 or bfloat16
  float* residual;        // or null
  codec::SegmentRule rule;
  int nseg;
  int firstSeg;  // segment j is rule.span(firstSeg + j)
  codec::CodecSpec spec;
  uint8_t* out;
  size_t segBytes;
};
cudaError_t launchEncode(const EncodeArgs& a, cudaStream_t stream,
                         CodecKernels k = CodecKernels::kBest);

// out[i] = (sum over q = 0..nseg-1, in order, of decode(segment q)[i]) / divisor (divisor 0:
// no division), i < len; out is of dtype (float32 for a shard kept for re-encoding). Top-k
// sums in `scratch` (len floats; may be out when dtype is float32) first.
struct DecodeSumArgs {
  const uint8_t* in;
  size_t segBytes;
  int nseg;
  size_t len;
  codec::CodecSpec spec;
  void* out;
  tuttiDataType_t dtype;
  int divisor;
  float* scratch;
};
cudaError_t launchDecodeSum(const DecodeSumArgs& a, cudaStream_t stream,
                            CodecKernels k = CodecKernels::kBest);

// Segment j (at in + j * segBytes) decoded into out elements rule.span(j), for j < nseg.
struct DecodeOutArgs {
  const uint8_t* in;
  size_t segBytes;
  int nseg;
  codec::SegmentRule rule;
  size_t maxLen;  // the largest span
  codec::CodecSpec spec;
  void* out;
  tuttiDataType_t dtype;
};
cudaError_t launchDecodeOut(const DecodeOutArgs& a, cudaStream_t stream);

// Top-k (codec_topk.cu): the same three operations for tuttiCodecTopK.
// Encoding: kV4 selects over many thread blocks per segment (stream-ordered scratch from
// cudaMallocAsync); the others take one thread block per segment.
cudaError_t launchTopKEncode(const EncodeArgs& a, cudaStream_t stream,
                             CodecKernels k = CodecKernels::kBest);
cudaError_t launchTopKDecodeSum(const DecodeSumArgs& a, cudaStream_t stream);
cudaError_t launchTopKDecodeOut(const DecodeOutArgs& a, cudaStream_t stream);

// One kernel of each codec file: GPU setup loads every kernel of its module
// (src/gpu/module_preload.h says why).
const void* codecEncodeModule();
const void* codecDecodeModule();
const void* codecTopKModule();

}  // namespace tutti
