// Host codec throughput: encodes and decodes one buffer of fp32 values per codec and prints
// GB/s of fp32 input (encode) and of fp32 output (decode, and decode-accumulate as the
// reduction does), per second of this thread's CPU time (so that other load on a shared
// machine does not count), best of the repetitions. One core, no threads.
// Usage: codec_bench [elements, default 16M] [repetitions, default 5]
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "compression/codec_spec.h"
#include "compression/host_codec.h"

namespace {

double cpuNow() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? strtoull(argv[1], nullptr, 0) : (size_t{16} << 20);
  const int reps = argc > 2 ? atoi(argv[2]) : 5;
  std::mt19937_64 rng(20261202);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n), out(n), decoded(n);
  for (size_t i = 0; i < n; ++i) x[i] = g(rng);
  printf(
      "# host codec throughput, %zu fp32 elements, best of %d (GB/s of fp32 data per second "
      "of thread CPU time)\n",
      n, reps);
  printf("# %-12s %8s %12s %12s %12s %12s\n", "codec", "ratio", "encode", "enc+decoded", "decode",
         "decode-add");
  for (const char* name : {"bf16", "fp8_e4m3:32", "fp8_e4m3:128", "fp8_e5m2:32", "int8:32",
                           "int8:128", "sign1:32", "sign1:128", "topk:0.01"}) {
    tuttiCompression_t c;
    tutti::parseCompression(name, &c);
    tutti::CodecSpec spec;
    bool inter = false;
    tutti::checkCompression(&c, &spec, &inter);
    const size_t bytes = tutti::codec::segmentLayout(spec, n).bytes;
    std::vector<uint8_t> seg(bytes);
    double best[4] = {1e30, 1e30, 1e30, 1e30};
    for (int r = 0; r < reps; ++r) {
      const double t0 = cpuNow();
      tutti::hostEncodeSegment(spec, x.data(), n, seg.data(), nullptr);
      const double t1 = cpuNow();
      tutti::hostEncodeSegment(spec, x.data(), n, seg.data(), decoded.data());
      const double t2 = cpuNow();
      tutti::hostDecodeSegment(spec, seg.data(), n, out.data(), false, 0);
      const double t3 = cpuNow();
      tutti::hostDecodeSegment(spec, seg.data(), n, out.data(), true, 0);
      const double t4 = cpuNow();
      best[0] = std::min(best[0], t1 - t0);
      best[1] = std::min(best[1], t2 - t1);
      best[2] = std::min(best[2], t3 - t2);
      best[3] = std::min(best[3], t4 - t3);
    }
    const double gb = 4.0 * n / 1e9;
    printf("  %-12s %7.2fx %12.2f %12.2f %12.2f %12.2f\n", name, 4.0 * n / bytes, gb / best[0],
           gb / best[1], gb / best[2], gb / best[3]);
  }
  return 0;
}
