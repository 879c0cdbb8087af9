// Test hosts on one machine: network namespaces made by scripts/netns-hosts.sh (veth pairs to a
// bridge in its own namespace), and a runRanks that places each forked rank on one of them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "testing/run_ranks.h"

namespace tutti::testing {

class NetnsHosts {
 public:
  // Creates n hosts named tutti<pid>-h<i>; null with *why set when that cannot be done here
  // (not root, no `ip`, no namespace support): the caller skips with that message.
  static std::unique_ptr<NetnsHosts> create(int n, std::string* why);
  ~NetnsHosts();  // removes every namespace, link and /etc/hosts line of the set
  NetnsHosts(const NetnsHosts&) = delete;
  NetnsHosts& operator=(const NetnsHosts&) = delete;

  int size() const { return static_cast<int>(addresses_.size()); }
  const std::string& name() const { return name_; }  // the set, e.g. tutti1234
  std::string hostName(int i) const;                 // its namespace and TUTTI_HOSTID
  const std::string& address(int i) const { return addresses_[i]; }
  static const char* ifname() { return "tnet0"; }  // the same name on every host
  static std::string script();                     // path of netns-hosts.sh

  // Moves the calling process (single-threaded: a forked child) into host i, with /sys mounted
  // from inside it in a mount namespace of its own. False on failure.
  bool enter(int i) const;
  // Runs `command` through the shell in host i; returns its exit status.
  int run(int i, const std::string& command) const;
  // Takes host i's interface down or up.
  bool setLinkUp(int i, bool up) const;

 private:
  NetnsHosts() = default;
  std::string name_;
  std::vector<std::string> addresses_;
};

// Forks sum(ranksPerHost) ranks, host by host (ranks 0..k-1 on host 0, ...), each entering its
// host's namespace before it joins the communicator through TUTTI_COMM_ID on rank 0's address
// (a fresh port per call, a random secret) with TUTTI_SOCKET_IFNAME and TUTTI_HOSTID set.
void runRanksOnHosts(const NetnsHosts& hosts, const std::vector<int>& ranksPerHost,
                     const RankFn& fn, RankOptions options = {});

// The host index of each rank for that placement.
std::vector<int> hostOfRanks(const std::vector<int>& ranksPerHost);

}  // namespace tutti::testing
