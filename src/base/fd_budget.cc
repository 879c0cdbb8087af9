#include "base/fd_budget.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>

#include "base/logging.h"

namespace tutti {
namespace {

int64_t openDescriptors() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  int64_t n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;  // the directory's own descriptor
}

int64_t limitValue(rlim_t v) { return v == RLIM_INFINITY ? -1 : static_cast<int64_t>(v); }

}  // namespace

FdAsk fdAskHere(int64_t need) {
  FdAsk a{need, openDescriptors(), -1};
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) == 0) a.hard = limitValue(l.rlim_max);
  return a;
}

Result agreeFdBudget(const std::vector<FdAsk>& asks, int self, const char* what,
                     const char* remedy) {
  for (size_t r = 0; r < asks.size(); ++r) {
    const FdAsk& a = asks[r];
    if (a.need < 0 || a.open < 0 || a.hard < -1)
      return setError(tuttiRemoteError, "rank %zu sent a malformed descriptor budget", r);
    if (a.hard < 0 || a.need <= a.hard - a.open - kFdReserve) continue;
    return setError(static_cast<int>(r) == self ? tuttiSystemError : tuttiRemoteError,
                    "rank %zu cannot open the %lld file descriptors its %s need: its hard limit "
                    "(RLIMIT_NOFILE) is %lld with %lld open and %lld kept for the rest of the "
                    "process; raise it on that host (ulimit -Hn, or LimitNOFILE= of its service)%s",
                    r, static_cast<long long>(a.need), what, static_cast<long long>(a.hard),
                    static_cast<long long>(a.open), static_cast<long long>(kFdReserve), remedy);
  }
  return tuttiSuccess;
}

void raiseFdLimit(const FdAsk& ask, const char* what) {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur == RLIM_INFINITY) return;
  const int64_t want = ask.open + ask.need + kFdReserve;
  if (want <= static_cast<int64_t>(l.rlim_cur)) return;
  const rlim_t old = l.rlim_cur;
  l.rlim_cur = l.rlim_max == RLIM_INFINITY ? static_cast<rlim_t>(want)
                                           : std::min(static_cast<rlim_t>(want), l.rlim_max);
  if (l.rlim_cur <= old || setrlimit(RLIMIT_NOFILE, &l) != 0) return;
  TUTTI_INFO("raised the soft limit of open files (RLIMIT_NOFILE) from %llu to %llu for %lld %s",
             static_cast<unsigned long long>(old), static_cast<unsigned long long>(l.rlim_cur),
             static_cast<long long>(ask.need), what);
}

}  // namespace tutti
