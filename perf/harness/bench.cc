// Timing and checking of one collective over the size sweep (see bench.h).
#include "harness/bench.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "harness/check.h"
#include "harness/data_gen.h"

namespace tutti::perf {
namespace {

constexpr unsigned char kPoison = 0xA5;

struct Placement {
  bool inPlace;
  const char* name;
};

class SizeBench {
 public:
  SizeBench(const Collective& coll, const Options& opts, LocalRanks& ranks, Control& control,
            const DataGen& gen, RedOp op, int root)
      : coll_(coll),
        opts_(opts),
        ranks_(ranks),
        control_(control),
        gen_(gen),
        op_(op),
        root_(root) {}

  Status run(size_t bytes, ResultRow* row);

 private:
  std::vector<OpCall> calls(const Counts& c, bool inPlace);
  Status fillInputs(const std::vector<OpCall>& calls, bool poisonRecv);
  Status issueTimes(const std::vector<OpCall>& calls, int times);
  // *tflops: with --compute, the slowest local rank's GEMM rate beside the loop (else -1).
  Status timeIt(const std::vector<OpCall>& calls, double* seconds, double* tflops);
  Status checkIt(const std::vector<OpCall>& calls, int64_t* wrong);
  // --compress: squared error and squared norm of the outputs against the exact values, and
  // the count of non-finite outputs (reported as #wrong).
  Status checkCompressed(const std::vector<OpCall>& calls, double* errSq, double* normSq,
                         int64_t* nonFinite);
  Status measure(const Counts& c, bool inPlace, size_t reportBytes, PlacementResult* out);
  Status measureWithStates(const Counts& c, bool inPlace, size_t reportBytes, PlacementResult* out);
  Status createStates(const Counts& c);
  void destroyStates();
  size_t wireBytes_ = 0;
  std::vector<void*> states_;  // --compress with top-k or 1-bit: one per local rank

