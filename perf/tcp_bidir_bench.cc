// The TCP ceiling between two hosts: S plain TCP streams, every stream sending in both
// directions at once for T seconds; prints per-direction and total throughput. The listening
// side and the connecting side run the same loops and each prints what it measured.
//
//   tcp_bidir_bench --listen ADDR:PORT [-s STREAMS] [-t SECONDS] [-b BUFFER_KIB] [-m MSG_KIB]
//   tcp_bidir_bench --connect ADDR:PORT [-s STREAMS] [-t SECONDS] [-b BUFFER_KIB] [-m MSG_KIB]
//                   [--hot KIB] [--huge]
//
// -m: message steps instead of an endless stream, the traffic of a 2-rank ring AllReduce
// without its arithmetic. Each step both sides send a message of MSG_KIB (cut into S equal
// parts, one per stream) and receive one; a step's sends start only once every part of the
// previous step has arrived (the ring sends what it has just received). Messages come from and
// go to buffers of two messages each, alternating halves, so memory is as cold as a
// collective's. The rate is then the floor a message-passing library can reach over TCP.
// --hot KIB moves every part through one small buffer per thread instead: the steps without
// the cold memory. --huge asks for transparent huge pages on the message buffers (to tell the
// cost of the memory itself from the cost of mapping it 4 KiB at a time).
//
// --exchange N: the latency floor of a 2-rank 8 B AllReduce instead: N rounds (after 100 not
// timed) in which both sides send 8 bytes on the first stream and poll for the other's;
// prints the mean round in microseconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const char* what) {
  fprintf(stderr, "tcp_bidir_bench: %s: %s\n", what, strerror(errno));
  exit(1);
}

sockaddr_in parseAddr(const std::string& spec) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos) {
    fprintf(stderr, "tcp_bidir_bench: expected ADDR:PORT, got %s\n", spec.c_str());
    exit(2);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(atoi(spec.c_str() + colon + 1)));
  if (inet_pton(AF_INET, spec.substr(0, colon).c_str(), &a.sin_addr) != 1) {
    fprintf(stderr, "tcp_bidir_bench: bad IPv4 address in %s\n", spec.c_str());
    exit(2);
  }
  return a;
}

// Sends for `seconds`, then shuts the write side so the peer's receiver sees the end.
void sender(int fd, double seconds, size_t bufBytes, std::atomic<uint64_t>* bytes) {
  std::vector<char> buf(bufBytes, 'x');
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    ssize_t n = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    *bytes += static_cast<uint64_t>(n);
  }
  shutdown(fd, SHUT_WR);
}

// Receives until the peer's end of stream, or a bounded grace time past the send window.
void receiver(int fd, double seconds, size_t bufBytes, std::atomic<uint64_t>* bytes,
              Clock::time_point start, std::atomic<double>* lastByte) {
  std::vector<char> buf(bufBytes);
  const auto giveUp = start + std::chrono::duration<double>(seconds + 10);
  while (Clock::now() < giveUp) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    *bytes += static_cast<uint64_t>(n);
    *lastByte = std::chrono::duration<double>(Clock::now() - start).count();
  }
}

// Message mode: stream `i` of `n` sends its part of every step, waiting for the previous
// step's receives on every stream first; stops starting steps after `seconds`.
struct Steps {
  std::vector<std::atomic<uint64_t>> received;  // per stream, steps fully received
  std::atomic<bool> ended{false};               // a receiver saw the peer's end
  explicit Steps(int n) : received(static_cast<size_t>(n)) {}
  bool allReceived(uint64_t k) const {
    for (const auto& r : received)
      if (r.load() < k) return false;
    return true;
  }
};

// `hot` > 0: every part moves through one buffer of `hot` bytes of the thread's own instead of
// the message buffers (the steps without the cold memory, to tell the two costs apart).
void stepSender(int fd, int i, size_t part, size_t msg, const char* src, size_t hot, double seconds,
                Steps* steps, std::atomic<uint64_t>* bytes) {
  std::vector<char> hotBuf(hot, 'h');
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  for (uint64_t k = 0; Clock::now() < end; ++k) {
    while (!steps->allReceived(k) && !steps->ended.load()) std::this_thread::yield();
    if (steps->ended.load()) break;
    const char* at = src + (k % 2) * msg + static_cast<size_t>(i) * part;
    for (size_t done = 0; done < part;) {
      ssize_t n = hot ? send(fd, hotBuf.data(), std::min(hot, part - done), MSG_NOSIGNAL)
                      : send(fd, at + done, part - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        shutdown(fd, SHUT_WR);
        return;
      }
      done += static_cast<size_t>(n);
      *bytes += static_cast<uint64_t>(n);
    }
  }
  shutdown(fd, SHUT_WR);
}

