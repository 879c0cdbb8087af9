// Helpers for compressed-collective tests (see compression_check.h).
#include "multiproc/compression_check.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "compression/codec_spec.h"
#include "testing/random.h"

namespace tutti::testing {
namespace {

uint64_t mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double uniform01(uint64_t h) { return (static_cast<double>(h >> 11) + 0.5) * 0x1p-53; }

uint64_t fnv(const void* p, size_t n) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

// Named after the test process: the forked ranks' parent.
std::string publishPath(const std::string& name, pid_t testProcess) {
  return "/tmp/tutti-compression-test-" + std::to_string(testProcess) + "-" + name;
}

}  // namespace

double gaussianInput(uint64_t seed, int rank, size_t i, tuttiDataType_t dtype) {
  const uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(rank) * 0x100000001b3ull + i));
  const double u1 = uniform01(h), u2 = uniform01(mix(h));
  const double g = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  const double scale = std::ldexp(1.0, static_cast<int>(i / 257 % 7) - 3);
  std::vector<unsigned char> one(8);
  storeValue(one.data(), 0, dtype, static_cast<float>(g * scale));
  return loadValue(one.data(), 0, dtype);
}

void fillGaussian(void* buf, size_t count, uint64_t seed, int rank, tuttiDataType_t dtype,
                  size_t firstIndex) {
  for (size_t i = 0; i < count; ++i)
    storeValue(buf, i, dtype, gaussianInput(seed, rank, firstIndex + i, dtype));
}

double relativeL2(const void* got, tuttiDataType_t dtype, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = loadValue(got, i, dtype) - want[i];
    num += d * d;
    den += want[i] * want[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

std::string sameOnEveryRank(tuttiComm_t comm, const void* bytes, size_t n) {
  int nranks = 0, rank = 0;
  tuttiCommCount(comm, &nranks);
  tuttiCommUserRank(comm, &rank);
  uint64_t mine = fnv(bytes, n);
  std::vector<uint64_t> all(nranks);
  if (tuttiAllGather(&mine, all.data(), 1, tuttiUint64, comm, nullptr) != tuttiSuccess)
    return std::string("AllGather of hashes failed: ") + tuttiGetLastError(comm);
  std::string diff;
  for (int r = 1; r < nranks; ++r)
    if (all[r] != all[0]) diff += " rank " + std::to_string(r) + " differs from rank 0;";
  return diff;
}

tuttiCompression_t compressionOf(const std::string& text) {
  tuttiCompression_t c = TUTTI_COMPRESSION_INITIALIZER;
  const std::string suffix = ",internode";
  const bool interNode = text.size() > suffix.size() &&
                         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  std::string err =
      parseCompression(interNode ? text.substr(0, text.size() - suffix.size()) : text, &c);
  if (!err.empty()) fprintf(stderr, "bad codec in test: %s\n", err.c_str());
  if (interNode) c.flags |= TUTTI_COMPRESS_INTER_NODE_ONLY;
  return c;
}

void publishValue(const std::string& name, double v) {
  std::ofstream f(publishPath(name, getppid()));
  f.precision(17);
  f << v << "\n";
}

double readPublished(const std::string& name) {
  std::ifstream f(publishPath(name, getpid()));
  double v = -1;
  f >> v;
  unlink(publishPath(name, getpid()).c_str());
  return v;
}

}  // namespace tutti::testing
