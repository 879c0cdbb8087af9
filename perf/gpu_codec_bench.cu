// GPU codec kernel bandwidth against the device copy bandwidth of the same run (issue 12: codec
// kernels at >= 70% of a cudaMemcpyAsync D2D). One process, one GPU, fp32 input of normal
// random values. Each kernel's bytes are the ones it must touch (input, residual, codes, scales,
// output), so GB/s compares directly with the copy's read + write. Every kernel's first output
// is checked bit for bit against the CPU codecs (host_codec.cc) before it is timed.
// Usage: gpu_codec_bench [elements, default 64M] [repetitions, default 20]
// TUTTI_CODEC_KERNELS=v2|v3|v4|v5|both|all (default all; both = v2 and v3): which generations of
// the encode, decode-sum and top-k kernels to check and time; rows carry "(v2)" .. "(v5)".
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compression/codec_spec.h"
#include "compression/host_codec.h"
#include "compression/shard_split.h"
#include "kernels/codec_launch.h"

namespace {

using tutti::codec::CodecSpec;
using tutti::codec::SegmentRule;

#define CUDA_OK(call)                                                                        \
  do {                                                                                       \
    cudaError_t e_ = (call);                                                                 \
    if (e_ != cudaSuccess) {                                                                 \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      exit(2);                                                                               \
    }                                                                                        \
  } while (0)

constexpr int kSegments = 8;   // encode as an 8-rank all-reduce splits its input
constexpr int kSumInputs = 4;  // decode-sum as a 4-rank all-reduce sums its shard

int failures = 0;

void fail(const char* codec, const char* what, const char* detail) {
  printf("FAIL %s %s: %s\n", codec, what, detail);
  ++failures;
}

// Bytes of one encoded segment that the encoder writes (codes and scales, no padding).
size_t payloadBytes(const CodecSpec& s, size_t n) {
  const tutti::codec::SegmentLayout l = tutti::codec::segmentLayout(s, n);
  switch (s.codec) {
    case tuttiCodecBf16: return 2 * n;
    case tuttiCodecTopK: return 8 * l.kept;
    default: return l.scaleOffset + 4 * l.blocks;
  }
}

// Same bits, or both NaN (payloads may differ).
bool sameFloat(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  uint32_t x, y;
  memcpy(&x, &a, 4);
  memcpy(&y, &b, 4);
  return x == y;
}

void compareFloats(const char* codec, const char* what, const std::vector<float>& got,
                   const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    if (!sameFloat(got[i], want[i])) {
      char d[128];
      snprintf(d, sizeof(d), "element %zu is %.9g, the CPU codec gives %.9g", i, got[i], want[i]);
      return fail(codec, what, d);
    }
}

void compareBytes(const char* codec, const char* what, const std::vector<uint8_t>& got,
                  const std::vector<uint8_t>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i]) {
      char d[128];
      snprintf(d, sizeof(d), "byte %zu is 0x%02x, the CPU codec writes 0x%02x", i, got[i], want[i]);
      return fail(codec, what, d);
    }
}

