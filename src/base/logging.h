// Logging controlled by TUTTI_DEBUG (WARN, INFO, TRACE) and TUTTI_DEBUG_FILE.
#pragma once

namespace tutti {

enum class LogLevel { kNone = 0, kWarn = 1, kInfo = 2, kTrace = 3 };

LogLevel logLevel();
void logMessage(LogLevel level, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
// Rank shown in this thread's log lines; -1 hides it.
void setLogRank(int rank);

}  // namespace tutti

#define TUTTI_LOG_(lvl, ...)                                                                       \
  do {                                                                                             \
    if (::tutti::logLevel() >= (lvl)) ::tutti::logMessage((lvl), __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
#define TUTTI_WARN(...) TUTTI_LOG_(::tutti::LogLevel::kWarn, __VA_ARGS__)
#define TUTTI_INFO(...) TUTTI_LOG_(::tutti::LogLevel::kInfo, __VA_ARGS__)
#define TUTTI_TRACE(...) TUTTI_LOG_(::tutti::LogLevel::kTrace, __VA_ARGS__)