// Ends at the peer's end of stream, or (a peer that vanished) a bounded grace time past the
// send window, as the stream receiver does.
void stepReceiver(int fd, int i, size_t part, size_t msg, char* dst, size_t hot, double seconds,
                  Steps* steps, std::atomic<uint64_t>* bytes, Clock::time_point start,
                  std::atomic<double>* lastByte) {
  std::vector<char> hotBuf(hot);
  const auto giveUp = start + std::chrono::duration<double>(seconds + 10);
  for (uint64_t k = 0;; ++k) {
    char* at = dst + (k % 2) * msg + static_cast<size_t>(i) * part;
    for (size_t done = 0; done < part;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) {
        if (Clock::now() < giveUp) continue;
        steps->ended.store(true);
        return;
      }
      ssize_t n = hot ? recv(fd, hotBuf.data(), std::min(hot, part - done), 0)
                      : recv(fd, at + done, part - done, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        steps->ended.store(true);
        return;
      }
      done += static_cast<size_t>(n);
      *bytes += static_cast<uint64_t>(n);
      *lastByte = std::chrono::duration<double>(Clock::now() - start).count();
    }
    steps->received[static_cast<size_t>(i)].store(k + 1);
  }
}

// The message buffers: 2 MiB aligned and advised for transparent huge pages with --huge, then
// written once so that every page exists before the clock starts.
class MessageBuffer {
 public:
  MessageBuffer(size_t bytes, bool huge, char fill) {
    if (!bytes) return;
    const size_t align = huge ? (2u << 20) : 4096;
    if (posix_memalign(&p_, align, (bytes + align - 1) / align * align) != 0)
      fail("posix_memalign");
    if (huge && madvise(p_, bytes, MADV_HUGEPAGE) != 0)
      fprintf(stderr, "tcp_bidir_bench: madvise(MADV_HUGEPAGE): %s\n", strerror(errno));
    memset(p_, fill, bytes);
  }
  ~MessageBuffer() { free(p_); }
  MessageBuffer(const MessageBuffer&) = delete;
  MessageBuffer& operator=(const MessageBuffer&) = delete;
  char* data() { return static_cast<char*>(p_); }

 private:
  void* p_ = nullptr;
};

}  // namespace

// Both sides send 8 bytes and wait for the other's, `rounds` times; the mean round in us.
double exchangeUs(int fd, int rounds) {
  auto round = [fd](uint64_t v) {
    if (send(fd, &v, sizeof(v), MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof(v))) fail("send");
    size_t got = 0;
    char in[sizeof(v)];
    // Polling, as the executors of both libraries do while a short step is in flight.
    const auto end = Clock::now() + std::chrono::seconds(30);
    while (got < sizeof(in)) {
      const ssize_t k = recv(fd, in + got, sizeof(in) - got, MSG_DONTWAIT);
      if (k > 0) {
        got += static_cast<size_t>(k);
      } else if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        fail("recv");
      } else if (Clock::now() > end) {
        fail("exchange: no answer within 30 s");
      }
    }
  };
  for (int r = 0; r < 100; ++r) round(static_cast<uint64_t>(r));
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) round(static_cast<uint64_t>(r));
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / rounds;
}

