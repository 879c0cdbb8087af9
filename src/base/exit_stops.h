// Stops the library's threads that call into another library on their own (UCX's driver and
// idle threads) when a process exits without destroying its communicators. exit() runs the
// atexit handlers, newest first, and only then the destructors of shared libraries, UCX's
// among them: a thread still in ucp_worker_progress then would run on torn-down state. The
// handler is registered (once per process) when the first stop is added, so it runs before
// every handler registered earlier, and at dlclose of libtutti.so too.
#pragma once

#include <cstdint>
#include <functional>

namespace tutti {

// Runs `stop` at exit unless removeExitStop(token) ran first. `stop` must end in bounded time
// (it joins threads that nap or poll for milliseconds) and may run on any thread. Returns the
// token. Only the process that added a stop runs it: a fork() child has none of its parent's.
uint64_t addExitStop(std::function<void()> stop);

// Withdraws a stop (0 is ignored). Waits while the exit handler is running stops, so that an
// owner destroyed concurrently never joins a thread the handler is joining.
void removeExitStop(uint64_t token);

}  // namespace tutti
