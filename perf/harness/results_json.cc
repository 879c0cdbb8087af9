// Serialises a run's header and rows with JsonWriter.
#include "harness/results_json.h"

#include "harness/json_writer.h"

namespace tutti::perf {
namespace {

void writePlacement(JsonWriter& w, const PlacementResult& p) {
  w.beginObject();
  w.key("time_us").value(p.timeUs);
  w.key("algbw_gbps").value(p.algBw);
  w.key("busbw_gbps").value(p.busBw);
  w.key("wrong");
  if (p.wrong < 0)
    w.null();
  else
    w.value(static_cast<int64_t>(p.wrong));
  if (p.computeTflops >= 0) w.key("compute_tflops").value(p.computeTflops);
  if (p.compressed) {
    w.key("wire_busbw_gbps").value(p.wireBusBw);
    w.key("rel_l2_error");
    if (p.relError < 0)
      w.null();
    else
      w.value(p.relError);
  }
  w.endObject();
}

}  // namespace

std::string resultsJson(const RunInfo& info, const std::vector<ResultRow>& rows) {
  JsonWriter w;
  w.beginObject();
  w.key("header").beginObject();
  w.key("collective").value(info.collective);
  w.key("binary").value(info.binary);
  w.key("backend").value(info.backend);
  w.key("backend_version").value(info.backendVersion);
  w.key("nranks").value(info.nranks);
  w.key("nprocs").value(info.nprocs);
  w.key("ranks_per_proc").value(info.ranksPerProc);
  w.key("dtype").value(info.dtype);
  w.key("op").value(info.op);
  w.key("mem").value(info.mem);
  w.key("launch").value(info.launch);
  w.key("date").value(info.date);
  w.key("host").value(info.host);
  w.key("iters").value(info.iters);
  w.key("warmup_iters").value(info.warmupIters);
  w.key("agg_iters").value(info.aggIters);
  w.key("check").value(info.check);
  w.key("cuda_graph_launches").value(info.graphLaunches);
  w.key("blocking").value(info.blocking);
  w.key("average").value(info.average);
  w.key("seed").value(static_cast<size_t>(info.seed));
  if (!info.compress.empty()) w.key("compress").value(info.compress);
  w.key("ranks").beginArray();
  for (const std::string& r : info.ranks) w.value(r);
  w.endArray();
  w.endObject();
  w.key("results").beginArray();
  for (const ResultRow& r : rows) {
    w.beginObject();
    w.key("size").value(r.size);
    w.key("count").value(r.count);
    w.key("type").value(r.type);
    w.key("redop").value(r.redop);
    w.key("root").value(r.root);
    w.key("out_of_place");
    writePlacement(w, r.outOfPlace);
    w.key("in_place");
    writePlacement(w, r.inPlace);
    w.endObject();
  }
  w.endArray();
  w.key("total_wrong").value(static_cast<int64_t>(totalWrong(rows)));
  w.key("avg_busbw_gbps").value(averageBusBw(rows));
  w.endObject();
  return w.str() + "\n";
}

}  // namespace tutti::perf
