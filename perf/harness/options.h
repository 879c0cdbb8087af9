// Command line of the *_perf binaries: nccl-tests flags (short and long forms) plus the Tutti
// extras (--mem, --np, --backend, --seed, --compute, --compress). Parsing needs no library, so it
// is unit tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/compress_spec.h"
#include "harness/dtypes.h"
#include "harness/status.h"

namespace tutti::perf {

enum class MemChoice { kAuto, kHost, kDevice };

struct Options {
  // Sizes (bytes): min, max, and either a multiplicative factor (> 1) or an additive step.
  size_t minBytes = size_t{32} << 20;
  size_t maxBytes = size_t{32} << 20;
  size_t stepBytes = size_t{1} << 20;
  size_t stepFactor = 1;
  int iters = 20;
  int warmupIters = 5;
  int aggIters = 1;
  int check = 1;  // number of checked iterations per size and placement; 0 disables
  std::vector<DataType> types = {DataType::kFloat};
  std::string typeArg = "float";
  std::vector<RedOp> ops = {RedOp::kSum};
  std::string opArg = "sum";
  int root = 0;  // -1: every root in turn ("-r all")
  int threads = 1;
  int gpusPerThread = 1;
  int graphLaunches = 0;
  int blocking = 0;
  int average = 3;  // 0 rank 0, 1 mean, 2 min, 3 max (Tutti default; nccl-tests uses 1)
  int parallelInit = 0;
  std::string jsonFile;
  MemChoice mem = MemChoice::kAuto;
  int np = 0;  // 0: not given (1 when not under a launcher)
  std::string backend = "tutti";
  std::string ncclPath;  // --backend nccl:PATH, else $NCCL_LIB, else libnccl.so.2
  uint64_t seed = 20240611;
  int timeoutSec = 0;     // --timeout: the --np parent kills its ranks after this long (0: never)
  int computeN = 0;       // --compute N: bf16 N^3 GEMMs beside the timed collective (0: none)
  CompressSpec compress;  // --compress CODEC[:param]: compressed collectives (Tutti only)
  bool help = false;
};

// Parses argv[1..argc-1] into *out (which holds the defaults on entry).
Status parseOptions(int argc, const char* const* argv, Options* out);
void printUsage(FILE* f, const char* program);

// "8", "1K", "64M", "1G", "2GB", "4KiB" (K/M/G/T are powers of 1024).
bool parseSize(const std::string& text, size_t* out);
// The sizes nccl-tests visits: min, then *factor (factor > 1) or +step, while <= max.
std::vector<size_t> sizeSweep(const Options& o);

}  // namespace tutti::perf
