// Results of a run and their nccl-tests style text table (header, one row per size, footer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tutti::perf {

struct PlacementResult {
  double timeUs = 0;
  double algBw = 0;  // GB/s (1e9 bytes per second)
  double busBw = 0;
  int64_t wrong = -1;         // -1: not checked
  double computeTflops = -1;  // --compute: GEMM rate beside the timed loop (slowest rank); -1: off
  bool compressed = false;    // --compress: the two columns below are shown
  double wireBusBw = 0;       // encoded bytes each rank sends per second (GB/s)
  double relError = -1;       // relative L2 error against the exact result; -1: not checked
};

struct ResultRow {
  size_t size = 0;   // bytes, as nccl-tests reports them
  size_t count = 0;  // elements, the call's count argument
  std::string type;
  std::string redop;  // "none" for collectives without an op
  int root = -1;      // -1 for collectives without a root
  PlacementResult outOfPlace;
  PlacementResult inPlace;
};

// algbw and busbw in GB/s for `bytes` moved in `seconds`.
PlacementResult makeResult(size_t bytes, double seconds, double busBwFactor, int64_t wrong);

std::string formatTime(double us);  // nccl-tests widths: "%7.2f", "%7.1f" >= 100, "%7.0f" >= 10k
std::string formatColumnHeader();   // the three '#' lines naming the columns
// With --compress: the same, plus wire busbw and relative error of both placements at the end.
std::string formatCompressedColumnHeader();
std::string formatRow(const ResultRow& row);
// "# Out of bounds values : N OK|FAILED" and "# Avg bus bandwidth    : X".
std::string formatFooter(const std::vector<ResultRow>& rows);
int64_t totalWrong(const std::vector<ResultRow>& rows);
double averageBusBw(const std::vector<ResultRow>& rows);

}  // namespace tutti::perf
