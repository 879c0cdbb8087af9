// One set of namespace hosts per test process and the transport selection of the netns tests.
#include "netns/netns_testing.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "transport/transport_factory.h"

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

bool ucxRegistered() {
  static int known = -1;
  if (known >= 0) return known == 1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    unsetenv("TUTTI_TRANSPORT");
    PeerConnections pc;
    if (createTransports(&pc) != tuttiSuccess) _exit(2);
    for (const auto& t : pc.types)
      if (strcmp(t->name(), "ucx") == 0) _exit(0);
    _exit(1);
  }
  int st = 0;
  known = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  return known == 1;
}

std::vector<std::pair<std::string, std::string>> netEnv(const std::string& net) {
  if (net == "ucx")
    // TUTTI_NET picks the network transport; UCX itself restricted to TCP on the veth.
    return {{"TUTTI_NET", "ucx"}, {"UCX_TLS", "tcp"}, {"UCX_NET_DEVICES", NetnsHosts::ifname()}};
  return {{"TUTTI_NET", "socket"}};
}

}  // namespace tutti::testing
