// AuthListener, the admission that the rendezvous root and every rank's bootstrap ring
// listener share: an honest peer gets through while strangers sit silent, send junk, fail the
// secret or crowd the pending list; each refusal is counted once in the summary.
#include "bootstrap/auth_listener.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "testing/capture_stderr.h"

namespace tutti {
namespace {

using Clock = std::chrono::steady_clock;

const uint8_t kSecret[kSecretBytes] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Served {
  Socket listener;
  SocketAddress address;
};

Served listenOnLoopback() {
  Served s;
  SocketAddress any;
  EXPECT_EQ(parseHostPort("127.0.0.1:0", &any), tuttiSuccess);
  EXPECT_EQ(Socket::listen(any, &s.listener), tuttiSuccess);
  EXPECT_EQ(s.listener.localAddress(&s.address), tuttiSuccess);
  return s;
}

// An honest peer: the handshake, then `message`.
Result honestPeer(const SocketAddress& at, const std::vector<uint8_t>& message, Socket* out) {
  const Deadline dl = Deadline::afterMs(10000);
  TUTTI_TRY(Socket::connect(at, dl, nullptr, out));
  TUTTI_TRY(handshakeClient(*out, kSecret, dl, nullptr));
  return out->sendAll(message.data(), message.size(), dl, nullptr);
}

// Serves `admit` until a connection completes or `seconds` pass.
std::vector<AuthConnection> serveUntilOne(AuthListener& admit, double seconds) {
  std::vector<AuthConnection> done;
  const auto t0 = Clock::now();
  while (done.empty() && since(t0) < seconds) admit.serve(50, &done);
  return done;
}

// The predecessor arrives behind silent connections, junk and a wrong secret, more than the
// pending list holds: it is through in well under one authentication budget, where a listener
// that served one connection at a time would have spent a budget on each silent one.
TEST(AuthListener, HonestPeerGetsThroughAStrangerCrowd) {
  Served s = listenOnLoopback();
  setWarnRateLimit(0, 1);  // every refusal on its own line, to count them
  testing::CaptureStderr capture;
  constexpr int kAuthMs = 4000;
  constexpr size_t kMaxPending = 8;
  AuthListener admit(s.listener, kSecret, AuthLimits{kMaxPending, kAuthMs}, sizeof(int32_t),
                     nullptr, "test listener");
  std::vector<Socket> strangers;
  // Twelve silent connections (more than the pending list holds: evictions), three of junk.
  for (int i = 0; i < 15; ++i) {
    Socket c;
    ASSERT_EQ(Socket::connect(s.address, Deadline::afterMs(5000), nullptr, &c), tuttiSuccess);
    if (i >= 12) {
      const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
      ASSERT_EQ(c.sendAll(junk, sizeof(junk) - 1, Deadline::afterMs(1000), nullptr), tuttiSuccess);
    }
    strangers.push_back(std::move(c));
  }
  // A peer with another secret, on a thread: its handshake fails on its side and on ours.
  std::thread wrong([&] {
    uint8_t other[kSecretBytes];
    memcpy(other, kSecret, sizeof(other));
    other[0] ^= 1;
    Socket c;
    if (Socket::connect(s.address, Deadline::afterMs(5000), nullptr, &c) == tuttiSuccess)
      EXPECT_NE(handshakeClient(c, other, Deadline::afterMs(5000), nullptr), tuttiSuccess);
  });
  // Let the listener take the crowd in before the honest peer comes.
  std::vector<AuthConnection> none;
  for (int i = 0; i < 5; ++i) admit.serve(20, &none);
  EXPECT_TRUE(none.empty());

  const auto t0 = Clock::now();
  const int32_t rank = 3;
  std::vector<uint8_t> message(sizeof(rank));
  memcpy(message.data(), &rank, sizeof(rank));
  Socket me;
  std::thread honest([&] { EXPECT_EQ(honestPeer(s.address, message, &me), tuttiSuccess); });
  std::vector<AuthConnection> done = serveUntilOne(admit, 10.0);
  const double took = since(t0);
  honest.join();
  wrong.join();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].message, message);
  EXPECT_LT(took, kAuthMs / 4000.0) << "the honest peer waited behind the strangers";
  admit.summarize();
  const std::vector<std::string> lines = capture.lines();
  setWarnRateLimit(10, 10000);
  int evicted = 0, badHello = 0, summaries = 0;
  for (const std::string& l : lines) {
    evicted +=
        l.find("evicted") != std::string::npos && l.find("no hello yet") != std::string::npos;
    badHello += l.find("rejected connection") != std::string::npos;
    summaries += l.find("refused") != std::string::npos &&
                 l.find("that were not ranks") != std::string::npos;
  }
  EXPECT_GE(evicted, 1) << "more strangers than kMaxPending: some were evicted";
  EXPECT_GE(badHello, 1) << "junk was refused";
  EXPECT_EQ(summaries, 1);
}

