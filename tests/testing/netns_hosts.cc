// Network-namespace test hosts: creation and removal through scripts/netns-hosts.sh, entering a
// host with setns(2), and the rank placement used by the tests in tests/netns/.
#include "testing/netns_hosts.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <sstream>

namespace tutti::testing {
namespace {

#ifndef TUTTI_SOURCE_DIR
#error "netns_hosts.cc needs TUTTI_SOURCE_DIR (the script lives in the source tree)"
#endif

// Runs a command and returns its exit status and merged output.
int capture(const std::string& command, std::string* output) {
  output->clear();
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[512];
  while (fgets(buf, sizeof(buf), p)) output->append(buf);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string randomHex(int bytes) {
  std::random_device rd;
  std::string s;
  const char* digits = "0123456789abcdef";
  for (int i = 0; i < bytes; ++i) {
    unsigned v = rd() & 0xff;
    s += digits[v >> 4];
    s += digits[v & 15];
  }
  return s;
}

}  // namespace

std::string NetnsHosts::script() {
  return std::string(TUTTI_SOURCE_DIR) + "/scripts/netns-hosts.sh";
}

std::unique_ptr<NetnsHosts> NetnsHosts::create(int n, std::string* why) {
  if (geteuid() != 0) {
    *why = "network-namespace hosts need root (CI runs these tests as root)";
    return nullptr;
  }
  if (access(script().c_str(), X_OK) != 0) {
    *why = script() + " is missing or not executable";
    return nullptr;
  }
  std::unique_ptr<NetnsHosts> h(new NetnsHosts());
  h->name_ = "tutti" + std::to_string(getpid());
  std::string out;
  int rc = capture(script() + " up " + h->name_ + " " + std::to_string(n), &out);
  if (rc != 0) {
    *why = "cannot create network namespaces here: " + out;
    h->name_.clear();  // `up` cleaned up after itself
    return nullptr;
  }
  // "NAME-hI ADDR" lines; others (the removal of a stale set, on stderr) are skipped.
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string ns, addr;
    if (words >> ns >> addr && ns == h->hostName(h->size())) h->addresses_.push_back(addr);
  }
  if (h->size() != n) {
    *why = "unexpected output from netns-hosts.sh up: " + out;
    return nullptr;  // the destructor removes what was made
  }
  return h;
}

NetnsHosts::~NetnsHosts() {
  if (name_.empty()) return;
  std::string out;
  if (capture(script() + " down " + name_, &out) != 0)
    fprintf(stderr, "netns hosts %s: removal failed: %s\n", name_.c_str(), out.c_str());
}

std::string NetnsHosts::hostName(int i) const { return name_ + "-h" + std::to_string(i); }

bool NetnsHosts::enter(int i) const {
  const std::string path = "/var/run/netns/" + hostName(i);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = setns(fd, CLONE_NEWNET) == 0;
  close(fd);
  // /sys/class/net still lists the machine's interfaces until sysfs is mounted again from
  // inside the namespace (UCX's TCP transport finds its devices there); as `ip netns exec`
  // does, in a private mount namespace so nobody else's /sys changes.
  ok = ok && unshare(CLONE_NEWNS) == 0 &&
       mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) == 0 &&
       umount2("/sys", MNT_DETACH) == 0 &&
       mount(hostName(i).c_str(), "/sys", "sysfs", 0, nullptr) == 0;
  return ok;
}

int NetnsHosts::run(int i, const std::string& command) const {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!enter(i)) _exit(126);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool NetnsHosts::setLinkUp(int i, bool up) const {
  return run(i, std::string("ip link set ") + ifname() + (up ? " up" : " down")) == 0;
}

std::vector<int> hostOfRanks(const std::vector<int>& ranksPerHost) {
  std::vector<int> hostOf;
  for (size_t h = 0; h < ranksPerHost.size(); ++h)
    for (int k = 0; k < ranksPerHost[h]; ++k) hostOf.push_back(static_cast<int>(h));
  return hostOf;
}

void runRanksOnHosts(const NetnsHosts& hosts, const std::vector<int>& ranksPerHost,
                     const RankFn& fn, RankOptions options) {
  static int calls = 0;
  const std::vector<int> hostOf = hostOfRanks(ranksPerHost);
  // A fresh port per communicator: the last one's root may still be in TIME_WAIT.
  const int port = 29400 + (calls++ % 500);
  options.env.push_back({"TUTTI_COMM_ID", hosts.address(0) + ":" + std::to_string(port)});
  options.env.push_back({"TUTTI_COMM_SECRET", randomHex(16)});
  options.env.push_back({"TUTTI_SOCKET_IFNAME", std::string("=") + NetnsHosts::ifname()});
  RankHook outer = options.beforeInit;
  options.beforeInit = [&hosts, hostOf, outer](int rank) {
    const int h = hostOf[rank];
    if (!hosts.enter(h)) {
      fprintf(stderr, "rank %d: cannot enter %s\n", rank, hosts.hostName(h).c_str());
      _exit(4);
    }
    setenv("TUTTI_HOSTID", hosts.hostName(h).c_str(), 1);
    if (outer) outer(rank);
  };
  runRanks(static_cast<int>(hostOf.size()), fn, options);
}

}  // namespace tutti::testing
