// CPU soak: 4 forked ranks run the random collective sequence on host buffers.
// TUTTI_SOAK_CALLS (default 10^4; `make soak-long` runs 10^5) and TUTTI_SOAK_SEED (printed;
// set it to replay a run, or to "random") control it.
#include <gtest/gtest.h>

#include <chrono>

#include "soak/soak.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

TEST(Soak, CpuRanks) {
  const uint64_t seed = soakSeed();
  const long calls = soakCalls(10000);
  const int ranks = 4;
  printf("soak: %ld collectives on %d CPU ranks, seed %llu (TUTTI_SOAK_SEED=%llu replays it)\n",
         calls, ranks, (unsigned long long)seed, (unsigned long long)seed);
  fflush(stdout);
  RankOptions opt;
  opt.env = {{"TUTTI_TIMEOUT_MS", "60000"}};
  opt.timeoutSec = 3600;
  runRanks(
      ranks,
      [&](tuttiComm_t comm, int rank, int) {
        SoakOptions o;
        o.seed = seed;
        o.calls = calls;
        const auto t0 = std::chrono::steady_clock::now();
        SoakStats st = runSoak(comm, o);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        printf(
            "soak rank %d: %ld collectives checked (%ld groups), %ld wrong, %ld communicators "
            "made, %.1f MB checked, %.1f s\n",
            rank, st.calls, st.groups, st.wrong, st.comms, st.bytes / 1e6, s);
        fflush(stdout);
        EXPECT_EQ(st.firstError, "");
        EXPECT_EQ(st.wrong, 0) << "seed " << seed;
      },
      opt);
}

}  // namespace
}  // namespace tutti::testing
