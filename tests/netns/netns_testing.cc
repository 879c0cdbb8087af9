// One set of namespace hosts per test process and the transport selection of the netns tests.
#include "netns/netns_testing.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace tutti::testing {
namespace {

struct HostsHolder {
  std::unique_ptr<NetnsHosts> hosts;
  std::string why;
  bool tried = false;
};

HostsHolder& holder() {
  // Destroyed at exit: the namespaces go with the test process.
  static HostsHolder h;
  return h;
}

}  // namespace

const NetnsHosts* netnsHosts(std::string* why) {
  HostsHolder& h = holder();
  if (!h.tried) {
    h.tried = true;
    h.hosts = NetnsHosts::create(3, &h.why);
  }
  *why = h.why;
  return h.hosts.get();
}

bool ucxUsable(std::string* why) {
  static int known = -1;
  static std::string reason;
  if (known < 0) {
    known = 0;
    int fds[2];
    if (pipe(fds) != 0) {
      reason = "pipe failed";
    } else {
      fflush(stdout);
      fflush(stderr);
      pid_t pid = fork();
      if (pid == 0) {
        close(fds[0]);
        setenv("TUTTI_TRANSPORT", "ucx", 1);
        setenv("TUTTI_TIMEOUT_MS", "20000", 1);
        setenv("TUTTI_DEBUG", "NONE", 1);
        tuttiComm_t comms[2] = {nullptr, nullptr};
        std::string msg;
        if (tuttiCommInitAll(comms, 2, nullptr) != tuttiSuccess) msg = tuttiGetLastError(nullptr);
        for (tuttiComm_t c : comms)
          if (c) tuttiCommDestroy(c);
        if (write(fds[1], msg.data(), msg.size()) < 0) _exit(2);
        _exit(msg.empty() ? 0 : 1);
      }
      close(fds[1]);
      // Bounded: a child that hangs is killed and UCX counts as unusable.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      int st = 0;
      pid_t got = 0;
      while (pid > 0 && (got = waitpid(pid, &st, WNOHANG)) == 0 &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (pid > 0 && got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        reason = "a UCX communicator did not initialise within 60 s";
      } else {
        char buf[1024];
        ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
        if (n > 0) reason.assign(buf, static_cast<size_t>(n));
        if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
          known = 1;
        else if (reason.empty())
          reason = "the UCX probe crashed";
      }
      close(fds[0]);
    }
  }
  *why = reason;
  return known == 1;
}

std::vector<std::pair<std::string, std::string>> netEnv(const std::string& net) {
  if (net == "ucx")
    // TUTTI_NET picks the network transport; UCX itself restricted to TCP on the veth. One
    // worker, whatever the machine's CPU count would pick.
    return {{"TUTTI_NET", "ucx"},
            {"UCX_TLS", "tcp"},
            {"UCX_NET_DEVICES", NetnsHosts::ifname()},
            {"TUTTI_UCX_WORKERS", "1"}};
  if (net == "ucx_striped")
    // Three workers, each on its own thread, in stripes that end mid-message. Payloads from
    // 4 KiB on leave from the caller's buffer: as direct sends on the caller's worker, and as
    // send windows on the stripe workers of ranks that share their host (TUTTI_UCX_STRIPE_DIRECT
    // unset: auto), so on 3 hosts of 1, 2 and 1 ranks the two kinds of sender meet.
    return {{"TUTTI_NET", "ucx"},
            {"UCX_TLS", "tcp"},
            {"UCX_NET_DEVICES", NetnsHosts::ifname()},
            {"TUTTI_UCX_WORKERS", "3"},
            {"TUTTI_UCX_STRIPE_BYTES", "16400"},
            {"TUTTI_UCX_DIRECT_BYTES", "4096"}};
  if (net == "socket_striped")
    // Small chunks: the sweep's messages cross chunk and stream boundaries. Messages from
    // 8 KiB on go to the stream threads, shorter ones to the executor's own socket. Payloads
    // from 4 KiB on move straight between the stream threads and the caller's buffers, and the
    // 96 KiB ring makes the sweep's largest messages open receive windows too.
    return {{"TUTTI_NET", "socket"},
            {"TUTTI_SOCKET_STREAMS", "3"},
            {"TUTTI_SOCKET_STRIPE_MIN_BYTES", "8192"},
            {"TUTTI_SOCKET_CHUNK_BYTES", "16384"},
            {"TUTTI_SOCKET_DIRECT_BYTES", "4096"},
            {"TUTTI_SOCKET_STAGING_BYTES", "65536"}};
  return {{"TUTTI_NET", "socket"}};
}

std::string netTransport(const std::string& net) {
  return net.compare(0, 3, "ucx") == 0 ? "ucx" : "socket";
}

}  // namespace tutti::testing
