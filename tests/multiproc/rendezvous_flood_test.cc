// Quiet under attack: thousands of junk connections to the rendezvous root while the real
// ranks join. The ranks must form their communicator as usual and the log must stay a few
// dozen lines (rate-limited warnings and one summary), not one line per connection.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <thread>

#include "bootstrap/handshake.h"
#include "bootstrap/socket.h"
#include "bootstrap/unique_id.h"
#include "testing/capture_stderr.h"
#include "testing/run_ranks.h"

namespace tutti::testing {
namespace {

constexpr int kJunk = 5000;
constexpr int kHeld = 300;  // silent connections the attacker keeps open at once

// Connects up to kJunk times in five manners: close at once, send garbage, stay silent, send a
// valid hello and stay silent, answer the challenge with a wrong proof. Tells the ranks to
// start after kJunk / 5 connections and stops once they have joined (the root is gone then:
// forked ranks still hold its listening socket, so connections would queue unanswered).
// Returns how many connected.
int flood(const SocketAddress& root, const std::string& started, const std::string& joined) {
  std::deque<Socket> held;
  int made = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kJunk; ++i) {
    if (i == kJunk / 5) fclose(fopen(started.c_str(), "w"));
    if (i == kJunk - 100) fclose(fopen((started + "-late").c_str(), "w"));
    if (i > kJunk / 5 && i % 16 == 0 && access(joined.c_str(), F_OK) == 0) break;
    if (i % 500 == 0)
      printf("flooder: %d connections after %.2f s\n", i,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    Socket s;
    if (Socket::connect(root, Deadline::afterMs(2000), nullptr, &s) != tuttiSuccess) break;
    ++made;
    Deadline d = Deadline::afterMs(200);
    uint8_t nonce[kNonceBytes] = {}, hello[kHelloBytes], challenge[kChallengeBytes];
    handshakeMakeHello(nonce, hello);
    switch (i % 5) {
      case 0: break;
      case 1: {
        const char junk[] = "GET / HTTP/1.0\r\n\r\n";
        (void)s.sendAll(junk, sizeof(junk) - 1, d);
        break;
      }
      case 2: held.push_back(std::move(s)); break;
      case 3:
        (void)s.sendAll(hello, sizeof(hello), d);
        held.push_back(std::move(s));
        break;
      case 4: {
        uint8_t proof[kProofBytes];
        memset(proof, 0x5a, sizeof(proof));
        if (s.sendAll(hello, sizeof(hello), d) == tuttiSuccess &&
            s.recvAll(challenge, sizeof(challenge), d) == tuttiSuccess)
          (void)s.sendAll(proof, sizeof(proof), d);
        break;
      }
    }
    while (held.size() > kHeld) held.pop_front();
  }
  return made;
}

TEST(RendezvousFlood, JunkConnectionsLeaveRanksJoiningAndTheLogShort) {
  const std::string started = "/tmp/tutti-flood-started-" + std::to_string(getpid());
  const std::string joined = "/tmp/tutti-flood-joined-" + std::to_string(getpid());
  unlink(started.c_str());
  unlink(joined.c_str());
  RankOptions opt;
  opt.createComm = false;
  opt.env = {{"TUTTI_TIMEOUT_MS", "60000"}};
  std::vector<std::string> lines;
  {
    CaptureStderr cap;
    runRanks(
        5,
        [&](tuttiComm_t, int proc, int) {
          if (proc == 4) {
            UniqueIdData d;
            ASSERT_EQ(decodeUniqueId(currentUniqueId(), &d), tuttiSuccess);
            const int made = flood(uniqueIdAddress(d), started, joined);
            printf("flooder: %d junk connections\n", made);
            EXPECT_GE(made, kJunk - 100);
            return;
          }
          // Join while the flood is under way; rank 3 comes late, so the root is forming the
          // communicator (holding ranks 0-2) through most of the flood.
          const std::string go = proc == 3 ? started + "-late" : started;
          for (int i = 0; i < 3000 && access(go.c_str(), F_OK) != 0; ++i) usleep(10000);
          tuttiComm_t comm = nullptr;
          ASSERT_EQ(tuttiCommInitRank(&comm, 4, currentUniqueId(), proc), tuttiSuccess)
              << tuttiGetLastError(nullptr);
          int v = proc + 1, out = 0;
          ASSERT_EQ(tuttiAllReduce(&v, &out, 1, tuttiInt32, tuttiSum, comm, nullptr), tuttiSuccess);
          EXPECT_EQ(out, 10);
          if (proc == 0) fclose(fopen(joined.c_str(), "w"));
          tuttiCommDestroy(comm);
        },
        opt);
    lines = cap.lines();
  }
  unlink(started.c_str());
  unlink((started + "-late").c_str());
  unlink(joined.c_str());
  int tutti = countContaining(lines, "TUTTI");
  for (const auto& l : lines) printf("%s\n", l.c_str());
  printf("%d log lines for the junk connections above\n", tutti);
  EXPECT_LE(tutti, 80) << "the log should hold a few rate-limited lines, not one per connection";
  EXPECT_GE(countContaining(lines, "similar warnings"), 1);
  EXPECT_EQ(countContaining(lines, "that were not ranks"), 1) << "one summary from the root";
}

}  // namespace
}  // namespace tutti::testing
