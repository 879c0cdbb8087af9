// The -J results file: a header object describing the run and one record per table row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/report.h"

namespace tutti::perf {

struct RunInfo {
  std::string collective;  // "AllReduce"
  std::string binary;      // "all_reduce_perf"
  std::string backend;     // "tutti" or "nccl"
  std::string backendVersion;
  std::string dtype;   // the -d argument ("float", "all")
  std::string op;      // the -o argument, "none" for collectives without an op
  std::string mem;     // "host" or "device"
  std::string launch;  // "fork", "mpi" or "env"
  std::string date;    // ISO 8601, UTC
  std::string host;
  int nranks = 0;
  int nprocs = 0;
  int ranksPerProc = 0;
  int iters = 0;
  int warmupIters = 0;
  int aggIters = 0;
  int check = 0;
  int graphLaunches = 0;
  int blocking = 0;
  int average = 0;
  uint64_t seed = 0;
  std::string compress;            // --compress codec ("" without)
  std::vector<std::string> ranks;  // one description per rank
};

std::string resultsJson(const RunInfo& info, const std::vector<ResultRow>& rows);

}  // namespace tutti::perf
