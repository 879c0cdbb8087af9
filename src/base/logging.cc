// Log sink: one line per message, prefixed with host, pid and rank, to stderr or a file.
#include "base/logging.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace tutti {
namespace {

thread_local int tlsRank = -1;

struct LogState {
  LogLevel level = LogLevel::kWarn;
  FILE* out = stderr;
  char host[64] = "?";
  std::mutex mutex;

  LogState() {
    const char* lvl = getenv("TUTTI_DEBUG");
    if (!lvl) lvl = getenv("NCCL_DEBUG");  // the shim's users keep their habit
    if (lvl) {
      if (!strcasecmp(lvl, "NONE"))
        level = LogLevel::kNone;
      else if (!strcasecmp(lvl, "INFO"))
        level = LogLevel::kInfo;
      else if (!strcasecmp(lvl, "TRACE"))
        level = LogLevel::kTrace;
      else
        level = LogLevel::kWarn;
    }
    gethostname(host, sizeof(host) - 1);
    if (char* dot = strchr(host, '.')) *dot = '\0';
    if (const char* path = getenv("TUTTI_DEBUG_FILE")) {
      // %h -> host, %p -> pid, as NCCL_DEBUG_FILE does.
      std::string name;
      for (const char* c = path; *c; ++c) {
        if (c[0] == '%' && c[1] == 'h') {
          name += host;
          ++c;
        } else if (c[0] == '%' && c[1] == 'p') {
          name += std::to_string(getpid());
          ++c;
        } else
          name += *c;
      }
      if (FILE* f = fopen(name.c_str(), "a")) out = f;
    }
  }
};

// Never destroyed: logging works during exit. A forked child reads TUTTI_DEBUG and
// TUTTI_DEBUG_FILE again at its first message (its pid names its own log file).
std::atomic<LogState*> gState{nullptr};
std::once_flag gAtFork;

LogState& state() {
  LogState* s = gState.load(std::memory_order_acquire);
  if (s) return *s;
  std::call_once(gAtFork, [] {
    pthread_atfork(nullptr, nullptr, [] { gState.store(nullptr, std::memory_order_relaxed); });
  });
  auto* made = new LogState();
  if (gState.compare_exchange_strong(s, made)) return *made;
  delete made;
  return *s;
}

}  // namespace

LogLevel logLevel() { return state().level; }

void setLogRank(int rank) { tlsRank = rank; }

void logMessage(LogLevel level, const char* file, int line, const char* fmt, ...) {
  LogState& s = state();
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char* tag = level == LogLevel::kWarn ? "WARN" : level == LogLevel::kInfo ? "INFO" : "TRACE";
  const char* base = strrchr(file, '/');
  base = base ? base + 1 : file;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (tlsRank >= 0)
    fprintf(s.out, "%s:%d:%ld [%d] TUTTI %s %s (%s:%d)\n", s.host, getpid(),
            (long)syscall(SYS_gettid), tlsRank, tag, msg, base, line);
  else
    fprintf(s.out, "%s:%d:%ld TUTTI %s %s (%s:%d)\n", s.host, getpid(), (long)syscall(SYS_gettid),
            tag, msg, base, line);
  fflush(s.out);
}

}  // namespace tutti
