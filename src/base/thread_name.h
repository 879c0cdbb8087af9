// Names for the library's own threads, so `top -H`, `ps -L`, gdb and /proc/PID/task/*/comm tell
// a rank's stream senders, receivers, combine workers and proxy apart (profiling a rank by its
// threads' CPU time needs it).
#pragma once

namespace tutti {

// Names the calling thread "tutti-<what>" (the kernel keeps 15 characters); errors are ignored.
void nameThisThread(const char* what);

}  // namespace tutti
