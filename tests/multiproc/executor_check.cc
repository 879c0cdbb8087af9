// Forced (collective, algorithm) pairs: result and INFO line.
#include "multiproc/executor_check.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "multiproc/collective_check.h"
#include "testing/random.h"

namespace tutti::testing {
namespace {

std::string lower(const char* s) {
  std::string out;
  for (; *s; ++s) out += static_cast<char>(tolower(*s));
  return out;
}

}  // namespace

LogDir::LogDir() { EXPECT_NE(mkdtemp(path), nullptr); }
LogDir::~LogDir() { EXPECT_EQ(system((std::string("rm -rf ") + path).c_str()), 0); }

std::string LogDir::read() const {
  std::ifstream f(std::string(path) + "/log-" + std::to_string(getpid()));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

RankOptions infoLogOptions(const LogDir& dir) {
  RankOptions opt;
  opt.env = {{"TUTTI_DEBUG", "INFO"}, {"TUTTI_DEBUG_FILE", std::string(dir.path) + "/log-%p"}};
  return opt;
}

void checkEveryPair(tuttiComm_t comm, int rank, int n, ExecutorKind kind, const Capabilities& caps,
                    const LogDir& dir, bool device, bool forceDevicePath, void* stream) {
  const uint64_t seed = testSeed();
  for (int ci = 0; ci < static_cast<int>(Collective::kCount); ++ci) {
    const Collective coll = static_cast<Collective>(ci);
    if (coll == Collective::kSend || coll == Collective::kRecv) continue;  // p2p_group_test
    for (Algorithm algo : caps.algorithms(coll)) {
      const bool reduces = coll == Collective::kAllReduce || coll == Collective::kReduce ||
                           coll == Collective::kReduceScatter;
      const size_t count = 1037;
      CollCase c{coll,
                 tuttiFloat32,
                 reduces ? tuttiAvg : tuttiSum,
                 count,
                 false,
                 n - 1,
                 lower(collectiveName(coll)) + ":" + algorithmName(algo),
                 device};
      c.stream = stream;
      c.forceDevicePath = forceDevicePath;
      const std::string err = runCollectiveCase(comm, rank, n, c, seed);
      EXPECT_EQ(err, "") << "rank " << rank << ": " << describe(c, n);
      const std::string ran = std::string(collectiveName(coll)) + " ";
      const std::string what = std::string(": ran ") + algorithmName(algo) + "/simple on the " +
                               executorKindName(kind) + " executor";
      const std::string log = dir.read();
      bool found = false;
      std::istringstream lines(log);
      for (std::string line; std::getline(lines, line);)
        found |= line.find(ran) != std::string::npos && line.find(what) != std::string::npos;
      EXPECT_TRUE(found) << "rank " << rank << ": no INFO line '" << ran << "... " << what
                         << "' for " << describe(c, n);
    }
  }
}

}  // namespace tutti::testing
