// Parser for the nccl-tests compatible command line of the perf binaries.
#include "harness/options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tutti::perf {
namespace {

bool parseInt(const std::string& text, long lo, long hi, int* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long v = strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

struct Flag {
  char shortName;  // 0: long form only
  const char* longName;
  bool takesValue;
};

const Flag kFlags[] = {
    {'b', "minbytes", true},  {'e', "maxbytes", true},
    {'i', "stepbytes", true}, {'f', "stepfactor", true},
    {'n', "iters", true},     {'w', "warmup_iters", true},
    {'m', "agg_iters", true}, {'c', "check", true},
    {'d', "datatype", true},  {'o', "op", true},
    {'r', "root", true},      {'t', "nthreads", true},
    {'g', "ngpus", true},     {'G', "cudagraph", true},
    {'z', "blocking", true},  {'J', "output_json", true},
    {'a', "average", true},   {'p', "parallel_init", true},
    {'T', "timeout", true},   {'h', "help", false},
    {0, "mem", true},         {0, "np", true},
    {0, "backend", true},     {0, "seed", true},
    {0, "compute", true},     {0, "compress", true},
};

const Flag* findShort(char c) {
  for (const Flag& f : kFlags)
    if (f.shortName == c) return &f;
  return nullptr;
}

const Flag* findLong(const std::string& name) {
  for (const Flag& f : kFlags)
    if (name == f.longName) return &f;
  // Accepted spellings of nccl-tests flags whose long names differ between releases.
  if (name == "cudagraph_launches") return findShort('G');
  if (name == "json") return findShort('J');
  return nullptr;
}

Status apply(const Flag& flag, const std::string& v, Options* o) {
  const std::string name = flag.longName;
  auto bad = [&](const char* what) {
    return Status::error("invalid value '%s' for --%s: %s", v.c_str(), name.c_str(), what);
  };
  switch (flag.shortName) {
    case 'b': return parseSize(v, &o->minBytes) ? Status::ok() : bad("expected a size (8, 1K, 1G)");
    case 'e': return parseSize(v, &o->maxBytes) ? Status::ok() : bad("expected a size (8, 1K, 1G)");
    case 'i': return parseSize(v, &o->stepBytes) ? Status::ok() : bad("expected a size");
    case 'f': {
      int f;
      if (!parseInt(v, 1, 1 << 20, &f)) return bad("expected an integer >= 1");
      o->stepFactor = static_cast<size_t>(f);
      return Status::ok();
    }
    case 'n': return parseInt(v, 1, 1 << 30, &o->iters) ? Status::ok() : bad("expected >= 1");
    case 'w': return parseInt(v, 0, 1 << 30, &o->warmupIters) ? Status::ok() : bad("expected >= 0");
    case 'm': return parseInt(v, 1, 1 << 20, &o->aggIters) ? Status::ok() : bad("expected >= 1");
    case 'c': return parseInt(v, 0, 1 << 20, &o->check) ? Status::ok() : bad("expected >= 0");
    case 'd':
      o->typeArg = v;
      return parseDataTypeList(v, &o->types)
                 ? Status::ok()
                 : bad("expected float, half, bfloat16, double, int8, uint8, int32, uint32, "
                       "int64, uint64, fp8_e4m3, fp8_e5m2 or all");
    case 'o':
      o->opArg = v;
      return parseRedOpList(v, &o->ops) ? Status::ok()
                                        : bad("expected sum, prod, min, max, avg or all");
    case 'r':
      if (v == "all") {
        o->root = -1;
        return Status::ok();
      }
      return parseInt(v, 0, 1 << 30, &o->root) ? Status::ok() : bad("expected a rank or all");
    case 't':
      if (!parseInt(v, 1, 1, &o->threads)) return bad("only one thread per process is supported");
      return Status::ok();
    case 'g': return parseInt(v, 1, 1024, &o->gpusPerThread) ? Status::ok() : bad("expected >= 1");
    case 'G':
      return parseInt(v, 0, 1 << 20, &o->graphLaunches) ? Status::ok() : bad("expected >= 0");
    case 'z': return parseInt(v, 0, 1, &o->blocking) ? Status::ok() : bad("expected 0 or 1");
    case 'J': o->jsonFile = v; return Status::ok();
    case 'a': return parseInt(v, 0, 3, &o->average) ? Status::ok() : bad("expected 0..3");
    case 'p': return parseInt(v, 0, 1, &o->parallelInit) ? Status::ok() : bad("expected 0 or 1");
    case 'T':
      return parseInt(v, 0, 1 << 30, &o->timeoutSec) ? Status::ok() : bad("expected seconds");
    case 'h': o->help = true; return Status::ok();
    default: break;
  }
  if (name == "mem") {
    if (v == "host")
      o->mem = MemChoice::kHost;
    else if (v == "device")
      o->mem = MemChoice::kDevice;
    else if (v == "auto")
      o->mem = MemChoice::kAuto;
    else
      return bad("expected host, device or auto");
    return Status::ok();
  }
  if (name == "compute")
    return parseInt(v, 0, 65536, &o->computeN) ? Status::ok()
                                               : bad("expected a GEMM size 0..65536");
  if (name == "compress") {
    Status s = parseCompressSpec(v, &o->compress);
    return s.isOk() ? s : bad(s.message().c_str());
  }
  if (name == "np") return parseInt(v, 1, 4096, &o->np) ? Status::ok() : bad("expected 1..4096");
  if (name == "backend") {
    std::string kind = v.substr(0, v.find(':'));
    if (kind != "tutti" && kind != "nccl") return bad("expected tutti or nccl[:PATH]");
    o->backend = kind;
    if (v.find(':') != std::string::npos) {
      if (kind != "nccl") return bad("a library path is only taken by nccl");
      o->ncclPath = v.substr(v.find(':') + 1);
    }
    return Status::ok();
  }
  if (name == "seed") {
    char* end = nullptr;
    errno = 0;
    unsigned long long s = strtoull(v.c_str(), &end, 0);
    if (v.empty() || errno || *end) return bad("expected an integer");
    o->seed = s;
    return Status::ok();
  }
  return Status::error("unhandled option --%s", name.c_str());
}

}  // namespace

bool parseSize(const std::string& text, size_t* out) {
  if (text.empty() || !(text[0] >= '0' && text[0] <= '9')) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = strtoull(text.c_str(), &end, 10);
  if (errno) return false;
  std::string suffix(end);
  unsigned shift = 0;
  if (!suffix.empty()) {
    switch (suffix[0]) {
      case 'k':
      case 'K': shift = 10; break;
      case 'm':
      case 'M': shift = 20; break;
      case 'g':
      case 'G': shift = 30; break;
      case 't':
      case 'T': shift = 40; break;
      default: break;
    }
    if (shift) suffix = suffix.substr(1);
  }
  bool unitOk = suffix.empty() || suffix == "B" || suffix == "b" ||
                (shift && (suffix == "iB" || suffix == "ib"));
  if (!unitOk) return false;
  if (shift && v > (~0ull >> shift)) return false;
  *out = static_cast<size_t>(v << shift);
  return true;
}

std::vector<size_t> sizeSweep(const Options& o) {
  std::vector<size_t> sizes;
  for (size_t s = o.minBytes; s <= o.maxBytes;) {
    sizes.push_back(s);
    size_t next = o.stepFactor > 1 ? s * o.stepFactor : s + o.stepBytes;
    if (next <= s || (o.stepFactor > 1 && next / o.stepFactor != s)) break;  // stuck or overflow
    s = next;
  }
  return sizes;
}

Status parseOptions(int argc, const char* const* argv, Options* out) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    const Flag* flag = nullptr;
    std::string value;
    bool haveValue = false;
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      std::string name = arg.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        haveValue = true;
      }
      flag = findLong(name);
      if (!flag) return Status::error("unknown option '%s' (see --help)", arg.c_str());
    } else if (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-') {
      flag = findShort(arg[1]);
      if (!flag) return Status::error("unknown option '%s' (see --help)", arg.c_str());
      if (arg.size() > 2) {
        value = arg.substr(2);
        haveValue = true;
      }
    } else {
      return Status::error("unexpected argument '%s' (see --help)", arg.c_str());
    }
    if (flag->takesValue && !haveValue) {
      if (i + 1 >= argc) return Status::error("option '%s' needs a value", arg.c_str());
      value = argv[++i];
    } else if (!flag->takesValue && haveValue) {
      return Status::error("option '%s' takes no value", arg.c_str());
    }
    PERF_TRY(apply(*flag, value, out));
  }
  if (out->minBytes > out->maxBytes)
    return Status::error("minbytes (%zu) is larger than maxbytes (%zu)", out->minBytes,
                         out->maxBytes);
  if (out->stepFactor <= 1 && out->stepBytes == 0 && out->minBytes != out->maxBytes)
    return Status::error("stepbytes is 0 and stepfactor is 1: the size sweep would not advance");
  return Status::ok();
}

