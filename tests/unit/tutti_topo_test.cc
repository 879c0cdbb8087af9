// tutti-topo end to end: answers for a 1024-GPU cluster quickly, prints the matrix, the
// prediction table and the plan, writes DOT, logs tuner choices once per size bucket.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

const std::string kTool = std::string(TUTTI_BINARY_DIR) + "/tools/tutti-topo";
const std::string kTopoDir = std::string(TUTTI_SOURCE_DIR) + "/topologies";

struct ToolRun {
  int status;
  std::string out;
  double seconds;
};

ToolRun run(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + kTool + " " + args + " 2>&1";
  auto start = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  ToolRun r{-1, "", 0};
  if (!p) return r;
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, k);
  r.status = pclose(p);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(TuttiTopo, AnswersFor1024GpusQuickly) {
  ASSERT_EQ(access(kTool.c_str(), X_OK), 0) << kTool << " is not built";
  ToolRun r = run("--topo " + kTopoDir + "/cluster_128x8_h100.json --coll allreduce --bytes 64M");
  ASSERT_EQ(r.status, 0) << r.out;
  // The issue asks for under 1 s; CI machines are shared, so the test allows 5 s.
  EXPECT_LT(r.seconds, 5.0) << r.out;
  RecordProperty("seconds", std::to_string(r.seconds));
  printf("tutti-topo on 128 x 8 GPUs: %.3f s\n", r.seconds);
  EXPECT_NE(r.out.find("128 host(s), 1024 GPU(s), 1024 NIC(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GPU0   GPU1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NV18"), std::string::npos);
  EXPECT_NE(r.out.find("PIX"), std::string::npos);
  EXPECT_NE(r.out.find("Ranks: 1024 on 128 node(s)"), std::string::npos);
  for (const char* algo : {"ring", "two_shot", "direct", "tree", "hierarchical"})
    EXPECT_NE(r.out.find(std::string("  ") + algo), std::string::npos) << algo << "\n" << r.out;
  EXPECT_NE(r.out.find("Chosen: "), std::string::npos);
  EXPECT_NE(r.out.find("busbw"), std::string::npos);
}

TEST(TuttiTopo, DotWithTheChosenPlan) {
  char dir[] = "/tmp/tutti-topo-dot-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string dot = std::string(dir) + "/plan.dot";
  ToolRun r = run("--topo " + kTopoDir +
                  "/cluster_2x4_h200.json --bytes 1G --assume-all --no-svg --dot " + dot);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Chosen: hierarchical"), std::string::npos) << r.out;
  std::ifstream f(dot);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  EXPECT_EQ(text.rfind("graph tutti_topology {", 0), 0u) << text.substr(0, 200);
  EXPECT_EQ(count(text, "subgraph cluster_h"), 2);
  EXPECT_GE(count(text, "label=\"rail"), 8) << "rail rings drawn between the hosts";
  EXPECT_GE(count(text, "label=\"intra\""), 8);
  EXPECT_NE(text.find("NV18 478 GB/s"), std::string::npos);
  unlink(dot.c_str());
  // Rings on the PCIe server.
  r = run("--topo " + kTopoDir +
          "/pcie_8gpu_2switch.json --coll allgather --bytes 1G --no-svg --dot " + dot);
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream g(dot);
  std::stringstream gs;
  gs << g.rdbuf();
  EXPECT_GE(count(gs.str(), "label=\"r0\""), 8) << gs.str();
  unlink(dot.c_str());
  rmdir(dir);
}

TEST(TuttiTopo, CpuOnlyDetectionAndPlanSteps) {
  ToolRun r =
      run("--ranks 4 --ranks-per-node 2 --coll allreduce --bytes 4M --executor cpu --steps 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(detected)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Ranks: 4 on 2 node(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Plan of rank 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("step 0:"), std::string::npos) << r.out;
}

TEST(TuttiTopo, SweepShowsTheExecutorsChoices) {
  ToolRun r = run("--topo " + kTopoDir + "/h200_nvswitch_4gpu.json --no-matrix --sweep");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Sweep (gpu-direct executor)"), std::string::npos) << r.out;
  // 8 B .. 1 GiB is 28 power-of-two sizes, each a kernel the direct executor has.
  EXPECT_EQ(count(r.out, " direct/simple ") + count(r.out, " two_shot/simple "), 28) << r.out;
  r = run("--topo " + kTopoDir + "/h200_nvswitch_4gpu.json --no-matrix --sweep --executor cpu");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Sweep (cpu executor)"), std::string::npos) << r.out;
}

TEST(TuttiTopo, BadArgumentsAndFiles) {
  EXPECT_EQ(WEXITSTATUS(run("--coll allscatter --topo " + kTopoDir + "/hgx_h100_8gpu.json").status),
            2);
  EXPECT_EQ(WEXITSTATUS(run("--frobnicate").status), 2);
  ToolRun r = run("--topo /nonexistent.json");
  EXPECT_EQ(WEXITSTATUS(r.status), 1);
  EXPECT_NE(r.out.find("cannot open topology file '/nonexistent.json'"), std::string::npos)
      << r.out;
  r = run("--topo " + kTopoDir + "/hgx_h100_8gpu.json --ranks 16");
  EXPECT_EQ(WEXITSTATUS(r.status), 1);
  EXPECT_NE(r.out.find("need 2 hosts"), std::string::npos) << r.out;
}

}  // namespace
