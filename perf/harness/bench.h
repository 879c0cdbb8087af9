// The measurement loop of one process: for every type, op, root and size, time the collective
// out of place and in place, check its results, and (process 0) print and record the rows.
#pragma once

#include <vector>

#include "harness/collective.h"
#include "harness/control.h"
#include "harness/local_ranks.h"
#include "harness/options.h"
#include "harness/report.h"
#include "harness/results_json.h"

namespace tutti::perf {

// Runs the whole sweep. Rows are printed on process 0 as they complete and returned in *rows
// (on every process). *info must describe the run (process 0 prints it as the header).
Status runBench(const Collective& coll, const Options& opts, LocalRanks& ranks, Control& control,
                RunInfo* info, std::vector<ResultRow>* rows);

}  // namespace tutti::perf
