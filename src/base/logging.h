// Logging controlled by TUTTI_DEBUG (WARN, INFO, TRACE) and TUTTI_DEBUG_FILE. Warnings are
// rate-limited per call site (TUTTI_WARN_LIMIT per TUTTI_WARN_WINDOW_MS), so that a flood of
// bad connections or retries writes a few lines and a count, not one line per event.
#pragma once

#include <atomic>
#include <cstdint>

namespace tutti {

enum class LogLevel { kNone = 0, kWarn = 1, kInfo = 2, kTrace = 3 };

LogLevel logLevel();
void logMessage(LogLevel level, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
// Rank shown in this thread's log lines; -1 hides it.
void setLogRank(int rank);

// One warning call site's rate-limit state (a static inside TUTTI_WARN). Guarded by the
// logger's mutex; `next` links the sites that have suppressed messages to report.
struct LogSite {
  int64_t windowStartMs = -1;
  uint32_t printed = 0;     // lines printed in the current window
  uint64_t suppressed = 0;  // lines dropped since the last report
  const char* file = nullptr;
  int line = 0;
  const void* listedIn = nullptr;  // the logger state whose pending list holds this site
  LogSite* next = nullptr;
};
void logRateLimited(LogSite* site, LogLevel level, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));
// Prints "suppressed K similar warnings" for every site with a pending count (called when a
// burst is known to be over, e.g. by the rendezvous root when it finishes; also done by any
// later warning once a site's window has passed).
void flushSuppressedWarnings();
// Overrides TUTTI_WARN_LIMIT / TUTTI_WARN_WINDOW_MS (limit 0: no limit).
void setWarnRateLimit(int perWindow, int windowMs);

}  // namespace tutti

#define TUTTI_LOG_(lvl, ...)                                                                       \
  do {                                                                                             \
    if (::tutti::logLevel() >= (lvl)) ::tutti::logMessage((lvl), __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
#define TUTTI_WARN(...)                                                                     \
  do {                                                                                      \
    static ::tutti::LogSite tuttiLogSite_;                                                  \
    if (::tutti::logLevel() >= ::tutti::LogLevel::kWarn)                                    \
      ::tutti::logRateLimited(&tuttiLogSite_, ::tutti::LogLevel::kWarn, __FILE__, __LINE__, \
                              __VA_ARGS__);                                                 \
  } while (0)
#define TUTTI_INFO(...) TUTTI_LOG_(::tutti::LogLevel::kInfo, __VA_ARGS__)
#define TUTTI_TRACE(...) TUTTI_LOG_(::tutti::LogLevel::kTrace, __VA_ARGS__)
