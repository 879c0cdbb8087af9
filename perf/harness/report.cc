// nccl-tests style table formatting.
#include "harness/report.h"

#include <cstdio>

namespace tutti::perf {

PlacementResult makeResult(size_t bytes, double seconds, double busBwFactor, int64_t wrong) {
  PlacementResult r;
  r.timeUs = seconds * 1e6;
  r.algBw = seconds > 0 ? static_cast<double>(bytes) / 1e9 / seconds : 0;
  r.busBw = r.algBw * busBwFactor;
  r.wrong = wrong;
  return r;
}

std::string formatTime(double us) {
  char buf[32];
  if (us >= 10000)
    snprintf(buf, sizeof(buf), "%7.0f", us);
  else if (us >= 100)
    snprintf(buf, sizeof(buf), "%7.1f", us);
  else
    snprintf(buf, sizeof(buf), "%7.2f", us);
  return buf;
}

std::string formatColumnHeader() {
  char buf[1024];
  snprintf(buf, sizeof(buf),
           "#%62s%-33s%s\n"
           "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n"
           "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s\n",
           "", "out-of-place", "in-place", "size", "count", "type", "redop", "root", "time",
           "algbw", "busbw", "#wrong", "time", "algbw", "busbw", "#wrong", "(B)", "(elements)", "",
           "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)", "(GB/s)", "");
  return buf;
}

std::string formatCompressedColumnHeader() {
  std::string h = formatColumnHeader();
  const char* extra[3][2] = {
      {"  compressed: out-of-place / in-place", ""}, {"wirebw", "relerr"}, {"(GB/s)", ""}};
  std::string out;
  size_t start = 0;
  for (int line = 0; line < 3; ++line) {
    const size_t nl = h.find('\n', start);
    out += h.substr(start, nl - start);
    char buf[96];
    if (line == 0)
      snprintf(buf, sizeof(buf), "%s", extra[0][0]);
    else
      snprintf(buf, sizeof(buf), "  %7s  %8s  %7s  %8s", extra[line][0], extra[line][1],
               extra[line][0], extra[line][1]);
    out += buf;
    out += "\n";
    start = nl + 1;
  }
  return out;
}

namespace {

std::string formatPlacement(const PlacementResult& p) {
  char wrong[32];
  if (p.wrong < 0)
    snprintf(wrong, sizeof(wrong), "%6s", "N/A");
  else
    snprintf(wrong, sizeof(wrong), "%6lld", static_cast<long long>(p.wrong));
  char buf[96];
  snprintf(buf, sizeof(buf), "  %s  %6.2f  %6.2f  %s", formatTime(p.timeUs).c_str(), p.algBw,
           p.busBw, wrong);
  return buf;
}

}  // namespace

std::string formatRow(const ResultRow& row) {
  char buf[160];
  snprintf(buf, sizeof(buf), "%12zu  %12zu  %8s  %6s  %6d", row.size, row.count, row.type.c_str(),
           row.redop.c_str(), row.root);
  std::string line =
      std::string(buf) + formatPlacement(row.outOfPlace) + formatPlacement(row.inPlace);
  if (row.outOfPlace.compressed || row.inPlace.compressed) {
    // --compress: after the nccl-tests columns, like --compute's.
    for (const PlacementResult* p : {&row.outOfPlace, &row.inPlace}) {
      char err[32];
      if (p->relError < 0)
        snprintf(err, sizeof(err), "%8s", "N/A");
      else
        snprintf(err, sizeof(err), "%8.2e", p->relError);
      snprintf(buf, sizeof(buf), "  %7.2f  %s", p->wireBusBw, err);
      line += buf;
    }
  }
  if (row.outOfPlace.computeTflops >= 0 || row.inPlace.computeTflops >= 0) {
    // --compute: after the nccl-tests columns, so parsers of that table still read them.
    snprintf(buf, sizeof(buf), "  # GEMM TFLOP/s %.0f %.0f", row.outOfPlace.computeTflops,
             row.inPlace.computeTflops);
    line += buf;
  }
  return line + "\n";
}

int64_t totalWrong(const std::vector<ResultRow>& rows) {
  int64_t total = 0;
  for (const ResultRow& r : rows) {
    if (r.outOfPlace.wrong > 0) total += r.outOfPlace.wrong;
    if (r.inPlace.wrong > 0) total += r.inPlace.wrong;
  }
  return total;
}

double averageBusBw(const std::vector<ResultRow>& rows) {
  if (rows.empty()) return 0;
  double sum = 0;
  for (const ResultRow& r : rows) sum += r.outOfPlace.busBw + r.inPlace.busBw;
  return sum / (2.0 * rows.size());
}

std::string formatFooter(const std::vector<ResultRow>& rows) {
  int64_t wrong = totalWrong(rows);
  char buf[256];
  snprintf(buf, sizeof(buf), "# Out of bounds values : %lld %s\n# Avg bus bandwidth    : %g \n#\n",
           static_cast<long long>(wrong), wrong ? "FAILED" : "OK", averageBusBw(rows));
  return buf;
}

}  // namespace tutti::perf
