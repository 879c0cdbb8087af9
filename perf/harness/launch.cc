// perfMain: parses the command line, picks the launch mode, forks --np ranks and supervises
// them, and runs one process' share of the benchmark.
#include "harness/launch.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "harness/bench.h"
#include "harness/results_json.h"

namespace tutti::perf {
namespace {

const char* gProgram = "perf";

void reportError(int rank, const Status& s) {
  fprintf(stderr, "%s: rank %d: %s\n", gProgram, rank, s.message().c_str());
  fflush(stderr);
}

bool envInt(const char* name, int* out) {
  const char* v = getenv(name);
  if (!v || !*v) return false;
  char* end = nullptr;
  long x = strtol(v, &end, 10);
  if (*end) return false;
  *out = static_cast<int>(x);
  return true;
}

Status makeBackend(const Options& opts, std::unique_ptr<Backend>* out) {
  if (opts.backend == "nccl") return makeNcclBackend(opts.ncclPath, out);
  *out = makeTuttiBackend();
  return Status::ok();
}

std::string isoDate() {
  time_t now = time(nullptr);
  struct tm tmUtc;
  gmtime_r(&now, &tmUtc);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tmUtc);
  return buf;
}

std::string hostName() {
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  return host;
}

Status writeFile(const std::string& path, const std::string& text) {
  FILE* f = fopen(path.c_str(), "w");
  if (!f) return Status::error("cannot write %s: %s", path.c_str(), strerror(errno));
  size_t n = fwrite(text.data(), 1, text.size(), f);
  if (fclose(f) != 0 || n != text.size()) return Status::error("writing %s failed", path.c_str());
  return Status::ok();
}

volatile sig_atomic_t gTimedOut = 0;
void onAlarm(int) { gTimedOut = 1; }

// Parent side of --np: forks the ranks, waits without spinning, and kills the survivors as soon
// as one rank fails or the timeout expires.
int runForked(const Collective& coll, const Options& opts, Backend& backend) {
  const int np = opts.np > 0 ? opts.np : 1;
  ProcessPlace place;
  place.nprocs = np;
  place.launch = "fork";
  Status s = backend.getUniqueId(&place.id);
  if (!s.isOk()) {
    reportError(0, s);
    return kExitError;
  }
  std::unique_ptr<ShmControl> control;
  s = ShmControl::create(np, &control);
  if (!s.isOk()) {
    reportError(0, s);
    return kExitError;
  }
  if (np == 1) {
    control->setRank(0);
    return runProcess(coll, opts, backend, control.get(), place);
  }

  fflush(nullptr);
  std::vector<pid_t> children(np, -1);
  for (int r = 0; r < np; ++r) {
    pid_t pid = fork();
    if (pid < 0) {
      fprintf(stderr, "%s: fork failed: %s\n", gProgram, strerror(errno));
      for (int k = 0; k < r; ++k) kill(children[k], SIGTERM);
      for (int k = 0; k < r; ++k) waitpid(children[k], nullptr, 0);
      return kExitError;
    }
    if (pid == 0) {
      control->setRank(r);
      ProcessPlace mine = place;
      mine.procRank = r;
      mine.nodeLocalIndex = r;
      int code = runProcess(coll, opts, backend, control.get(), mine);
      fflush(nullptr);
      _exit(code);  // not exit(): the parent's atexit handlers and threads are not ours
    }
    children[r] = pid;
  }

  struct sigaction sa = {};
  sa.sa_handler = onAlarm;
  sigaction(SIGALRM, &sa, nullptr);  // no SA_RESTART: waitpid returns EINTR on timeout
  if (opts.timeoutSec > 0) alarm(static_cast<unsigned>(opts.timeoutSec));

  int result = kExitOk;
  int alive = np;
  bool killed = false;
  while (alive > 0) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR && gTimedOut && !killed) {
        fprintf(stderr, "%s: timed out after %d s: stopping the ranks\n", gProgram,
                opts.timeoutSec);
        for (pid_t c : children)
          if (c > 0) kill(c, SIGKILL);
        killed = true;
        result = kExitError;
      }
      if (errno == ECHILD) break;
      continue;
    }
    int rank = -1;
    for (int r = 0; r < np; ++r)
      if (children[r] == pid) rank = r;
    if (rank < 0) continue;
    children[rank] = -1;
    --alive;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : kExitError;
    if (WIFSIGNALED(status) && !killed)
      fprintf(stderr, "%s: rank %d (pid %d) was killed by signal %d\n", gProgram, rank,
              static_cast<int>(pid), WTERMSIG(status));
    if (code != kExitOk && result == kExitOk) result = code;
    if (code != kExitOk && code != kExitWrong && !killed) {
      // A failed rank leaves the others waiting for it: stop them.
      fprintf(stderr, "%s: rank %d failed (exit %d): stopping the other ranks\n", gProgram, rank,
              code);
      for (pid_t c : children)
        if (c > 0) kill(c, SIGTERM);
      killed = true;
    }
  }
  alarm(0);
  return result;
}

