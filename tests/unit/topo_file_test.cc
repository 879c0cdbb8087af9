// Topology files: every shipped file loads, a dump reads back identically, and malformed
// input is rejected with the line, column and field at fault.
#include "topology/topo_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "topology/json.h"
#include "topology/paths.h"

namespace tutti {
namespace {

const std::string kTopoDir = std::string(TUTTI_SOURCE_DIR) + "/topologies";

std::vector<std::string> shippedFiles() {
  std::vector<std::string> out;
  if (DIR* d = opendir(kTopoDir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") out.push_back(kTopoDir + "/" + n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Parses `text` as a topology and returns the error ("" on success).
std::string parseError(const std::string& text) {
  Topology t;
  if (parseTopologyText(text, "t.json", kTopoDir, &t) == tuttiSuccess) return "";
  return lastError();
}

const char* kHost = R"({
  "tutti_topology": 1,
  "name": "small",
  "nodes": [
    {"id": "cpu0", "type": "cpu", "numa": 0},
    {"id": "gpu0", "type": "gpu", "dev": 0, "bus_id": "0000:01:00.0"},
    {"id": "gpu1", "type": "gpu", "dev": 1, "bus_id": "0000:02:00.0"}
  ],
  "links": [
    {"a": "cpu0", "b": "gpu0", "type": "pcie", "gen": 4, "width": 16},
    {"a": "cpu0", "b": "gpu1", "type": "pcie", "gen": 4, "width": 16},
    {"a": "gpu0", "b": "gpu1", "type": "nvlink", "count": 4}
  ]
})";

TEST(TopoFile, EveryShippedFileLoads) {
  auto files = shippedFiles();
  ASSERT_GE(files.size(), 8u) << "topologies/ not found at " << kTopoDir;
  for (const std::string& f : files) {
    Topology t;
    ASSERT_EQ(loadTopologyFile(f, &t), tuttiSuccess) << f << ": " << lastError();
    EXPECT_TRUE(t.finalized());
    EXPECT_GT(t.numGpus(), 0) << f;
  }
}

TEST(TopoFile, ShippedShapes) {
  Topology t;
  ASSERT_EQ(loadTopologyFile(kTopoDir + "/cluster_128x8_h100.json", &t), tuttiSuccess)
      << lastError();
  EXPECT_EQ(t.numHosts(), 128);
  EXPECT_EQ(t.numGpus(), 1024);
  EXPECT_EQ(t.nics.size(), 1024u);
  ASSERT_EQ(loadTopologyFile(kTopoDir + "/cluster_16x8_h100.json", &t), tuttiSuccess)
      << lastError();
  EXPECT_EQ(t.numGpus(), 128);
  ASSERT_EQ(loadTopologyFile(kTopoDir + "/h200_nvswitch_4gpu.json", &t), tuttiSuccess);
  EXPECT_EQ(t.numGpus(), 4);
  ASSERT_EQ(t.nics.size(), 1u);
  EXPECT_FALSE(t.nodes[t.nics[0]].rdma);
  EXPECT_EQ(pathLabel(gpuPath(t, 0, 3)), "NV18");
  EXPECT_NEAR(gpuPath(t, 0, 3).bw, 18 * 26.5625, 1e-9);
}

TEST(TopoFile, DumpReadsBackTheSame) {
  for (const std::string& f : shippedFiles()) {
    Topology a, b;
    ASSERT_EQ(loadTopologyFile(f, &a), tuttiSuccess) << lastError();
    if (a.numHosts() > 16) continue;  // the 128-host cluster works too, just slower to compare
    const std::string text = topologyToJson(a);
    ASSERT_EQ(parseTopologyText(text, "dump", ".", &b), tuttiSuccess)
        << f << ": " << lastError() << "\n"
        << text;
    EXPECT_EQ(topologyToJson(b), text) << f;
    ASSERT_EQ(a.numGpus(), b.numGpus());
    for (int x = 0; x < a.numGpus(); ++x)
      for (int y = 0; y < a.numGpus(); ++y) {
        Path p = gpuPath(a, x, y), q = gpuPath(b, x, y);
        EXPECT_EQ(p.type, q.type) << f;
        EXPECT_DOUBLE_EQ(p.bw, q.bw) << f;
      }
  }
}

TEST(TopoFile, SaveIsAtomicAndLoadable) {
  Topology t;
  ASSERT_EQ(parseTopologyText(kHost, "host", ".", &t), tuttiSuccess) << lastError();
  char dir[] = "/tmp/tutti-topo-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/dump.json";
  ASSERT_EQ(saveTopologyFile(t, path), tuttiSuccess) << lastError();
  Topology back;
  EXPECT_EQ(loadTopologyFile(path, &back), tuttiSuccess) << lastError();
  EXPECT_EQ(back.numGpus(), 2);
  unlink(path.c_str());
  rmdir(dir);
}

struct Bad {
  std::string text;
  std::string expect;  // substrings the error must contain
  std::string expect2;
};

TEST(TopoFile, MalformedFilesNameTheLineAndField) {
  const std::string head = "{\n  \"tutti_topology\": 1,\n  \"nodes\": [\n";
  const std::vector<Bad> cases = {
      {"", "t.json:1:1", "expected a value"},
      {"{\"tutti_topology\": 1,}", "t.json:1:22", "trailing comma"},
      {"{\"tutti_topology\": 1, \"tutti_topology\": 1}", "duplicate member", "tutti_topology"},
      {"{\"tutti_topology\": 2, \"nodes\": []}", "t.json:1:20", "version 2"},
      {"{\"nodes\": []}", "missing field 'tutti_topology'", ""},
      {head + "    {\"id\": \"gpu0\", \"type\": \"gpu\", \"bsu_id\": \"x\"}\n  ]\n}", "t.json:4:45",
       "unknown field 'bsu_id'"},
      {head + "    {\"id\": \"gpu0\", \"type\": \"tpu\"}\n  ]\n}", "t.json:4:28",
       "unknown type 'tpu'"},
      {head + "    {\"id\": \"g\", \"type\": \"gpu\", \"dev\": 1.5}\n  ]\n}", "t.json:4:39",
       "'dev' must be an integer"},
      {head + "    {\"id\": \"n\", \"type\": \"nic\"}\n  ]\n}", "t.json:4:5",
       "missing field 'speed_gbps'"},
      {head + "    {\"id\": \"n\", \"type\": \"nic\", \"speed_gbps\": -5}\n  ]\n}", "t.json:4:46",
       "must be positive"},
      {head + "    {\"id\": \"a\", \"type\": \"cpu\"},\n    {\"id\": \"a\", \"type\": \"cpu\"}\n  "
              "]\n}",
       "t.json:5:12", "duplicate node id 'a'"},
      {head + "    {\"id\": \"cpu0\", \"type\": \"cpu\"}\n  ],\n  \"links\": [\n"
              "    {\"a\": \"cpu0\", \"b\": \"gpu9\", \"type\": \"pcie\", \"gen\": 4, \"width\": "
              "16}\n  ]\n}",
       "t.json:7:24", "no node 'gpu9'"},
      {head + "    {\"id\": \"cpu0\", \"type\": \"cpu\"},\n    {\"id\": \"g\", \"type\": "
              "\"gpu\"}\n  ],\n"
              "  \"links\": [\n    {\"a\": \"cpu0\", \"b\": \"g\", \"type\": \"pcie\", \"width\": "
              "12, \"gen\": 3}\n  ]\n}",
       "t.json:8:54", "'width' must be"},
      {head + "    {\"id\": \"cpu0\", \"type\": \"cpu\"},\n    {\"id\": \"g\", \"type\": "
              "\"gpu\"}\n  ],\n"
              "  \"links\": [\n    {\"a\": \"cpu0\", \"b\": \"g\", \"type\": \"pcie\"}\n  ]\n}",
       "t.json:8:5", "needs 'gen' and 'width'"},
      {head + "    {\"id\": \"cpu0\", \"type\": \"cpu\"},\n    {\"id\": \"g\", \"type\": "
              "\"gpu\"}\n  ],\n"
              "  \"links\": [\n    {\"a\": \"cpu0\", \"b\": \"g\", \"type\": \"nvlink\"}\n  ]\n}",
       "nvlink link cannot join cpu 'cpu0'", ""},
      {head + "    {\"id\": \"g\", \"type\": \"gpu\"}\n  ]\n}", "gpu 'g'",
       "not linked to anything"},
      {"{\"tutti_topology\": 1, \"cluster\": {\"nodes\": 4, \"node_file\": \"nope.json\"}}",
       "t.json:1:", "cannot open node file"},
      {"{\"tutti_topology\": 1, \"cluster\": {\"nodes\": 0, \"node_file\": "
       "\"hgx_h100_8gpu.json\"}}",
       "t.json:1:", "'nodes' is 0"},
      {"{\"tutti_topology\": 1, \"cluster\": {\"nodes\": 2, \"node_file\": "
       "\"cluster_16x8_h100.json\"}}",
       "cannot itself be a cluster", ""},
      {"{\"tutti_topology\": 1, \"nodes\": [], \"cluster\": {}}", "exactly one of", ""},
      {"{\"tutti_topology\": 1, \"nodes\": [{\"id\": \"x\", \"type\": \"cpu\", \"name\": "
       "\"\\q\"}]}",
       "t.json:1:70", "unknown escape"},
      {"{\"tutti_topology\": 1, \"nodes\": [01]}", "leading zeros", ""},
      {"{\"tutti_topology\": 1, \"nodes\": [\"unterminated]}", "unterminated string", ""},
  };
  for (const Bad& b : cases) {
    std::string err = parseError(b.text);
    EXPECT_NE(err.find(b.expect), std::string::npos) << "input:\n" << b.text << "\nerror: " << err;
    if (!b.expect2.empty()) {
      EXPECT_NE(err.find(b.expect2), std::string::npos) << "input:\n"
                                                        << b.text << "\nerror: " << err;
    }
  }
}

TEST(TopoFile, MissingFileIsAnError) {
  Topology t;
  EXPECT_EQ(loadTopologyFile("/nonexistent/topo.json", &t), tuttiInvalidArgument);
  EXPECT_NE(lastError().find("/nonexistent/topo.json"), std::string::npos);
}

TEST(Json, ParsesAndQuotes) {
  JsonValue v;
  ASSERT_EQ(parseJson("{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\"]}", "j", &v),
            tuttiSuccess)
      << lastError();
  const JsonValue* a = v.get("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 6u);
  EXPECT_TRUE(a->items[0].integral);
  EXPECT_DOUBLE_EQ(a->items[1].number, -2500);
  EXPECT_FALSE(a->items[1].integral);
  EXPECT_EQ(a->items[5].text, "x\xc3\xa9\n");
  EXPECT_EQ(a->items[2].line, 1);
  EXPECT_EQ(jsonQuote("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
  EXPECT_EQ(jsonNumber(26.5625), "26.5625");
  EXPECT_EQ(jsonNumber(400), "400");
  // Deep nesting is refused rather than recursing without bound.
  std::string deep(200, '[');
  EXPECT_EQ(parseJson(deep, "deep", &v), tuttiInvalidArgument);
  EXPECT_NE(lastError().find("nesting"), std::string::npos);
}

}  // namespace
}  // namespace tutti