void printUsage(FILE* f, const char* program) {
  fprintf(
      f,
      "USAGE: %s\n"
      "  -t,--nthreads <1>             threads per process (only 1)\n"
      "  -g,--ngpus <n>                ranks (GPUs) per process. Default 1\n"
      "  -b,--minbytes <size>          first size. Default 32M\n"
      "  -e,--maxbytes <size>          last size. Default 32M\n"
      "  -i,--stepbytes <size>         additive step. Default 1M\n"
      "  -f,--stepfactor <n>           multiplicative step (used when > 1)\n"
      "  -n,--iters <n>                timed iterations. Default 20\n"
      "  -w,--warmup_iters <n>         warmup iterations per size. Default 5\n"
      "  -m,--agg_iters <n>            operations grouped per iteration. Default 1\n"
      "  -c,--check <n>                checked iterations per size (0: no check). Default 1\n"
      "  -d,--datatype <type|all>      float half bfloat16 double int8 uint8 int32 uint32\n"
      "                                int64 uint64 fp8_e4m3 fp8_e5m2. Default float\n"
      "  -o,--op <sum|prod|min|max|avg|all>  Default sum\n"
      "  -r,--root <rank|all>          root of broadcast/reduce. Default 0\n"
      "  -G,--cudagraph <n>            capture the iterations in a CUDA graph, launch it n times\n"
      "  -z,--blocking <0|1>           synchronise after every operation. Default 0\n"
      "  -a,--average <0..3>           time across ranks: 0 rank0 1 mean 2 min 3 max. Default 3\n"
      "  -p,--parallel_init <0|1>      accepted for compatibility (ranks always init in parallel)\n"
      "  -J,--output_json <file>       also write the results as JSON (rank 0)\n"
      "  -T,--timeout <s>              --np mode: kill the ranks after s seconds. Default none\n"
      "  --mem <host|device|auto>      buffer memory. Default: device if a GPU is usable\n"
      "  --np <n>                      start n local ranks by fork (not under mpirun)\n"
      "  --backend <tutti|nccl[:PATH]> library to drive. nccl: $NCCL_LIB or libnccl.so.2\n"
      "  --seed <n>                    seed of the check data. Default 20240611\n"
      "  --compute <N>                 bf16 N x N x N GEMMs on a second stream of each GPU while\n"
      "                                the collective is timed (device memory). Default 0: none\n"
      "  --compress <codec[:p][,internode]>  compressed all_reduce, reduce_scatter, all_gather:\n"
      "                                bf16, fp8_e4m3[:B], fp8_e5m2[:B], int8[:B], sign1[:B]\n"
      "                                (B = 32, 64, 128 elements per scale), topk[:fraction].\n"
      "                                Adds wire busbw and relative L2 error columns\n"
      "  -h,--help\n",
      program);
}

}  // namespace tutti::perf
