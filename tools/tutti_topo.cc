// tutti-topo: what Tutti detects (or loads) and what it would run. Prints the GPU/NIC path
// matrix, the rank layout and rings, the cost model's prediction for every algorithm of a
// collective and size, the chosen plan, and optionally Graphviz DOT/SVG with the plan drawn.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "algorithms/builders.h"
#include "algorithms/double_tree.h"
#include "algorithms/rank_layout.h"
#include "algorithms/tuner.h"
#include "base/env.h"
#include "topology/comm_topology.h"
#include "topology/detect.h"
#include "topology/topo_file.h"
#include "topology/topo_print.h"

namespace tutti {
namespace {

struct Options {
  std::string topoFile;
  std::string coll = "allreduce";
  std::string bytes = "64M";
  int ranks = 0;
  int ranksPerNode = 0;
  std::string executor;  // "", "gpu" (gpu-direct), "gpu-proxy", "cpu"
  std::string dot;
  int svg = -1;  // -1: when `dot` exists and the graph is small
  int dotHosts = 8;
  int steps = -1;
  int host = 0;
  std::string dump;
  bool sweep = false;
  bool matrix = true;
  bool assumeAll = false;
};

// Every algorithm and protocol the model has a formula for (--assume-all).
Capabilities everything() {
  Capabilities c;
  for (int ci = 0; ci < static_cast<int>(Collective::kCount); ++ci)
    for (int ai = 1; ai < static_cast<int>(Algorithm::kCount); ++ai)
      if (static_cast<Algorithm>(ai) != Algorithm::kP2p)
        for (Protocol p : {Protocol::kSimple, Protocol::kLL})
          c.add(static_cast<Collective>(ci), static_cast<Algorithm>(ai), p);
  return c;
}

void usage(FILE* f) {
  fprintf(
      f,
      "usage: tutti-topo [options]\n"
      "  --topo FILE          load a topology file (default: TUTTI_TOPO_FILE, else detect)\n"
      "  --coll NAME          collective: allreduce allgather reducescatter alltoall\n"
      "                       broadcast reduce (default allreduce)\n"
      "  --bytes SIZE         message size as nccl-tests counts it, e.g. 8, 64K, 64M, 1G\n"
      "                       (default 64M)\n"
      "  --ranks N            ranks (default: every GPU, or 4 CPU ranks per host)\n"
      "  --ranks-per-node K   ranks per host (CPU-only topologies: emulated nodes)\n"
      "  --executor E         cpu, gpu (the direct kernels) or gpu-proxy (default gpu with GPUs)\n"
      "  --sweep              predicted time and busbw from 8 B to 1 GiB\n"
      "  --assume-all         let the GPU choice consider every modelled algorithm and LL\n"
      "  --steps RANK         print the plan steps of RANK (CPU executor plans)\n"
      "  --dot FILE           write Graphviz DOT with the chosen plan drawn over the graph\n"
      "  --svg / --no-svg     also run `dot -Tsvg` (default: when dot exists, small graphs)\n"
      "  --dot-hosts N        hosts drawn in DOT (default 8, 0 = all)\n"
      "  --host H             host whose matrix is printed (default 0)\n"
      "  --no-matrix          skip the matrix\n"
      "  --dump FILE          write the topology as a topology file\n"
      "Env: TUTTI_TUNE, TUTTI_ALGO, TUTTI_PROTO and TUTTI_TUNER_PARAMS apply as in the library.\n");
}

bool parseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        fprintf(stderr, "tutti-topo: %s needs a value\n", a.c_str());
        return false;
      }
      *out = argv[++i];
      return true;
    };
    auto number = [&](int* out) {
      std::string v;
      if (!value(&v)) return false;
      char* end = nullptr;
      long x = strtol(v.c_str(), &end, 10);
      if (*end || x < 0 || x > (1 << 24)) {
        fprintf(stderr, "tutti-topo: %s: '%s' is not a count\n", a.c_str(), v.c_str());
        return false;
      }
      *out = static_cast<int>(x);
      return true;
    };
    bool ok = true;
    if (a == "--topo")
      ok = value(&o->topoFile);
    else if (a == "--coll")
      ok = value(&o->coll);
    else if (a == "--bytes")
      ok = value(&o->bytes);
    else if (a == "--ranks")
      ok = number(&o->ranks);
    else if (a == "--ranks-per-node")
      ok = number(&o->ranksPerNode);
    else if (a == "--executor")
      ok = value(&o->executor);
    else if (a == "--dot")
      ok = value(&o->dot);
    else if (a == "--svg")
      o->svg = 1;
    else if (a == "--no-svg")
      o->svg = 0;
    else if (a == "--dot-hosts")
      ok = number(&o->dotHosts);
    else if (a == "--steps")
      ok = number(&o->steps);
    else if (a == "--host")
      ok = number(&o->host);
    else if (a == "--no-matrix")
      o->matrix = false;
    else if (a == "--dump")
      ok = value(&o->dump);
    else if (a == "--sweep")
      o->sweep = true;
    else if (a == "--assume-all")
      o->assumeAll = true;
    else if (a == "-h" || a == "--help") {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "tutti-topo: unknown option '%s'\n", a.c_str());
      ok = false;
    }
    if (!ok) return false;
  }
  if (!o->executor.empty() && o->executor != "gpu" && o->executor != "cpu" &&
      o->executor != "gpu-proxy") {
    fprintf(stderr, "tutti-topo: --executor is cpu, gpu or gpu-proxy\n");
    return false;
  }
  return true;
}