// A first message may announce that more of it follows (the root's withdrawal: an announce,
// then the reason); a silent connection is closed after the budget and counted.
TEST(AuthListener, LongerMessagesAndSilentOnesPastTheBudget) {
  Served s = listenOnLoopback();
  AuthListener admit(
      s.listener, kSecret, AuthLimits{16, 300}, 4,
      [](const uint8_t* bytes, size_t) { return bytes[0] == 'L' ? 64 : 4; }, "test listener");
  Socket silent;
  ASSERT_EQ(Socket::connect(s.address, Deadline::afterMs(5000), nullptr, &silent), tuttiSuccess);
  std::vector<uint8_t> longMessage(64, 'x');
  longMessage[0] = 'L';
  Socket me;
  std::thread honest([&] { EXPECT_EQ(honestPeer(s.address, longMessage, &me), tuttiSuccess); });
  std::vector<AuthConnection> done = serveUntilOne(admit, 5.0);
  honest.join();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].message, longMessage);
  // The silent one is gone after its 300 ms: our end of it reads end of file.
  std::vector<AuthConnection> none;
  const auto t0 = Clock::now();
  while (since(t0) < 1.0) admit.serve(50, &none);
  char c;
  EXPECT_EQ(silent.recvAll(&c, 1, Deadline::afterMs(1000), nullptr), tuttiRemoteError);
  EXPECT_TRUE(none.empty());
}

// serveUntil ends when `take` has what it waits for, when the deadline passes, and soon after
// a stop is asked (the ring and the socket transport stop their acceptor when their own
// connect fails).
TEST(AuthListener, ServeUntilEndsOnTakeDeadlineAndStop) {
  Served s = listenOnLoopback();
  AuthListener admit(s.listener, kSecret, AuthLimits{16, 5000}, 1, nullptr, "test listener");
  const std::vector<uint8_t> one{42};
  Socket me;
  std::thread honest([&] { EXPECT_EQ(honestPeer(s.address, one, &me), tuttiSuccess); });
  int taken = 0;
  EXPECT_EQ(admit.serveUntil(Deadline::afterMs(5000), nullptr, nullptr,
                             [&](AuthConnection& c) {
                               EXPECT_EQ(c.message, one);
                               return ++taken == 1;
                             }),
            tuttiSuccess);
  honest.join();
  EXPECT_EQ(taken, 1);

  auto t0 = Clock::now();
  EXPECT_EQ(admit.serveUntil(Deadline::afterMs(200), nullptr, nullptr,
                             [](AuthConnection&) { return true; }),
            tuttiTimeout);
  EXPECT_LT(since(t0), 1.0);

  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    stop = true;
  });
  t0 = Clock::now();
  EXPECT_EQ(admit.serveUntil(Deadline::afterMs(10000), nullptr, &stop,
                             [](AuthConnection&) { return true; }),
            tuttiAborted);
  stopper.join();
  EXPECT_LT(since(t0), 1.0) << "a stop was seen late";
}

// Out of descriptors, accept() fails while the connection stays queued, so poll() reports the
// listener again at once: the listener rests instead of spinning (it used two cores of system
// time for a whole timeout), and its timeout says why nobody got through. In a child, whose
// soft limit it lowers.
TEST(AuthListener, OutOfDescriptorsRestsAndTheTimeoutSaysWhy) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Served s = listenOnLoopback();
    Socket peer;
    if (Socket::connect(s.address, Deadline::afterMs(5000), nullptr, &peer) != tuttiSuccess)
      _exit(2);
    // The lowest free descriptor is what accept() would take: a limit at it refuses (EMFILE).
    const int lowestFree = dup(0);
    if (lowestFree < 0) _exit(3);
    close(lowestFree);
    rlimit l{};
    getrlimit(RLIMIT_NOFILE, &l);
    l.rlim_cur = static_cast<rlim_t>(lowestFree);
    if (setrlimit(RLIMIT_NOFILE, &l) != 0) _exit(3);
    AuthListener admit(s.listener, kSecret, AuthLimits{8, 4000}, sizeof(int32_t), nullptr,
                       "test listener");
    rusage r0{}, r1{};
    getrusage(RUSAGE_SELF, &r0);
    const Result r = admit.serveUntil(Deadline::afterMs(1000), nullptr, nullptr,
                                      [](AuthConnection&) { return true; });
    getrusage(RUSAGE_SELF, &r1);
    auto us = [](const rusage& u) {
      return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000L + u.ru_utime.tv_usec +
             u.ru_stime.tv_usec;
    };
    const long cpuUs = us(r1) - us(r0);
    const std::string msg = lastError();
    fprintf(stderr, "cpu %ld us: %s\n", cpuUs, msg.c_str());
    if (r != tuttiTimeout) _exit(4);
    if (msg.find("accepting failed") == std::string::npos ||
        msg.find("Too many open files") == std::string::npos)
      _exit(5);
    _exit(cpuUs < 250000 ? 0 : 6);  // a spinning listener burns the whole second
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: connect, 3: setrlimit, 4: not a timeout, 5: the "
                                       "message, 6: the listener spun";
}

}  // namespace
}  // namespace tutti