template <typename T>
std::vector<T> download(const void* p, size_t n) {
  std::vector<T> h(n);
  CUDA_OK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

double relativeL2(const std::vector<float>& got, const float* want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    num += d * d;
    den += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(num / den);
}

// Relative L2 error of decode(encode(x)) that each codec stays under on normal data (the
// typical values: bf16 ~0.002, int8:32 ~0.01, fp8 e4m3 ~0.03, 1-bit ~0.6, top-k 1% ~0.96).
double errorBound(const CodecSpec& s) {
  switch (s.codec) {
    case tuttiCodecBf16: return 0.005;
    case tuttiCodecInt8: return s.block <= 32 ? 0.03 : 0.05;
    case tuttiCodecFp8E4M3: return 0.08;
    case tuttiCodecFp8E5M2: return 0.15;
    case tuttiCodecSign1: return 0.7;
    default: return 1.0;  // top-k: what it drops is the error; 1 means it kept nothing
  }
}

struct Timer {
  cudaEvent_t a, b;
  Timer() {
    CUDA_OK(cudaEventCreate(&a));
    CUDA_OK(cudaEventCreate(&b));
  }
  // Median milliseconds of `reps` runs of f after `warm` runs; each run timed on its own.
  template <typename F>
  double median(int warm, int reps, F&& f) {
    for (int r = 0; r < warm; ++r) CUDA_OK(f());
    std::vector<float> t(reps);
    for (int r = 0; r < reps; ++r) {
      CUDA_OK(cudaEventRecord(a));
      CUDA_OK(f());
      CUDA_OK(cudaEventRecord(b));
      CUDA_OK(cudaEventSynchronize(b));
      CUDA_OK(cudaEventElapsedTime(&t[r], a, b));
    }
    std::sort(t.begin(), t.end());
    return t[reps / 2];
  }
};

// The kernel generations to time (perf/NOTES.md, "codec kernels"): TUTTI_CODEC_KERNELS=v2, v3,
// v4, v5, both (v2 and v3) or all (the default), so that one run compares them.
struct Variant {
  tutti::CodecKernels kernels;
  const char* suffix;
};
std::vector<Variant> variantsFromEnv() {
  const char* e = getenv("TUTTI_CODEC_KERNELS");
  const std::string want = e ? e : "all";
  const bool all = want == "all", both = want == "both";
  std::vector<Variant> v;
  if (want == "v2" || both || all) v.push_back({tutti::CodecKernels::kV2, " (v2)"});
  if (want == "v3" || both || all) v.push_back({tutti::CodecKernels::kV3, " (v3)"});
  if (want == "v4" || all) v.push_back({tutti::CodecKernels::kV4, " (v4)"});
  if (want == "v5" || all) v.push_back({tutti::CodecKernels::kV5, " (v5)"});
  if (v.empty()) {
    fprintf(stderr, "TUTTI_CODEC_KERNELS is v2, v3, v4, v5, both or all, not %s\n", want.c_str());
    exit(2);
  }
  return v;
}

struct Row {
  std::string codec, kernel;
  double ms, bytes;
};
std::vector<Row> rows;

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? strtoull(argv[1], nullptr, 0) : (size_t{64} << 20);
  const int reps = argc > 2 ? atoi(argv[2]) : 20;
  if (n < kSegments * 128 || reps < 1) {
    fprintf(stderr, "usage: %s [elements >= 1024] [repetitions >= 1]\n", argv[0]);
    return 2;
  }
  const std::vector<Variant> variants = variantsFromEnv();
  int dev = 0;
  cudaDeviceProp prop;
  CUDA_OK(cudaGetDevice(&dev));
  CUDA_OK(cudaGetDeviceProperties(&prop, dev));

  std::mt19937_64 rng(20261203);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = g(rng);

  float *dX, *dRes, *dOut, *dCopy;
  CUDA_OK(cudaMalloc(&dX, n * 4));
  CUDA_OK(cudaMalloc(&dRes, n * 4));
  CUDA_OK(cudaMalloc(&dOut, n * 4));
  CUDA_OK(cudaMalloc(&dCopy, n * 4));
  CUDA_OK(cudaMemcpy(dX, x.data(), n * 4, cudaMemcpyHostToDevice));
  Timer timer;

  // The copy first and last: its best is what the codec kernels are compared with.
  auto copy = [&] { return cudaMemcpyAsync(dCopy, dX, n * 4, cudaMemcpyDeviceToDevice, 0); };
  const double copyMs0 = timer.median(3, reps, copy);

  const char* const codecs[] = {"bf16",     "fp8_e4m3:32", "fp8_e5m2:32", "int8:32",
                                "int8:128", "sign1:32",    "topk:0.01"};
  for (const char* name : codecs) {
    tuttiCompression_t c;
    CodecSpec spec;
    bool internode = false;
    const std::string err = tutti::parseCompression(name, &c);
    if (!err.empty() || tutti::checkCompression(&c, &spec, &internode) != tuttiSuccess) {
      fprintf(stderr, "bad codec %s: %s\n", name, err.c_str());
      return 2;
    }
    // Top-k encodes with one thread block per segment: slow, so fewer repetitions.
    const bool topk = spec.codec == tuttiCodecTopK;
    const int r = topk ? std::min(reps, 3) : reps;
    const int warm = topk ? 1 : 3;

    // CPU reference of one segment of all n elements, and of the 8 block-aligned segments.
    const size_t S1 = tutti::codec::segmentLayout(spec, n).bytes;
    std::vector<uint8_t> ref1(S1);
    std::vector<float> dec1(n);
    tutti::hostEncodeSegment(spec, x.data(), n, ref1.data(), dec1.data());
    const SegmentRule rule8 = tutti::blockAlignedRule(n, kSegments, spec.block);
    size_t S8 = 0, payload8 = 0;
    for (int j = 0; j < kSegments; ++j) {
      S8 = std::max(S8, tutti::codec::segmentLayout(spec, rule8.span(j).len).bytes);
      payload8 += payloadBytes(spec, rule8.span(j).len);
    }
    std::vector<uint8_t> ref8(kSegments * S8, 0);
    for (int j = 0; j < kSegments; ++j) {
      const tutti::codec::SegmentSpan sp = rule8.span(j);
      tutti::hostEncodeSegment(spec, x.data() + sp.offset, sp.len, ref8.data() + j * S8, nullptr);
    }

    uint8_t *dEnc1, *dEnc8, *dSum;
    CUDA_OK(cudaMalloc(&dEnc1, S1));
    CUDA_OK(cudaMalloc(&dEnc8, kSegments * S8));
    CUDA_OK(cudaMalloc(&dSum, kSumInputs * S1));

    tutti::EncodeArgs e1{};
    e1.input = dX;
    e1.dtype = tuttiFloat32;
    e1.rule = tutti::uniformRule(n);
    e1.nseg = 1;
    e1.spec = spec;
    e1.out = dEnc1;
    e1.segBytes = S1;
    tutti::EncodeArgs e8 = e1;
    e8.rule = rule8;
    e8.nseg = kSegments;
    e8.out = dEnc8;
    e8.segBytes = S8;
    tutti::EncodeArgs ef = e1;
    ef.residual = dRes;

    // Encode and decode-sum with each generation of kernels asked for: outputs checked, then
    // timed.
    const double p1 = static_cast<double>(payloadBytes(spec, n));
    for (const Variant& kv : variants) {
      const tutti::CodecKernels k = kv.kernels;
      auto label = [&](const char* what) { return std::string(what) + kv.suffix; };
      CUDA_OK(cudaMemset(dEnc1, 0, S1));
      CUDA_OK(cudaMemset(dEnc8, 0, kSegments * S8));
      CUDA_OK(tutti::launchEncode(e1, 0, k));
      CUDA_OK(tutti::launchEncode(e8, 0, k));
      CUDA_OK(cudaDeviceSynchronize());
      compareBytes(name, label("encode").c_str(), download<uint8_t>(dEnc1, S1), ref1);
      compareBytes(name, label("encode x8").c_str(), download<uint8_t>(dEnc8, kSegments * S8),
                   ref8);
      rows.push_back({name, label("encode"),
                      timer.median(warm, r, [&] { return tutti::launchEncode(e1, 0, k); }),
                      4.0 * n + p1});
      rows.push_back({name, label("encode x8 segments"),
                      timer.median(warm, r, [&] { return tutti::launchEncode(e8, 0, k); }),
                      4.0 * n + payload8});

      // Error feedback: from a zero residual the codes are the same and the residual becomes
      // x - decoded (0 where not finite), as the CPU keeps it.
      CUDA_OK(cudaMemset(dRes, 0, n * 4));
      CUDA_OK(cudaMemset(dEnc1, 0, S1));
      CUDA_OK(tutti::launchEncode(ef, 0, k));
      CUDA_OK(cudaDeviceSynchronize());
      compareBytes(name, label("encode+residual").c_str(), download<uint8_t>(dEnc1, S1), ref1);
      {
        std::vector<float> want(n);
        for (size_t i = 0; i < n; ++i) want[i] = std::isfinite(dec1[i]) ? x[i] - dec1[i] : 0.0f;
        compareFloats(name, label("residual").c_str(), download<float>(dRes, n), want);
      }
      rows.push_back({name, label("encode + residual"),
                      timer.median(warm, r, [&] { return tutti::launchEncode(ef, 0, k); }),
                      4.0 * n + 8.0 * n + p1});

      // Decode-sum of 4 segments of n elements (the one encoding 4 times), fp32 out, divisor 4.
      CUDA_OK(cudaMemset(dEnc1, 0, S1));
      CUDA_OK(tutti::launchEncode(e1, 0, k));
      for (int q = 0; q < kSumInputs; ++q)
        CUDA_OK(cudaMemcpy(dSum + q * S1, dEnc1, S1, cudaMemcpyDeviceToDevice));
      tutti::DecodeSumArgs ds{};
      ds.in = dSum;
      ds.segBytes = S1;
      ds.nseg = kSumInputs;
      ds.len = n;
      ds.spec = spec;
      ds.out = dOut;
      ds.dtype = tuttiFloat32;
      ds.divisor = kSumInputs;
      ds.scratch = dOut;
      CUDA_OK(cudaMemset(dOut, 0xff, n * 4));
      CUDA_OK(tutti::launchDecodeSum(ds, 0, k));
      CUDA_OK(cudaDeviceSynchronize());
      {
        std::vector<float> want(n);
        for (size_t i = 0; i < n; ++i) {
          float v = topk ? 0.0f + dec1[i] : dec1[i];  // top-k accumulates onto zeros
          for (int q = 1; q < kSumInputs; ++q) v = v + dec1[i];
          want[i] = v / static_cast<float>(kSumInputs);
        }
        compareFloats(name, label("decode-sum").c_str(), download<float>(dOut, n), want);
      }
      rows.push_back({name, label("decode-sum of 4"),
                      timer.median(warm, r, [&] { return tutti::launchDecodeSum(ds, 0, k); }),
                      kSumInputs * p1 + 4.0 * n});
    }

    // Decode-out of the 8 segments into n outputs: decode(encode(x)) of the CPU, and close
    // to x within the codec's error.
    tutti::DecodeOutArgs dout{};
    dout.in = dEnc8;
    dout.segBytes = S8;
    dout.nseg = kSegments;
    dout.rule = rule8;
    for (int j = 0; j < kSegments; ++j) dout.maxLen = std::max(dout.maxLen, rule8.span(j).len);
    dout.spec = spec;
    dout.out = dOut;
    dout.dtype = tuttiFloat32;
    CUDA_OK(cudaMemset(dOut, 0xff, n * 4));
    CUDA_OK(tutti::launchDecodeOut(dout, 0));
    CUDA_OK(cudaDeviceSynchronize());
    {
      std::vector<float> want(n);
      for (int j = 0; j < kSegments; ++j) {
        const tutti::codec::SegmentSpan sp = rule8.span(j);
        if (tutti::hostDecodeSegment(spec, ref8.data() + j * S8, sp.len, want.data() + sp.offset,
                                     false, j) != tuttiSuccess)
          fail(name, "decode-out", "the CPU decoder rejected the reference");
      }
      const std::vector<float> got = download<float>(dOut, n);
      compareFloats(name, "decode-out", got, want);
      const double err = relativeL2(got, x.data());
      char d[96];
      snprintf(d, sizeof(d), "relative L2 error %.4g above the bound %.3g", err, errorBound(spec));
      if (!(err < errorBound(spec))) fail(name, "decode(encode(x))", d);
      printf("# %-12s ratio %6.2fx  relative L2 error of decode(encode(x)) %.4g\n", name,
             4.0 * n / S1, err);
    }
    rows.push_back({name, "decode-out x8 segments",
                    timer.median(warm, r, [&] { return tutti::launchDecodeOut(dout, 0); }),
                    payload8 + 4.0 * n});

    CUDA_OK(cudaFree(dEnc1));
    CUDA_OK(cudaFree(dEnc8));
    CUDA_OK(cudaFree(dSum));
  }
  const double copyMs1 = timer.median(3, reps, copy);
  CUDA_OK(cudaDeviceSynchronize());

  const double copyMs = std::min(copyMs0, copyMs1);
  const double copyGBs = 8.0 * n / copyMs / 1e6;
  printf("\n## Codec kernels vs device copy, %s, %zu fp32 elements, median of %d\n\n", prop.name, n,
         reps);
  printf(
      "D2D cudaMemcpyAsync of %zu bytes: %.3f ms first, %.3f ms last; best %.1f GB/s of "
      "read+write (the 100%% below)\n\n",
      n * 4, copyMs0, copyMs1, copyGBs);
  printf(
      "Bytes: what each kernel must read and write (input, residual read+write, codes and "
      "scales, fp32 output); top-k reads its input 5 times but counts it once.\n\n");
  printf("| codec | kernel | us | MB moved | GB/s | vs copy |\n");
  printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
  for (const Row& w : rows) {
    const double gbs = w.bytes / w.ms / 1e6;
    printf("| %s | %s | %.1f | %.1f | %.1f | %.0f%% |\n", w.codec.c_str(), w.kernel.c_str(),
           w.ms * 1e3, w.bytes / 1e6, gbs, 100.0 * gbs / copyGBs);
  }
  if (failures) {
    printf("\n%d check(s) failed: the timings above are of broken kernels\n", failures);
    return 1;
  }
  printf("\nall outputs equal the CPU codecs' bit for bit\n");
  return 0;
}
