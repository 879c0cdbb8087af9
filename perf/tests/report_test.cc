// Table formatting, bandwidth arithmetic and the JSON writer of the perf harness.
#include "harness/report.h"

#include <gtest/gtest.h>

#include <string>

#include "harness/json_writer.h"
#include "harness/results_json.h"

namespace tutti::perf {
namespace {

TEST(Report, BandwidthFromBytesAndSeconds) {
  PlacementResult r = makeResult(1000000000, 0.5, 1.5, 0);
  EXPECT_DOUBLE_EQ(r.timeUs, 500000.0);
  EXPECT_DOUBLE_EQ(r.algBw, 2.0);
  EXPECT_DOUBLE_EQ(r.busBw, 3.0);
  EXPECT_EQ(r.wrong, 0);
  PlacementResult zero = makeResult(8, 0, 1, -1);
  EXPECT_EQ(zero.algBw, 0);
}

TEST(Report, TimeFormatWidths) {
  EXPECT_EQ(formatTime(12.345), "  12.35");
  EXPECT_EQ(formatTime(123.45), "  123.5");
  EXPECT_EQ(formatTime(12345.6), "  12346");
}

TEST(Report, RowColumns) {
  ResultRow row;
  row.size = 1048576;
  row.count = 262144;
  row.type = "float";
  row.redop = "sum";
  row.root = -1;
  row.outOfPlace = makeResult(row.size, 20e-6, 1.5, 0);
  row.inPlace = makeResult(row.size, 21e-6, 1.5, -1);
  std::string line = formatRow(row);
  EXPECT_EQ(line,
            "     1048576        262144     float     sum      -1    20.00   52.43   78.64       0"
            "    21.00   49.93   74.90     N/A\n");
  // --compute appends the GEMM rates after the nccl-tests columns, which stay as they were.
  row.outOfPlace.computeTflops = 612.4;
  row.inPlace.computeTflops = 598.6;
  EXPECT_EQ(formatRow(row), line.substr(0, line.size() - 1) + "  # GEMM TFLOP/s 612 599\n");
  std::string header = formatColumnHeader();
  EXPECT_NE(header.find("out-of-place"), std::string::npos);
  EXPECT_NE(header.find("#wrong"), std::string::npos);
}

TEST(Report, CompressedColumnsComeAfterTheUsualOnes) {
  ResultRow row;
  row.size = 1048576;
  row.count = 262144;
  row.type = "float";
  row.redop = "sum";
  row.root = -1;
  row.outOfPlace = makeResult(row.size, 20e-6, 1.5, 0);
  row.inPlace = makeResult(row.size, 21e-6, 1.5, 0);
  const std::string plain = formatRow(row);
  row.outOfPlace.compressed = row.inPlace.compressed = true;
  row.outOfPlace.wireBusBw = 22.1;
  row.outOfPlace.relError = 0.0078;
  row.inPlace.wireBusBw = 21.0;
  row.inPlace.relError = 0.0079;
  EXPECT_EQ(formatRow(row),
            plain.substr(0, plain.size() - 1) + "    22.10  7.80e-03    21.00  7.90e-03\n");
  row.inPlace.relError = -1;  // not checked
  EXPECT_EQ(formatRow(row),
            plain.substr(0, plain.size() - 1) + "    22.10  7.80e-03    21.00       N/A\n");
  const std::string header = formatCompressedColumnHeader();
  EXPECT_EQ(header.substr(0, formatColumnHeader().find('\n')),
            formatColumnHeader().substr(0, formatColumnHeader().find('\n')));
  EXPECT_NE(header.find("wirebw"), std::string::npos);
  EXPECT_NE(header.find("relerr"), std::string::npos);
}

TEST(Report, FooterSumsWrongAndAveragesBusBw) {
  ResultRow a, b;
  a.outOfPlace.busBw = 1;
  a.inPlace.busBw = 3;
  b.outOfPlace.busBw = 5;
  b.inPlace.busBw = 7;
  b.inPlace.wrong = 4;
  std::vector<ResultRow> rows = {a, b};
  EXPECT_EQ(totalWrong(rows), 4);
  EXPECT_DOUBLE_EQ(averageBusBw(rows), 4.0);
  EXPECT_EQ(formatFooter(rows),
            "# Out of bounds values : 4 FAILED\n# Avg bus bandwidth    : 4 \n#\n");
}

TEST(JsonWriter, NestingCommasAndEscapes) {
  JsonWriter w;
  w.beginObject();
  w.key("a").value(1);
  w.key("s").value("q\"\\\n\x01");
  w.key("list").beginArray().value(1.5).null().value(true).beginObject().endObject().endArray();
  w.key("inf").value(1.0 / 0.0);
  w.endObject();
  EXPECT_EQ(w.str(),
            "{\"a\": 1, \"s\": \"q\\\"\\\\\\n\\u0001\", \"list\": [1.5, null, true, {}], "
            "\"inf\": null}");
}

TEST(ResultsJson, HeaderAndRecords) {
  RunInfo info;
  info.collective = "AllReduce";
  info.backend = "tutti";
  info.nranks = 4;
  info.dtype = "float";
  info.op = "sum";
  info.mem = "host";
  info.date = "2025-01-01T00:00:00Z";
  info.host = "box";
  ResultRow row;
  row.size = 8;
  row.count = 2;
  row.type = "float";
  row.redop = "sum";
  row.outOfPlace = makeResult(8, 1e-5, 1.5, 0);
  row.inPlace = makeResult(8, 1e-5, 1.5, -1);
  std::string json = resultsJson(info, {row});
  EXPECT_NE(json.find("\"header\": {\"collective\": \"AllReduce\""), std::string::npos);
  EXPECT_NE(json.find("\"nranks\": 4"), std::string::npos);
  EXPECT_NE(json.find("\"mem\": \"host\""), std::string::npos);
  EXPECT_NE(json.find("\"results\": [{\"size\": 8, \"count\": 2"), std::string::npos);
  EXPECT_NE(json.find("\"in_place\": {\"time_us\": 10, \"algbw_gbps\": 0.0008, "
                      "\"busbw_gbps\": 0.0012, \"wrong\": null}"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace tutti::perf