  const Collective& coll_;
  const Options& opts_;
  LocalRanks& ranks_;
  Control& control_;
  const DataGen& gen_;
  RedOp op_;
  int root_;
};

std::vector<OpCall> SizeBench::calls(const Counts& c, bool inPlace) {
  std::vector<OpCall> out;
  const size_t ws = gen_.typeBytes();
  for (LocalRank& r : ranks_.ranks()) {
    OpCall call;
    auto* recvBase = static_cast<unsigned char*>(r.recvBuf);
    call.send = inPlace ? recvBase + c.sendInplaceOffset * r.rank * ws : r.sendBuf;
    call.recv = inPlace ? recvBase + c.recvInplaceOffset * r.rank * ws : r.recvBuf;
    call.counts = c;
    call.type = gen_.type();
    call.op = op_;
    call.root = root_;
    call.rank = r.rank;
    call.nranks = ranks_.nranks();
    call.comm = r.comm;
    call.stream = r.memory->stream();
    if (opts_.compress.enabled) {
      call.compress = &opts_.compress;
      call.compressState = states_.empty() ? nullptr : states_[out.size()];
    }
    out.push_back(call);
  }
  return out;
}

// Writes each rank's input at its send pointer, after poisoning its receive buffer if asked.
Status SizeBench::fillInputs(const std::vector<OpCall>& calls, bool poisonRecv) {
  const size_t ws = gen_.typeBytes();
  for (size_t i = 0; i < calls.size(); ++i) {
    LocalRank& r = ranks_.ranks()[i];
    const Counts& c = calls[i].counts;
    const bool host = r.memory->kind() == MemKind::kHost;
    PERF_TRY(r.memory->activate());
    if (poisonRecv) {
      size_t bytes = std::max(c.recvCount, c.sendCount) * ws;
      if (host) {
        memset(r.recvBuf, kPoison, bytes);
      } else {
        memset(r.scratch.data(), kPoison, bytes);
        PERF_TRY(r.memory->upload(r.recvBuf, r.scratch.data(), bytes));
      }
    }
    void* dst = const_cast<void*>(calls[i].send);
    if (host) {
      gen_.fill(r.rank, 0, c.sendCount, dst);
    } else {
      gen_.fill(r.rank, 0, c.sendCount, r.scratch.data());
      PERF_TRY(r.memory->upload(dst, r.scratch.data(), c.sendCount * ws));
    }
  }
  return Status::ok();
}

// `times` aggregated iterations, synchronising after each with -z 1.
Status SizeBench::issueTimes(const std::vector<OpCall>& calls, int times) {
  for (int i = 0; i < times; ++i) {
    PERF_TRY(ranks_.issue(coll_, calls, opts_.aggIters));
    if (opts_.blocking) PERF_TRY(ranks_.synchronize());
  }
  return Status::ok();
}

Status SizeBench::timeIt(const std::vector<OpCall>& calls, double* seconds, double* tflops) {
  auto& local = ranks_.ranks();
  *tflops = -1;
  const int graphs = opts_.graphLaunches;
  if (graphs > 0) {
    for (LocalRank& r : local) PERF_TRY(r.memory->beginCapture());
    Status s;
    for (int i = 0; i < opts_.iters && s.isOk(); ++i)
      s = ranks_.issue(coll_, calls, opts_.aggIters);
    for (LocalRank& r : local) {
      Status e = r.memory->endCapture();
      if (s.isOk()) s = e;
    }
    PERF_TRY(s);
    for (LocalRank& r : local) PERF_TRY(r.memory->instantiateGraph());
  }
  // GEMMs start before the barrier, so every rank's compute stream is busy when timing starts.
  for (LocalRank& r : local)
    if (r.compute) PERF_TRY(r.compute->start());
  PERF_TRY(control_.barrier());
  for (LocalRank& r : local) PERF_TRY(r.memory->startTimer());
  if (graphs > 0) {
    for (int l = 0; l < graphs; ++l) {
      for (LocalRank& r : local) PERF_TRY(r.memory->launchGraph());
      if (opts_.blocking) PERF_TRY(ranks_.synchronize());
    }
  } else {
    PERF_TRY(issueTimes(calls, opts_.iters));
  }
  double worst = 0;
  for (LocalRank& r : local) {
    double t = 0;
    PERF_TRY(r.memory->stopTimer(&t));
    worst = std::max(worst, t);
  }
  for (LocalRank& r : local) {
    if (!r.compute) continue;
    double tf = 0;
    PERF_TRY(r.compute->stop(&tf));
    *tflops = *tflops < 0 ? tf : std::min(*tflops, tf);
  }
  for (LocalRank& r : local) r.memory->releaseGraph();
  double ops = static_cast<double>(opts_.iters) * opts_.aggIters * (graphs > 0 ? graphs : 1);
  *seconds = worst / ops;
  return Status::ok();
}

Status SizeBench::checkIt(const std::vector<OpCall>& calls, int64_t* wrong) {
  *wrong = 0;
  std::vector<Segment> segments;
  for (int iter = 0; iter < opts_.check; ++iter) {
    PERF_TRY(fillInputs(calls, true));
    PERF_TRY(control_.barrier());
    // One operation per rank, not aggregated: the check needs the result of exactly one.
    PERF_TRY(ranks_.issue(coll_, calls, 1));
    PERF_TRY(ranks_.synchronize());
    for (size_t i = 0; i < calls.size(); ++i) {
      LocalRank& r = ranks_.ranks()[i];
      const Counts& c = calls[i].counts;
      segments.clear();
      coll_.expected(c, r.rank, ranks_.nranks(), root_, &segments);
      const void* out = calls[i].recv;
      if (r.memory->kind() == MemKind::kDevice) {
        PERF_TRY(r.memory->activate());
        PERF_TRY(r.memory->download(r.scratch.data(), out, c.recvCount * gen_.typeBytes()));
        out = r.scratch.data();
      }
      *wrong += countWrong(gen_, segments, out);
    }
  }
  return Status::ok();
}

Status SizeBench::createStates(const Counts& c) {
  if (!opts_.compress.enabled || !compressNeedsState(opts_.compress)) return Status::ok();
  for (LocalRank& r : ranks_.ranks()) {
    void* s = nullptr;
    PERF_TRY(r.memory->activate());
    PERF_TRY(ranks_.backend().compressStateCreate(
        c.sendCount, gen_.type(), r.memory->kind() == MemKind::kDevice, r.comm, &s));
    states_.push_back(s);
  }
  return Status::ok();
}

void SizeBench::destroyStates() {
  for (void* s : states_) ranks_.backend().compressStateDestroy(s);
  states_.clear();
}

Status SizeBench::checkCompressed(const std::vector<OpCall>& calls, double* errSq, double* normSq,
                                  int64_t* nonFinite) {
  *errSq = *normSq = 0;
  *nonFinite = 0;
  std::vector<Segment> segments;
  const size_t ws = gen_.typeBytes();
  for (int iter = 0; iter < opts_.check; ++iter) {
    PERF_TRY(fillInputs(calls, true));
    PERF_TRY(control_.barrier());
    PERF_TRY(ranks_.issue(coll_, calls, 1));
    PERF_TRY(ranks_.synchronize());
    for (size_t i = 0; i < calls.size(); ++i) {
      LocalRank& r = ranks_.ranks()[i];
      const Counts& c = calls[i].counts;
      segments.clear();
      coll_.expected(c, r.rank, ranks_.nranks(), root_, &segments);
      const unsigned char* out = static_cast<const unsigned char*>(calls[i].recv);
      if (r.memory->kind() == MemKind::kDevice) {
        PERF_TRY(r.memory->activate());
        PERF_TRY(r.memory->download(r.scratch.data(), out, c.recvCount * ws));
        out = r.scratch.data();
      }
      for (const Segment& s : segments)
        for (size_t t = 0; t < s.count; ++t) {
          const double got = decodeValue(gen_.type(), out + (s.outOffset + t) * ws);
          const size_t j = gen_.index(s.srcElem + t);
          const double want =
              s.srcRank == Segment::kReduced ? gen_.reduced(j) : gen_.value(s.srcRank, j);
          *normSq += want * want;
          if (std::isfinite(got))
            *errSq += (got - want) * (got - want);
          else
            ++*nonFinite;
        }
    }
  }
  return Status::ok();
}

Status SizeBench::measure(const Counts& c, bool inPlace, size_t reportBytes, PlacementResult* out) {
  PERF_TRY(createStates(c));
  Status s = measureWithStates(c, inPlace, reportBytes, out);
  destroyStates();
  return s;
}

Status SizeBench::measureWithStates(const Counts& c, bool inPlace, size_t reportBytes,
                                    PlacementResult* out) {
  std::vector<OpCall> callList = calls(c, inPlace);
  PERF_TRY(fillInputs(callList, false));
  PERF_TRY(issueTimes(callList, opts_.warmupIters));
  PERF_TRY(ranks_.synchronize());
  double seconds = 0, tflops = -1;
  PERF_TRY(timeIt(callList, &seconds, &tflops));
  int64_t wrong = -1;
  const bool defined = !inPlace || ranks_.backend().definesInPlace(coll_.name);
  double err[2] = {0, 0};  // squared error, squared norm
  if (opts_.check > 0 && defined) {
    if (opts_.compress.enabled)
      PERF_TRY(checkCompressed(callList, &err[0], &err[1], &wrong));
    else
      PERF_TRY(checkIt(callList, &wrong));
  }

  // Across processes: the time as -a asks, the wrong counts summed.
  double t[1] = {seconds};
  switch (opts_.average) {
    case 0:
      if (control_.rank() != 0) t[0] = 0;
      PERF_TRY(control_.allReduce(t, 1, ReduceKind::kSum));
      break;
    case 1:
      PERF_TRY(control_.allReduce(t, 1, ReduceKind::kSum));
      t[0] /= control_.size();
      break;
    case 2: PERF_TRY(control_.allReduce(t, 1, ReduceKind::kMin)); break;
    default: PERF_TRY(control_.allReduce(t, 1, ReduceKind::kMax)); break;
  }
  if (wrong >= 0) {
    double w[1] = {static_cast<double>(wrong)};
    PERF_TRY(control_.allReduce(w, 1, ReduceKind::kSum));
    wrong = static_cast<int64_t>(w[0]);
  }
  *out = makeResult(reportBytes, t[0], coll_.busBwFactor(ranks_.nranks()), wrong);
  if (opts_.compress.enabled) {
    out->compressed = true;
    out->wireBusBw = t[0] > 0 ? static_cast<double>(wireBytes_) / 1e9 / t[0] : 0;
    if (opts_.check > 0 && defined) {
      PERF_TRY(control_.allReduce(err, 2, ReduceKind::kSum));
      out->relError = err[1] > 0 ? std::sqrt(err[0] / err[1]) : std::sqrt(err[0]);
    }
  }
  if (tflops >= 0) {
    double f[1] = {tflops};
    PERF_TRY(control_.allReduce(f, 1, ReduceKind::kMin));
    out->computeTflops = f[0];
  }
  return Status::ok();
}

Status SizeBench::run(size_t bytes, ResultRow* row) {
  const size_t ws = gen_.typeBytes();
  Counts c = coll_.counts(bytes / ws, ranks_.nranks());
  row->size = std::max(c.sendCount, c.recvCount) * ws;
  row->count = c.paramCount;
  row->type = typeName(gen_.type());
  row->redop = coll_.usesOp ? opName(op_) : "none";
  row->root = coll_.usesRoot ? root_ : -1;
  if (opts_.compress.enabled) {
    Backend* backend = &ranks_.backend();
    wireBytes_ = compressedWireBytes(
        opts_.compress, coll_.name, c.paramCount, ranks_.nranks(),
        [](const CompressSpec& s, size_t n, void* ctx) -> size_t {
          size_t bytes = 0;
          if (!static_cast<Backend*>(ctx)->compressedSize(s, n, &bytes).isOk()) return 0;
          return bytes;
        },
        backend);
  }
  PERF_TRY(measure(c, false, row->size, &row->outOfPlace));
  return measure(c, true, row->size, &row->inPlace);
}

std::string headerText(const Options& opts, const RunInfo& info,
                       const std::vector<std::string>& rankLines) {
  std::string h;
  char buf[512];
  snprintf(buf, sizeof(buf), "# Collective test starting: %s\n", info.binary.c_str());
  h += buf;
  if (opts.stepFactor > 1) {
    snprintf(buf, sizeof(buf), "%zu(factor)", opts.stepFactor);
  } else {
    snprintf(buf, sizeof(buf), "%zu(bytes)", opts.stepBytes);
  }
  std::string step = buf;
  snprintf(buf, sizeof(buf),
           "# nThread %d nGpus %d minBytes %zu maxBytes %zu step: %s warmup iters: %d iters: %d "
           "agg iters: %d validation: %d graph: %d\n#\n",
           opts.threads, opts.gpusPerThread, opts.minBytes, opts.maxBytes, step.c_str(),
           opts.warmupIters, opts.iters, opts.aggIters, opts.check, opts.graphLaunches);
  h += buf;
  static const char* averages[] = {"rank 0", "mean", "min", "max"};
  snprintf(buf, sizeof(buf),
           "# Tutti perf: %s, backend %s %s, %d ranks (%d processes x %d), memory %s, "
           "launch %s, time over ranks: %s, seed %llu\n#\n# Using devices\n",
           info.collective.c_str(), info.backend.c_str(), info.backendVersion.c_str(), info.nranks,
           info.nprocs, info.ranksPerProc, info.mem.c_str(), info.launch.c_str(),
           averages[opts.average], static_cast<unsigned long long>(info.seed));
  h += buf;
  for (const std::string& l : rankLines) h += l;
  if (opts.compress.enabled) {
    snprintf(buf, sizeof(buf),
             "#\n# Compressed: %s%s. algbw and busbw count the uncompressed bytes (effective);"
             "\n# wirebw = encoded bytes each rank sends / time; relerr = relative L2 error of the"
             "\n# outputs against the exact result (#wrong counts non-finite outputs)\n",
             describeCompressSpec(opts.compress).c_str(),
             compressNeedsState(opts.compress) ? ", with error feedback" : "");
    h += buf;
  }
  if (opts.computeN > 0) {
    snprintf(buf, sizeof(buf),
             "#\n# Compute beside: bf16 %d x %d x %d GEMMs back to back on a low-priority stream "
             "of each GPU while each size is timed (rate per row: slowest rank, out of place and "
             "in place)\n",
             opts.computeN, opts.computeN, opts.computeN);
    h += buf;
  }
  h += "#\n";
  return h;
}

}  // namespace

namespace {

// --compress: what the compressed collectives take, checked before anything runs.
Status checkCompressRun(const Collective& coll, const Options& opts, LocalRanks& ranks) {
  const std::string name = coll.name;
  if (name != "all_reduce" && name != "reduce_scatter" && name != "all_gather")
    return Status::error("--compress applies to all_reduce, reduce_scatter and all_gather, not %s",
                         coll.name);
  if (!ranks.backend().supportsCompression())
    return Status::error("--compress: backend %s has no compressed collectives",
                         ranks.backend().name());
  for (DataType t : opts.types)
    if (t != DataType::kFloat && t != DataType::kHalf && t != DataType::kBfloat16)
      return Status::error("--compress takes float, half or bfloat16 data, not %s", typeName(t));
  if (coll.usesOp)
    for (RedOp op : opts.ops)
      if (op != RedOp::kSum && op != RedOp::kAvg)
        return Status::error("--compress reduces with sum or avg, not %s", opName(op));
  if (ranks.ranks().size() > 1 && ranks.memKind() == MemKind::kHost)
    return Status::error(
        "--compress with several ranks per process (-g) needs device memory: compressed calls "
        "cannot be grouped, and host calls of one thread would wait for each other");
  return Status::ok();
}

}  // namespace

Status runBench(const Collective& coll, const Options& opts, LocalRanks& ranks, Control& control,
                RunInfo* info, std::vector<ResultRow>* rows) {
  const bool printer = control.rank() == 0;
  if (opts.compress.enabled) {
    PERF_TRY(checkCompressRun(coll, opts, ranks));
    info->compress = describeCompressSpec(opts.compress);
  }
  std::vector<RedOp> ops = coll.usesOp ? opts.ops : std::vector<RedOp>{RedOp::kSum};
  std::vector<int> roots;
  if (!coll.usesRoot) {
    roots.push_back(0);
  } else if (opts.root < 0) {
    for (int r = 0; r < ranks.nranks(); ++r) roots.push_back(r);
  } else {
    if (opts.root >= ranks.nranks())
      return Status::error("root %d is not a rank (there are %d ranks)", opts.root, ranks.nranks());
    roots.push_back(opts.root);
  }
  // One description line per rank, gathered on process 0.
  std::string mine;
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  for (LocalRank& r : ranks.ranks()) {
    char line[512];
    snprintf(line, sizeof(line), "#  Rank %2d Group %2d Pid %6d on %10s %s\n", r.rank,
             control.rank(), static_cast<int>(getpid()), host, r.memory->describe().c_str());
    mine += line;
  }
  std::vector<std::string> perProc;
  PERF_TRY(control.gather(mine, &perProc));
  if (printer) {
    for (const std::string& p : perProc) {
      size_t start = 0;
      while (start < p.size()) {
        size_t nl = p.find('\n', start);
        if (nl == std::string::npos) nl = p.size();
        info->ranks.push_back(p.substr(start + 3, nl - start - 3));  // without "#  "
        start = nl + 1;
      }
    }
    fputs(headerText(opts, *info, perProc).c_str(), stdout);
    if (!ranks.backend().definesInPlace(coll.name))
      printf("# In-place %s is not defined by %s: its in-place column is timed, not checked\n#\n",
             coll.title, ranks.backend().name());
    fputs((opts.compress.enabled ? formatCompressedColumnHeader() : formatColumnHeader()).c_str(),
          stdout);
    fflush(stdout);
  }

  const std::vector<size_t> sizes = sizeSweep(opts);

  for (DataType type : opts.types) {
    for (RedOp op : ops) {
      DataGen gen(type, op, coll.usesOp, ranks.nranks(), opts.seed);
      for (int root : roots) {
        SizeBench bench(coll, opts, ranks, control, gen, op, root);
        for (size_t bytes : sizes) {
          ResultRow row;
          PERF_TRY(bench.run(bytes, &row));
          rows->push_back(row);
          if (printer) {
            fputs(formatRow(row).c_str(), stdout);
            fflush(stdout);
          }
        }
      }
    }
  }
  if (printer) {
    fputs(formatFooter(*rows).c_str(), stdout);
    fflush(stdout);
  }
  return Status::ok();
}

}  // namespace tutti::perf
