// Flight recorder ring, JSON dump, and the signal watcher.
#include "core/flight_recorder.h"

#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <chrono>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif
#include <cstdio>
#include <mutex>
#include <thread>

#include "base/env.h"
#include "base/logging.h"
#include "base/thread_name.h"
#include "core/call_signature.h"
#include "core/comm.h"
#include "kernels/dtype_dispatch.h"

namespace tutti {

// Every field is a relaxed atomic: a dump may read while the owner writes (a hung call, a
// signal), and a torn entry in a diagnostic beats a lock on the hot path. One cache line per
// entry; times are raw ticks (ticks()), converted to wall-clock microseconds when dumped.
struct alignas(64) FlightRecorder::Entry {
  std::atomic<uint64_t> id{0};
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> stream{0};
  std::atomic<uint64_t> enqueued{0}, started{0}, finished{0};
  std::atomic<uint32_t> seq{0};
  std::atomic<int32_t> rootOrPeer{-1};  // the root of Broadcast/Reduce, the peer of Send/Recv
  std::atomic<uint8_t> collective{0}, dtype{0}, op{0}, state{0}, executor{0}, algorithm{0};
  std::atomic<bool> onDevice{false};
};
static_assert(sizeof(FlightRecorder::Entry) == 64, "one cache line per entry");

namespace {

// The time stamp counter where it is invariant (x86: a few ns, no clock read on the hot path),
// else the monotonic clock in ns.
inline uint64_t ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
#endif
}

int64_t nowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr auto kRelaxed = std::memory_order_relaxed;

std::mutex gLiveMutex;
std::vector<FlightRecorder*> gLive;  // recorders the signal watcher dumps

const char* stateName(uint8_t s) {
  static const char* names[] = {"queued", "running", "done", "failed"};
  return s < 4 ? names[s] : "unknown";
}

// JSON string escaping for the reason sentence.
std::string jsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<FlightRecorder> FlightRecorder::create(tuttiComm* comm, uint64_t commHash) {
  const int64_t n = envInt("TUTTI_FLIGHT_RECORDER", 256);
  if (n <= 0) return nullptr;
  std::unique_ptr<FlightRecorder> r(
      new FlightRecorder(comm, commHash, static_cast<size_t>(std::min<int64_t>(n, 1 << 20))));
  std::lock_guard<std::mutex> lock(gLiveMutex);
  gLive.push_back(r.get());
  return r;
}

FlightRecorder::FlightRecorder(tuttiComm* comm, uint64_t commHash, size_t size)
    : comm_(comm), commHash_(commHash), ring_(size), baseTicks_(ticks()), baseUs_(nowUs()) {}

FlightRecorder::~FlightRecorder() {
  std::lock_guard<std::mutex> lock(gLiveMutex);
  for (size_t i = 0; i < gLive.size(); ++i)
    if (gLive[i] == this) {
      gLive.erase(gLive.begin() + i);
      break;
    }
}

FlightRecorder::Entry* FlightRecorder::slot(uint64_t id) {
  if (id == 0) return nullptr;
  Entry& e = ring_[(id - 1) % ring_.size()];
  return e.id.load(kRelaxed) == id ? &e : nullptr;
}

uint64_t FlightRecorder::enqueue(const CollCall& call, bool startsNow) {
  const uint64_t id = next_.fetch_add(1, kRelaxed) + 1;
  Entry& e = ring_[(id - 1) % ring_.size()];
  const CallSignature s = callSignatureOf(call);
  e.id.store(0, kRelaxed);  // a reader skips the slot while it changes hands
  e.state.store(kQueued, kRelaxed);
  e.collective.store(static_cast<uint8_t>(call.collective), kRelaxed);
  e.dtype.store(static_cast<uint8_t>(call.dtype), kRelaxed);
  e.op.store(s.op, kRelaxed);
  e.count.store(call.count, kRelaxed);
  e.seq.store(call.seq, kRelaxed);
  const bool p2p = call.collective == Collective::kSend || call.collective == Collective::kRecv;
  e.rootOrPeer.store(p2p ? call.peer : s.root, kRelaxed);
  e.stream.store(reinterpret_cast<uintptr_t>(call.stream), kRelaxed);
  e.onDevice.store(call.onDevice, kRelaxed);
  e.executor.store(0xff, kRelaxed);
  e.algorithm.store(0xff, kRelaxed);
  const uint64_t now = ticks();
  e.enqueued.store(now, kRelaxed);
  e.started.store(startsNow ? now : 0, kRelaxed);
  e.finished.store(0, kRelaxed);
  e.id.store(id, std::memory_order_release);
  return id;
}

void FlightRecorder::started(uint64_t id, ExecutorKind executor, Algorithm algorithm) {
  Entry* e = slot(id);
  if (!e) return;
  e->executor.store(static_cast<uint8_t>(executor), kRelaxed);
  e->algorithm.store(static_cast<uint8_t>(algorithm), kRelaxed);
  if (e->started.load(kRelaxed) == 0) e->started.store(ticks(), kRelaxed);
  e->state.store(kRunning, kRelaxed);
}

void FlightRecorder::finished(uint64_t id, bool ok) {
  Entry* e = slot(id);
  // The executor marks a host call's end; the API layer's second mark costs one load.
  if (!e || e->state.load(kRelaxed) >= kDone) return;
  if (e->started.load(kRelaxed) == 0) e->started.store(e->enqueued.load(kRelaxed), kRelaxed);
  e->finished.store(ticks(), kRelaxed);
  e->state.store(ok ? kDone : kFailed, kRelaxed);
}

std::string FlightRecorder::defaultPath() const {
  const std::string dir = envString("TUTTI_FLIGHT_DIR", "/tmp");
  char name[96];
  snprintf(name, sizeof(name), "/tutti-flight-%016llx-r%d.json", (unsigned long long)commHash_,
           comm_->rank());
  return dir + name;
}

Result FlightRecorder::dump(const std::string& pathIn, const std::string& reason) {
  const std::string path = pathIn.empty() ? defaultPath() : pathIn;
  const std::string tmp = path + ".tmp";
  FILE* f = fopen(tmp.c_str(), "w");
  if (!f)
    return setError(tuttiSystemError, "flight recorder: cannot write %s: %s", tmp.c_str(),
                    strerror(errno));
  const uint64_t last = next_.load(std::memory_order_acquire);
  fprintf(f,
          "{\n  \"version\": 1,\n  \"comm\": \"%016llx\",\n  \"name\": \"%s\",\n  \"rank\": %d,\n"
          "  \"nranks\": %d,\n  \"pid\": %d,\n  \"dumpedUs\": %lld,\n  \"reason\": \"%s\",\n"
          "  \"recorded\": %llu,\n  \"calls\": [",
          (unsigned long long)commHash_, jsonEscape(comm_->config.name).c_str(), comm_->rank(),
          comm_->nranks(), (int)getpid(), (long long)nowUs(), jsonEscape(reason).c_str(),
          (unsigned long long)last);
  const uint64_t first = last > ring_.size() ? last - ring_.size() + 1 : 1;
  // Ticks to wall-clock microseconds: the line through (creation, now).
  const uint64_t nowTicks = ticks();
  const int64_t nowWall = nowUs();
  const double usPerTick = nowTicks > baseTicks_ ? static_cast<double>(nowWall - baseUs_) /
                                                       static_cast<double>(nowTicks - baseTicks_)
                                                 : 0.0;
  auto wallUs = [&](uint64_t t) -> long long {
    if (t == 0) return 0;
    return static_cast<long long>(
        baseUs_ + static_cast<double>(static_cast<int64_t>(t - baseTicks_)) * usPerTick);
  };
  const char* sep = "\n";
  for (uint64_t id = first; id <= last; ++id) {
    Entry* e = slot(id);
    if (!e) continue;
    const auto coll = static_cast<Collective>(e->collective.load(kRelaxed));
    const uint8_t op = e->op.load(kRelaxed);
    const uint8_t alg = e->algorithm.load(kRelaxed);
    const uint8_t ex = e->executor.load(kRelaxed);
    const bool p2p = coll == Collective::kSend || coll == Collective::kRecv;
    fprintf(f,
            "%s    {\"id\": %llu, \"seq\": %s, \"collective\": \"%s\", \"dtype\": \"%s\", "
            "\"op\": \"%s\", \"count\": %llu, \"root\": %d, \"peer\": %d, \"stream\": \"0x%llx\", "
            "\"device\": %s, \"executor\": \"%s\", \"algorithm\": \"%s\", \"state\": \"%s\", "
            "\"enqueuedUs\": %lld, \"startedUs\": %lld, \"finishedUs\": %lld}",
            sep, (unsigned long long)id,
            p2p ? "null" : std::to_string(e->seq.load(kRelaxed)).c_str(), collectiveName(coll),
            dtypeName(static_cast<tuttiDataType_t>(e->dtype.load(kRelaxed))),
            op == CallSignature::kNoOp        ? "none"
            : op == CallSignature::kPreMulSum ? "premulsum"
                                              : opName(static_cast<tuttiRedOp_t>(op)),
            (unsigned long long)e->count.load(kRelaxed), p2p ? -1 : e->rootOrPeer.load(kRelaxed),
            p2p ? e->rootOrPeer.load(kRelaxed) : -1, (unsigned long long)e->stream.load(kRelaxed),
            e->onDevice.load(kRelaxed) ? "true" : "false",
            ex == 0xff ? "none" : executorKindName(static_cast<ExecutorKind>(ex)),
            alg == 0xff ? "none" : algorithmName(static_cast<Algorithm>(alg)),
            stateName(e->state.load(kRelaxed)), wallUs(e->enqueued.load(kRelaxed)),
            wallUs(e->started.load(kRelaxed)), wallUs(e->finished.load(kRelaxed)));
    sep = ",\n";
  }
  fprintf(f, "\n  ]\n}\n");
  const bool ok = fflush(f) == 0;
  fclose(f);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0)
    return setError(tuttiSystemError, "flight recorder: cannot write %s", path.c_str());
  TUTTI_WARN("rank %d: flight record written to %s (%s)", comm_->rank(), path.c_str(),
             reason.c_str());
  return tuttiSuccess;
}

