// Every fuzz harness replays its committed corpus (tests/fuzz/corpus/<harness>/: seeds and the
// inputs of fixed findings) in the regular suite, so no finding comes back unnoticed and the
// harnesses stay compiled without clang. A property violation aborts the test binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "fuzz/fuzz_target.h"

namespace tutti::fuzz {
namespace {

const std::filesystem::path kCorpora = TUTTI_SOURCE_DIR "/tests/fuzz/corpus";

FuzzFn find(const std::string& name) {
  for (const Target& t : targets())
    if (name == t.name) return t.fn;
  return nullptr;
}

void replay(const std::string& name) {
  FuzzFn fn = find(name);
  ASSERT_NE(fn, nullptr) << "no harness " << name;
  const auto dir = kCorpora / name;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(e.path().string());
    fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++files;
  }
  EXPECT_GT(files, 0) << "empty corpus " << dir;
}

TEST(FuzzCorpus, EveryHarnessHasACorpusAndATest) {
  std::set<std::string> dirs, names;
  for (const auto& e : std::filesystem::directory_iterator(kCorpora))
    if (e.is_directory()) dirs.insert(e.path().filename().string());
  for (const Target& t : targets()) names.insert(t.name);
  EXPECT_EQ(dirs, names);
  EXPECT_EQ(names.size(), 10u) << "add a TEST below for a new harness";
}

TEST(FuzzCorpus, UniqueId) { replay("unique_id"); }
TEST(FuzzCorpus, BootstrapMessages) { replay("bootstrap_messages"); }
TEST(FuzzCorpus, PeerTable) { replay("peer_table"); }
TEST(FuzzCorpus, Json) { replay("json"); }
TEST(FuzzCorpus, TopoFile) { replay("topo_file"); }
TEST(FuzzCorpus, TuneSpec) { replay("tune_spec"); }
TEST(FuzzCorpus, TunerParams) { replay("tuner_params"); }
TEST(FuzzCorpus, IfnameSpec) { replay("ifname_spec"); }
TEST(FuzzCorpus, MsgHeader) { replay("msg_header"); }
TEST(FuzzCorpus, FaultSpec) { replay("fault_spec"); }

}  // namespace
}  // namespace tutti::fuzz