int main(int argc, char** argv) {
  std::string listenSpec, connectSpec;
  int exchange = 0;
  int streams = 1;
  double seconds = 3;
  size_t bufKib = 256;
  size_t msgKib = 0, hotKib = 0;
  bool huge = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "tcp_bidir_bench: %s needs a value\n", a.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--listen")
      listenSpec = next();
    else if (a == "--connect")
      connectSpec = next();
    else if (a == "-s")
      streams = atoi(next());
    else if (a == "-t")
      seconds = atof(next());
    else if (a == "-b")
      bufKib = static_cast<size_t>(atol(next()));
    else if (a == "-m")
      msgKib = static_cast<size_t>(atol(next()));
    else if (a == "--hot")
      hotKib = static_cast<size_t>(atol(next()));
    else if (a == "--huge")
      huge = true;
    else if (a == "--exchange")
      exchange = atoi(next());
    else {
      fprintf(stderr,
              "usage: tcp_bidir_bench --listen|--connect ADDR:PORT [-s N] [-t SEC] "
              "[-b KIB] [-m MSG_KIB [--hot KIB] [--huge]] [--exchange N]\n");
      return 2;
    }
  }
  if (listenSpec.empty() == connectSpec.empty() || streams < 1 || streams > 64 || seconds <= 0 ||
      bufKib < 1) {
    fprintf(stderr, "tcp_bidir_bench: give exactly one of --listen/--connect, 1-64 streams\n");
    return 2;
  }
  std::vector<int> fds;
  if (!listenSpec.empty()) {
    sockaddr_in a = parseAddr(listenSpec);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) fail("bind");
    if (listen(l, streams) != 0) fail("listen");
    for (int s = 0; s < streams; ++s) {
      pollfd p{l, POLLIN, 0};
      if (poll(&p, 1, 30000) <= 0) {
        fprintf(stderr, "tcp_bidir_bench: no connection within 30 s\n");
        return 1;
      }
      int fd = accept(l, nullptr, nullptr);
      if (fd < 0) fail("accept");
      fds.push_back(fd);
    }
    close(l);
  } else {
    sockaddr_in a = parseAddr(connectSpec);
    for (int s = 0; s < streams; ++s) {
      int fd = -1;
      // The listener may start a moment later: retry for a bounded time.
      for (int attempt = 0; attempt < 100; ++attempt) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) break;
        close(fd);
        fd = -1;
        usleep(100000);
      }
      if (fd < 0) fail("connect");
      fds.push_back(fd);
    }
  }
  for (int fd : fds) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (exchange > 0) {
    const double us = exchangeUs(fds[0], exchange);
    for (int fd : fds) close(fd);
    printf("# tcp_bidir_bench %s, 8-byte exchanges\nexchange_us %.2f\n",
           listenSpec.empty() ? "connect" : "listen", us);
    return 0;
  }
  std::atomic<uint64_t> sent{0}, received{0};
  std::atomic<double> lastByte{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  // Message mode: parts of whole 4 KiB pages, so every stream carries the same share.
  const size_t part = msgKib * 1024 / static_cast<size_t>(streams) / 4096 * 4096;
  const size_t msg = part * static_cast<size_t>(streams);
  MessageBuffer src(msgKib ? 2 * msg : 0, huge, 'x'), dst(msgKib ? 2 * msg : 0, huge, 0);
  Steps steps(streams);
  if (msgKib && part == 0) {
    fprintf(stderr, "tcp_bidir_bench: -m needs at least 4 KiB per stream\n");
    return 2;
  }
  for (int i = 0; i < static_cast<int>(fds.size()); ++i) {
    const int fd = fds[static_cast<size_t>(i)];
    if (msgKib) {
      threads.emplace_back(stepSender, fd, i, part, msg, src.data(), hotKib * 1024, seconds, &steps,
                           &sent);
      threads.emplace_back(stepReceiver, fd, i, part, msg, dst.data(), hotKib * 1024, seconds,
                           &steps, &received, start, &lastByte);
    } else {
      threads.emplace_back(sender, fd, seconds, bufKib * 1024, &sent);
      threads.emplace_back(receiver, fd, seconds, bufKib * 1024, &received, start, &lastByte);
    }
  }
  for (auto& t : threads) t.join();
  for (int fd : fds) close(fd);
  const double recvSec = std::max(lastByte.load(), seconds);
  const double tx = sent / seconds / 1e9, rx = received / recvSec / 1e9;
  if (msgKib)
    printf("# tcp_bidir_bench %s, %d stream(s), %.1f s, steps of %zu KiB messages%s\n",
           listenSpec.empty() ? "connect" : "listen", streams, seconds, msg / 1024,
           hotKib ? ", through hot buffers"
           : huge ? ", huge pages asked for"
                  : "");
  else
    printf("# tcp_bidir_bench %s, %d stream(s), %.1f s, %zu KiB buffers\n",
           listenSpec.empty() ? "connect" : "listen", streams, seconds, bufKib);
  printf("send_GBps %.3f recv_GBps %.3f total_GBps %.3f per_direction_GBps %.3f\n", tx, rx, tx + rx,
         std::min(tx, rx));
  return 0;
}