std::string human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char buf[32];
  snprintf(buf, sizeof(buf), bytes == static_cast<long>(bytes) ? "%.0f %s" : "%.1f %s", bytes,
           units[u]);
  return buf;
}

bool haveDot() {
  const char* path = getenv("PATH");
  if (!path) return false;
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && access((dir + "/dot").c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

// Plan edges to draw: the rings, the two trees, or the two levels of a hierarchical plan.
std::vector<OverlayEdge> planEdges(const RankLayout& l, Algorithm algo, int channels) {
  std::vector<OverlayEdge> out;
  const int n = l.nranks;
  auto gpu = [&](int r) { return l.gpu.empty() ? -1 : l.gpu[r]; };
  const char* colors[] = {"#d62728", "#1f77b4", "#9467bd", "#8c564b"};
  if (algo == Algorithm::kTree) {
    auto trees = doubleBinaryTree(l.rings[0]);
    const char* tc[] = {"#2ca02c", "#ff7f0e"};
    for (int t = 0; t < 2; ++t)
      for (int r = 0; r < n; ++r)
        if (trees[t].parent[r] >= 0)
          out.push_back({gpu(r), gpu(trees[t].parent[r]), tc[t], "t" + std::to_string(t)});
    return out;
  }
  if (algo == Algorithm::kHierarchical && l.localRanks() > 0) {
    for (const auto& node : l.nodeRanks)
      for (size_t i = 0; i < node.size() && node.size() > 1; ++i)
        out.push_back({gpu(node[i]), gpu(node[(i + 1) % node.size()]), colors[0], "intra"});
    for (int p = 0; p < l.localRanks() && l.nnodes > 1; ++p)
      for (int k = 0; k < l.nnodes; ++k)
        out.push_back({gpu(l.nodeRanks[k][p]), gpu(l.nodeRanks[(k + 1) % l.nnodes][p]), colors[1],
                       "rail" + std::to_string(p)});
    return out;
  }
  for (int c = 0; c < std::min({channels, l.channels(), 4}); ++c)
    for (int i = 0; i < n && n > 1; ++i)
      out.push_back(
          {gpu(l.rings[c][i]), gpu(l.rings[c][(i + 1) % n]), colors[c], "r" + std::to_string(c)});
  return out;
}

std::string planSummary(const RankLayout& l, Algorithm algo, int channels) {
  std::string s;
  const int n = l.nranks;
  switch (algo) {
    case Algorithm::kTree: {
      auto trees = doubleBinaryTree(l.rings[0]);
      for (int t = 0; t < 2; ++t) {
        int interior = 0, depth = 0;
        for (int r = 0; r < n; ++r) {
          interior += !trees[t].children[r].empty();
          depth = std::max(depth, trees[t].depth[r]);
        }
        s += "  tree " + std::to_string(t) + ": root rank " + std::to_string(trees[t].root) +
             ", depth " + std::to_string(depth) + ", " + std::to_string(interior) +
             " interior ranks\n";
      }
      s += "  (labels follow ring 0; every rank is interior in at most one tree)\n";
      break;
    }
    case Algorithm::kHierarchical:
      s += "  intra-node rings of " + std::to_string(l.localRanks()) + " ranks, " +
           std::to_string(l.localRanks()) + " inter-node rail rings of " +
           std::to_string(l.nnodes) + " ranks (local position i of every node)\n";
      break;
    case Algorithm::kDirect:
    case Algorithm::kTwoShot:
      s += "  every rank exchanges with its " + std::to_string(n - 1) + " peers directly\n";
      break;
    case Algorithm::kRecursiveDoubling: {
      int p = 1, steps = 0;
      for (; p * 2 <= n; p *= 2) ++steps;
      s += "  " + std::to_string(steps) + " pairwise exchange(s) of the whole vector, positions " +
           "node by node" +
           (p < n ? ", " + std::to_string(n - p) + " rank(s) folded in first" : "") + "\n";
      break;
    }
    default:
      s += "  " + std::to_string(std::min(channels, l.channels())) + " ring channel(s); " +
           l.describe(24) + "\n";
  }
  return s;
}

int run(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  Options o;
  if (!parseArgs(argc, argv, &o)) {
    usage(stderr);
    return 2;
  }
  Topology topo;
  std::string file = o.topoFile.empty() ? envString("TUTTI_TOPO_FILE") : o.topoFile;
  Result r = file.empty() ? detectTopology(DetectOptions(), &topo) : loadTopologyFile(file, &topo);
  if (r != tuttiSuccess) {
    fprintf(stderr, "tutti-topo: %s\n", lastError().c_str());
    return 1;
  }
  if (!o.dump.empty()) {
    if (saveTopologyFile(topo, o.dump) != tuttiSuccess) {
      fprintf(stderr, "tutti-topo: %s\n", lastError().c_str());
      return 1;
    }
    printf("topology written to %s\n", o.dump.c_str());
  }
  printf("%s%s\n\n", topo.summary().c_str(), file.empty() ? " (detected)" : "");
  if (o.matrix) {
    if (o.host >= topo.numHosts()) {
      fprintf(stderr, "tutti-topo: --host %d: the topology has %d host(s)\n", o.host,
              topo.numHosts());
      return 1;
    }
    printf("%s\n", topologyMatrix(topo, o.host).c_str());
    if (topo.numHosts() > 1) printf("(%d hosts; --host H shows another)\n\n", topo.numHosts());
  }

  // Place ranks: host by host, GPU by GPU (or CPU ranks on GPU-less hosts).
  int minGpus = 1 << 30;
  for (const HostInfo& h : topo.hosts) minGpus = std::min(minGpus, static_cast<int>(h.gpus.size()));
  const bool gpus = minGpus > 0;
  int perNode = o.ranksPerNode ? o.ranksPerNode : gpus ? minGpus : 4;
  if (gpus && perNode > minGpus) {
    fprintf(stderr, "tutti-topo: --ranks-per-node %d: hosts have only %d GPU(s)\n", perNode,
            minGpus);
    return 1;
  }
  int n = o.ranks ? o.ranks : perNode * topo.numHosts();
  if (!o.ranksPerNode && n < perNode) perNode = n;
  const int nodes = (n + perNode - 1) / perNode;
  if (gpus && nodes > topo.numHosts()) {
    fprintf(stderr, "tutti-topo: %d ranks at %d per node need %d hosts; the topology has %d\n", n,
            perNode, nodes, topo.numHosts());
    return 1;
  }
  std::vector<int> nodeOf(n), gpuOf(n);
  for (int i = 0; i < n; ++i) {
    nodeOf[i] = i / perNode;
    gpuOf[i] = gpus ? i % perNode : -1;
  }
  RankLayout layout;
  if (layoutOnTopology(topo, nodeOf, gpuOf, &layout) != tuttiSuccess) {
    fprintf(stderr, "tutti-topo: %s\n", lastError().c_str());
    return 1;
  }
  const ExecutorKind exec = o.executor == "cpu" || (o.executor.empty() && !gpus)
                                ? ExecutorKind::kCpu
                            : o.executor == "gpu-proxy" ? ExecutorKind::kGpuProxy
                                                        : ExecutorKind::kGpuDirect;
  TunerContext ctx;
  ctx.nranks = n;
  ctx.nodes = layout.nnodes;
  ctx.executors = {ExecutorKind::kCpu};
  if (exec != ExecutorKind::kCpu) ctx.executors.push_back(exec);
  ctx.primary = exec;
  ctx.layout = &layout;
  ctx.topo = &topo;
  static const Capabilities all = everything();
  if (o.assumeAll) ctx.capabilities[static_cast<int>(exec)] = &all;
  for (int rr : layout.nodeRanks[0]) ctx.localGpus.push_back(layout.gpu[rr]);
  Tuner tuner;
  if (tuner.init(ctx) != tuttiSuccess) {
    fprintf(stderr, "tutti-topo: %s\n", lastError().c_str());
    return 1;
  }
  Collective coll;
  uint64_t bytes = 0;
  if (!parseCollective(o.coll, &coll) || coll == Collective::kSend || coll == Collective::kRecv) {
    fprintf(stderr, "tutti-topo: unknown collective '%s'\n", o.coll.c_str());
    return 2;
  }
  if (!parseBytes(o.bytes, &bytes)) {
    fprintf(stderr, "tutti-topo: --bytes '%s' is not a size\n", o.bytes.c_str());
    return 2;
  }
  printf("Ranks: %d on %d node(s) (%d per node), layout %s\n", n, layout.nnodes, perNode,
         layout.describe(24).c_str());
  printf("Model: %s\n\n", tuner.shape(exec).describe().c_str());

  const TunerChoice choice = tuner.decide(exec, coll, bytes, true);
  printf("%s of %s (%llu bytes), %s executor:\n", collectiveName(coll), human(bytes).c_str(),
         (unsigned long long)bytes, executorKindName(exec));
  printf("  %-18s %-8s %14s %12s %12s\n", "algorithm", "protocol", "time (us)", "algbw GB/s",
         "busbw GB/s");
  const auto runnable = tuner.candidates(exec, coll);
  bool missing = false;
  for (int ai = 1; ai < static_cast<int>(Algorithm::kCount); ++ai)
    for (Protocol p : {Protocol::kSimple, Protocol::kLL}) {
      const Algorithm a = static_cast<Algorithm>(ai);
      Prediction pr = tuner.predict(exec, coll, a, p, bytes);
      if (!pr.valid) continue;
      const bool chosen = a == choice.algorithm && p == choice.protocol;
      const bool runs =
          std::find(runnable.begin(), runnable.end(), std::make_pair(a, p)) != runnable.end();
      missing |= !runs;
      printf("%s %-18s %-8s %14.2f %12.2f %12.2f%s\n", chosen ? "*" : " ", algorithmName(a),
             protocolName(p), pr.us, pr.algBw, pr.busBw, runs ? "" : "  (not in this executor)");
    }
  if (missing)
    printf("  (--assume-all lets the choice consider algorithms the executor does not run yet)\n");
  printf("Chosen: %s/%s, %d channel(s), from the %s", algorithmName(choice.algorithm),
         protocolName(choice.protocol), choice.channels, choice.source);
  if (choice.predictedUs > 0)
    printf("; predicted %.2f us, busbw %.2f GB/s", choice.predictedUs, choice.predictedBusBw);
  printf("\n%s\n", planSummary(layout, choice.algorithm, choice.channels).c_str());

  if (o.sweep) {
    printf("Sweep (%s executor):\n  %12s %-22s %14s %12s\n", executorKindName(exec), "bytes",
           "choice", "time (us)", "busbw GB/s");
    for (uint64_t b = 8; b <= (1ull << 30); b *= 2) {
      TunerChoice c = tuner.decide(exec, coll, b, true);
      std::string what = std::string(algorithmName(c.algorithm)) + "/" + protocolName(c.protocol);
      printf("  %12llu %-22s %14.2f %12.2f\n", (unsigned long long)b, what.c_str(), c.predictedUs,
             c.predictedBusBw);
    }
    printf("\n");
  }

  if (o.steps >= 0) {
    if (o.steps >= n) {
      fprintf(stderr, "tutti-topo: --steps %d: only %d ranks\n", o.steps, n);
      return 1;
    }
    CollArgs a;
    a.collective = coll;
    a.dtype = tuttiFloat32;
    a.elemSize = 4;
    const bool perRank = coll == Collective::kAllGather || coll == Collective::kReduceScatter ||
                         coll == Collective::kAllToAll;
    a.count = bytes / 4 / (perRank ? n : 1);
    a.rank = o.steps;
    a.nranks = n;
    a.layout = &layout;
    a.channels = choice.channels;
    std::vector<size_t> counts(n, a.count), displs(n);
    for (int i = 0; i < n; ++i) displs[i] = i * a.count;
    a.sendCounts = a.recvCounts = counts.data();
    a.sendDispls = a.recvDispls = displs.data();
    Plan plan;
    if (buildPlan(a, choice.algorithm, &plan) != tuttiSuccess)
      printf("No CPU plan: %s\n", lastError().c_str());
    else
      printf("Plan of rank %d (CPU executor, float32):\n%s\n", o.steps, plan.describe().c_str());
  }

  if (!o.dot.empty()) {
    DotOptions d;
    d.maxHosts = o.dotHosts;
    d.overlay = planEdges(layout, choice.algorithm, choice.channels);
    d.title = topo.summary() + "\\n" + collectiveName(coll) + " " + human(bytes) + ": " +
              algorithmName(choice.algorithm) + "/" + protocolName(choice.protocol);
    std::ofstream f(o.dot);
    f << topologyDot(topo, d);
    if (!f.good()) {
      fprintf(stderr, "tutti-topo: cannot write %s\n", o.dot.c_str());
      return 1;
    }
    f.close();
    printf("DOT written to %s\n", o.dot.c_str());
    const int drawnHosts = o.dotHosts > 0 ? std::min(o.dotHosts, topo.numHosts()) : topo.numHosts();
    const bool small = drawnHosts * (topo.nodes.size() / std::max(1, topo.numHosts())) <= 400;
    if (o.svg == 1 || (o.svg == -1 && small)) {
      if (!haveDot()) {
        printf("(no `dot` binary on PATH: install graphviz for SVG)\n");
      } else {
        std::string svg = o.dot + ".svg";
        pid_t pid = fork();
        if (pid == 0) {
          execlp("dot", "dot", "-Tsvg", o.dot.c_str(), "-o", svg.c_str(),
                 static_cast<char*>(nullptr));
          _exit(127);
        }
        int st = 0;
        if (pid > 0) waitpid(pid, &st, 0);
        if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
          printf("SVG written to %s\n", svg.c_str());
        else
          printf("dot -Tsvg failed\n");
      }
    } else if (o.svg == -1) {
      printf("(graph too large for automatic SVG; use --svg or --dot-hosts N)\n");
    }
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  printf("answered in %.1f ms\n", ms);
  return 0;
}

}  // namespace
}  // namespace tutti

int main(int argc, char** argv) { return tutti::run(argc, argv); }