namespace {

sem_t gSignalSem;

void onFlightSignal(int) {
  const int saved = errno;
  sem_post(&gSignalSem);  // async-signal-safe; the watcher does the work
  errno = saved;
}

int parseSignal(const std::string& s) {
  if (s.empty()) return 0;
  if (s == "SIGUSR1" || s == "USR1") return SIGUSR1;
  if (s == "SIGUSR2" || s == "USR2") return SIGUSR2;
  if (s == "SIGINT" || s == "INT") return SIGINT;
  if (s == "SIGTERM" || s == "TERM") return SIGTERM;
  char* end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  return (end && *end == '\0' && v > 0 && v < 65) ? static_cast<int>(v) : -1;
}

}  // namespace

void flightSignalSetup() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string spec = envString("TUTTI_FLIGHT_SIGNAL", "");
    const int sig = parseSignal(spec);
    if (sig == 0) return;
    if (sig < 0) {
      TUTTI_WARN("TUTTI_FLIGHT_SIGNAL=%s is not a signal (SIGUSR1, SIGUSR2 or a number)",
                 spec.c_str());
      return;
    }
    sem_init(&gSignalSem, 0, 0);
    std::thread([] {
      nameThisThread("flight-dump");
      for (;;) {
        if (sem_wait(&gSignalSem) != 0) continue;  // EINTR
        std::lock_guard<std::mutex> lock(gLiveMutex);
        for (FlightRecorder* r : gLive) r->dump("", "signal");
      }
    }).detach();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = onFlightSignal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  });
}

}  // namespace tutti