// Under a launcher without MPI: every process derives the id from TUTTI_COMM_ID / NCCL_COMM_ID.
[[maybe_unused]] int runFromEnv(const Collective& coll, const Options& opts, Backend& backend,
                                const LauncherEnv& env) {
  const char* idVar = opts.backend == "nccl" ? "NCCL_COMM_ID" : "TUTTI_COMM_ID";
  if (!getenv(idVar)) {
    fprintf(stderr,
            "%s: launched by mpirun but built without MPI: set %s=host:port (a free port on "
            "rank 0's host) so that every rank finds the others\n",
            gProgram, idVar);
    return kExitUsage;
  }
  if (opts.gpusPerThread != 1) {
    fprintf(stderr, "%s: -g > 1 under mpirun needs a build with MPI\n", gProgram);
    return kExitUsage;
  }
  ProcessPlace place;
  place.procRank = env.rank;
  place.nprocs = env.size;
  place.nodeLocalIndex = env.localRank >= 0 ? env.localRank : env.rank;
  place.launch = "env";
  Status s = backend.getUniqueId(&place.id);
  if (!s.isOk()) {
    reportError(env.rank, s);
    return kExitError;
  }
  return runProcess(coll, opts, backend, nullptr, place);
}

}  // namespace

LauncherEnv detectLauncher() {
  LauncherEnv env;
  int size = 0, rank = 0, local = -1;
  if (envInt("OMPI_COMM_WORLD_SIZE", &size) && envInt("OMPI_COMM_WORLD_RANK", &rank)) {
    envInt("OMPI_COMM_WORLD_LOCAL_RANK", &local);
  } else if (envInt("PMI_SIZE", &size) && envInt("PMI_RANK", &rank)) {
    if (!envInt("MPI_LOCALRANKID", &local)) envInt("PMI_LOCAL_RANK", &local);
  } else {
    return env;
  }
  env.present = true;
  env.size = size;
  env.rank = rank;
  env.localRank = local;
  return env;
}

int runProcess(const Collective& coll, const Options& opts, Backend& backend, Control* control,
               const ProcessPlace& place) {
  const int firstRank = place.procRank * opts.gpusPerThread;
  LocalRanks ranks(&backend, opts);
  Status s = ranks.init(place);
  std::unique_ptr<Control> commControl;
  if (s.isOk() && !control) {
    LocalRank& r = ranks.ranks()[0];
    commControl = makeCommControl(&backend, r.memory.get(), r.comm, place.procRank, place.nprocs);
    control = commControl.get();
  }
  if (s.isOk()) s = ranks.allocate(coll, opts.types, opts.maxBytes);

  RunInfo info;
  std::vector<ResultRow> rows;
  if (s.isOk()) {
    info.collective = coll.title;
    info.binary = std::string(coll.name) + "_perf";
    info.backend = backend.name();
    info.backendVersion = backend.version();
    info.dtype = opts.typeArg;
    info.op = coll.usesOp ? opts.opArg : "none";
    info.mem = ranks.memKind() == MemKind::kDevice ? "device" : "host";
    info.launch = place.launch;
    info.date = isoDate();
    info.host = hostName();
    info.nranks = ranks.nranks();
    info.nprocs = place.nprocs;
    info.ranksPerProc = opts.gpusPerThread;
    info.iters = opts.iters;
    info.warmupIters = opts.warmupIters;
    info.aggIters = opts.aggIters;
    info.check = opts.check;
    info.graphLaunches = opts.graphLaunches;
    info.blocking = opts.blocking;
    info.average = opts.average;
    info.seed = opts.seed;
    s = runBench(coll, opts, ranks, *control, &info, &rows);
  }
  commControl.reset();  // its buffers belong to the communicator's memory
  Status d = ranks.destroy();
  if (s.isOk()) s = d;
  if (!s.isOk()) {
    reportError(firstRank, s);
    return kExitError;
  }
  if (place.procRank == 0 && !opts.jsonFile.empty()) {
    s = writeFile(opts.jsonFile, resultsJson(info, rows));
    if (!s.isOk()) {
      reportError(firstRank, s);
      return kExitError;
    }
  }
  return totalWrong(rows) > 0 ? kExitWrong : kExitOk;
}

int perfMain(const char* collective, int argc, char** argv) {
  const char* slash = strrchr(argv[0], '/');
  gProgram = slash ? slash + 1 : argv[0];
  const Collective* coll = findCollective(collective);
  if (!coll) {
    fprintf(stderr, "%s: unknown collective '%s'\n", gProgram, collective);
    return kExitUsage;
  }
  Options opts;
  Status s = parseOptions(argc, argv, &opts);
  if (!s.isOk()) {
    fprintf(stderr, "%s: %s\n", gProgram, s.message().c_str());
    return kExitUsage;
  }
  if (opts.help) {
    printUsage(stdout, gProgram);
    return kExitOk;
  }
  // Ranks that one process drives on one GPU share its hardware queues; past about half of
  // them a proxy rank's wait can sit in front of the copy it waits for (docs/gpu-executor.md).
  // Set before CUDA starts, unless the user chose a value.
  if (opts.gpusPerThread > 1) setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", 0);
  LauncherEnv env = detectLauncher();
  if (env.present && opts.np > 0) {
    fprintf(stderr, "%s: --np starts ranks by fork; under mpirun give -np to mpirun instead\n",
            gProgram);
    return kExitUsage;
  }
  std::unique_ptr<Backend> backend;
  s = makeBackend(opts, &backend);
  if (!s.isOk()) {
    fprintf(stderr, "%s: %s\n", gProgram, s.message().c_str());
    return kExitError;
  }
  if (!env.present) return runForked(*coll, opts, *backend);
#ifdef TUTTI_PERF_HAVE_MPI
  return runUnderMpi(*coll, opts, *backend, &argc, &argv);
#else
  return runFromEnv(*coll, opts, *backend, env);
#endif
}

}  // namespace tutti::perf
