// Log sink: one line per message, prefixed with host, pid and rank, to stderr or a file;
// per-site rate limiting of warnings.
#include "base/logging.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
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
  int warnLimit = 10;  // lines per site and window; 0: unlimited
  int64_t warnWindowMs = 10000;
  LogSite* pending = nullptr;  // sites with suppressed lines not yet reported

  LogState() {
    if (const char* v = getenv("TUTTI_WARN_LIMIT")) warnLimit = atoi(v) > 0 ? atoi(v) : 0;
    if (const char* v = getenv("TUTTI_WARN_WINDOW_MS"))
      if (atoll(v) > 0) warnWindowMs = atoll(v);
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

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Writes one line; the caller holds s.mutex.
void writeLine(LogState& s, LogLevel level, const char* file, int line, const char* msg) {
  const char* tag = level == LogLevel::kWarn ? "WARN" : level == LogLevel::kInfo ? "INFO" : "TRACE";
  const char* base = strrchr(file, '/');
  base = base ? base + 1 : file;
  if (tlsRank >= 0)
    fprintf(s.out, "%s:%d:%ld [%d] TUTTI %s %s (%s:%d)\n", s.host, getpid(),
            (long)syscall(SYS_gettid), tlsRank, tag, msg, base, line);
  else
    fprintf(s.out, "%s:%d:%ld TUTTI %s %s (%s:%d)\n", s.host, getpid(), (long)syscall(SYS_gettid),
            tag, msg, base, line);
  fflush(s.out);
}

void reportSuppressed(LogState& s, LogSite* site) {
  char msg[128];
  snprintf(msg, sizeof(msg), "... suppressed %llu similar warnings",
           (unsigned long long)site->suppressed);
  writeLine(s, LogLevel::kWarn, site->file, site->line, msg);
  site->suppressed = 0;
}

// Reports and unlists the pending sites whose window has passed (or all with `all`); the
// caller holds s.mutex.
void reportPending(LogState& s, int64_t now, bool all) {
  for (LogSite** link = &s.pending; *link;) {
    LogSite* site = *link;
    if (all || now - site->windowStartMs >= s.warnWindowMs) {
      if (site->suppressed) reportSuppressed(s, site);
      site->listedIn = nullptr;
      *link = site->next;
      site->next = nullptr;
    } else {
      link = &site->next;
    }
  }
}

// Formats outside the lock, then writes one line under it.
void writeFormatted(LogState& s, LogLevel level, const char* file, int line, const char* fmt,
                    va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof(msg), fmt, ap);
  std::lock_guard<std::mutex> lock(s.mutex);
  writeLine(s, level, file, line, msg);
}

}  // namespace

void logMessage(LogLevel level, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  writeFormatted(state(), level, file, line, fmt, ap);
  va_end(ap);
}

void logRateLimited(LogSite* site, LogLevel level, const char* file, int line, const char* fmt,
                    ...) {
  LogState& s = state();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    const int64_t now = nowMs();
    if (s.pending) reportPending(s, now, false);
    if (s.warnLimit > 0) {
      if (site->windowStartMs < 0 || now - site->windowStartMs >= s.warnWindowMs) {
        site->windowStartMs = now;
        site->printed = 0;
      }
      if (site->printed >= static_cast<uint32_t>(s.warnLimit)) {
        ++site->suppressed;
        // After fork() the child has a fresh state: a site listed in the parent's is relisted.
        if (site->listedIn != &s) {
          site->file = file;
          site->line = line;
          site->listedIn = &s;
          site->next = s.pending;
          s.pending = site;
        }
        return;
      }
      ++site->printed;
    }
  }
  va_list ap;
  va_start(ap, fmt);
  writeFormatted(s, level, file, line, fmt, ap);
  va_end(ap);
}

void flushSuppressedWarnings() {
  LogState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  reportPending(s, nowMs(), true);
}

void setWarnRateLimit(int perWindow, int windowMs) {
  LogState& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.warnLimit = perWindow > 0 ? perWindow : 0;
  s.warnWindowMs = windowMs > 0 ? windowMs : 1;
}

}  // namespace tutti
