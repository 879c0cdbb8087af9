// The UCX ceiling between two hosts: tagged messages of CHUNK bytes in both directions at once
// for T seconds over L lanes, each a UCP context, worker and endpoint driven by a thread of its
// own (L = 1: one thread driving one worker, as Tutti's UCX transport does with one worker; L > 1:
// as its stripe workers do), but without its byte stream, staging or executor: every send leaves
// one hot buffer, every message lands in one of WINDOW receives kept posted, and credits (a count
// of freed receives, sent back every half window) keep the sender from running past the posted
// receives. Next to tcp_bidir_bench it shows what UCX itself carries over the path; next to
// all_reduce_perf over UCX, what Tutti adds. UCX_* variables apply (UCX_TLS, UCX_NET_DEVICES);
// where they leave them unset, the transport's settings for TCP apply too (ucx::applyTcpDefaults:
// no rendezvous, 256 KiB segments). Worker addresses travel over one TCP connection.
//
//   ucx_bidir_bench --listen ADDR:PORT | --connect ADDR:PORT [-t SECONDS] [-c CHUNK_KIB]
//                   [-w WINDOW] [-m MSG_KIB] [-l LANES] [--cold MIB]
//
// --cold: stream mode with cold memory, no steps: each lane sends from, and receives into,
// buffers of MIB each, piece after piece, so that the cost of cold data is seen apart from
// the steps' (a collective's 64 MiB buffers are as cold).
//
// -m: the UCX message floor, as tcp_bidir_bench -m is TCP's: steps of a 2-rank ring AllReduce
// without its arithmetic. Each step both sides send a MSG_KIB message (in CHUNK_KIB pieces) and
// receive one; a step's sends start only once the previous step's message has fully arrived.
// Messages leave and land in buffers of two messages each, alternating halves (as cold as a
// collective's), and every piece is received straight into its place: no staging copy. With
// several lanes each message is cut into one part per lane, and a step starts on any lane only
// once every lane's part of the previous step has arrived (as tcp_bidir_bench -m -s does).
//
// --exchange N: the latency floor of a 2-rank 8 B AllReduce over UCX instead: on the first
// lane, N rounds (after 100 not timed) in which both sides post a receive, send 8 bytes and
// progress the worker until both complete; prints the mean round in microseconds.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "base/deadline.h"
#include "base/error.h"
#include "base/thread_name.h"
#include "bootstrap/socket.h"
#include "transport/ucx_api.h"

namespace {

namespace ucx = tutti::ucx;
using Clock = std::chrono::steady_clock;

constexpr ucx::Tag kData = 1, kCredit = 2;
constexpr uint64_t kAllBits = ~uint64_t{0};

[[noreturn]] void die(const std::string& what) {
  fprintf(stderr, "ucx_bidir_bench: %s\n", what.c_str());
  exit(1);
}

// The control connection to the other side, through the bootstrap's sockets: the listener
// waits 30 s, the connector retries for 10 s.
tutti::Socket connectControl(const std::string& listenSpec, const std::string& connectSpec) {
  tutti::SocketAddress addr;
  const std::string& spec = listenSpec.empty() ? connectSpec : listenSpec;
  if (tutti::parseHostPort(spec, &addr, false) != tuttiSuccess)
    die("expected ADDR:PORT, got " + spec + ": " + tutti::lastError());
  tutti::Socket s;
  tutti::Result r;
  if (!listenSpec.empty()) {
    tutti::Socket l;
    r = tutti::Socket::listen(addr, &l);
    if (r == tuttiSuccess) r = l.accept(tutti::Deadline::afterMs(30000), nullptr, &s);
  } else {
    r = tutti::Socket::connect(addr, tutti::Deadline::afterMs(10000), nullptr, &s);
  }
  if (r != tuttiSuccess) die(std::string("control connection: ") + tutti::lastError());
  return s;
}

// Sends and receives on the control connection, each bounded by 30 s.
void sendAll(tutti::Socket& s, const void* p, size_t n) {
  if (s.sendAll(p, n, tutti::Deadline::afterMs(30000)) != tuttiSuccess)
    die(std::string("control connection: ") + tutti::lastError());
}
void recvAll(tutti::Socket& s, void* p, size_t n) {
  if (s.recvAll(p, n, tutti::Deadline::afterMs(30000)) != tuttiSuccess)
    die(std::string("control connection: ") + tutti::lastError());
}

void check(const ucx::Api* api, ucx::Status s, const char* what) {
  if (s != ucx::kOk) die(std::string(what) + ": " + ucx::statusText(api, s));
}

// Waits (bounded) for a request and frees it; null means it completed at once.
void finish(const ucx::Api* api, ucx::Worker w, void* req) {
  if (!req || ucx::ptrIsError(req)) return;
  const auto end = Clock::now() + std::chrono::seconds(5);
  while (api->requestCheckStatus(req) == ucx::kInProgress && Clock::now() < end)
    api->workerProgress(w);
  api->requestFree(req);
}

struct Slot {
  void* req = nullptr;
  ucx::TagRecvInfo info{};
};

// One lane: a context, a worker and an endpoint of its own, driven by one thread.
struct Lane {
  ucx::Context context = nullptr;
  ucx::Worker worker = nullptr;
  ucx::Ep endpoint = nullptr;
  std::vector<char> peerAddress;
  uint64_t sentBytes = 0, recvBytes = 0;
  double lastByte = 0;               // seconds from the start to the last piece received
  std::atomic<uint64_t> stepsIn{0};  // message mode: steps whose part fully arrived here
};

struct Run {
  const ucx::Api* api;
  size_t chunk, window;
  size_t part, perPart;  // message mode: each lane's part of a message, in pieces; 0: stream
  size_t cold;           // stream mode: bytes of each lane's cold buffers (0: one hot buffer)
  Clock::time_point start, sendEnd, hardEnd;
  std::vector<Lane>* lanes;
};

// The smallest number of steps every lane has fully received: a step may start once the
// previous one arrived on every lane.
uint64_t stepsInEverywhere(const std::vector<Lane>& lanes) {
  uint64_t m = ~uint64_t{0};
  for (const Lane& l : lanes) m = std::min(m, l.stepsIn.load(std::memory_order_acquire));
  return m;
}

// Drives one lane until both sides stopped sending, then cancels its receives.
void driveLane(const Run& run, Lane& lane, int index) {
  tutti::nameThisThread(("bench-l" + std::to_string(index)).c_str());
  const ucx::Api* api = run.api;
  const size_t chunk = run.chunk, window = run.window, msg = run.part, perMsg = run.perPart;
  ucx::Worker worker = lane.worker;
  // Where piece j is sent from and lands: one hot buffer and a ring of slots, or (message mode)
  // its place in the half of the two-part buffers that its step uses.
  const size_t cold = run.cold;
  size_t srcBytes = chunk, dstBytes = chunk * window;
  if (msg) srcBytes = dstBytes = 2 * msg;
  if (cold) srcBytes = dstBytes = cold;
  std::vector<char> src(srcBytes, 'x'), dst(dstBytes);
  auto piece = [&](std::vector<char>& buf, uint64_t j) {
    if (cold) return buf.data() + (j * chunk) % cold;
    if (!msg) return buf.data() + (&buf == &dst ? (j % window) * chunk : 0);
    return buf.data() + ((j / perMsg) % 2) * msg + (j % perMsg) * chunk;
  };
  std::vector<Slot> slots(window);
  ucx::RequestParam recvParam{};
  recvParam.opAttrMask = ucx::kOpAttrFlagNoImmCmpl;  // UCX 1.13 fills no info on immediate
  auto post = [&](uint64_t j) {                      // the receive for piece j, in slot j % window
    const size_t i = j % window;
    slots[i].info = {};
    void* r = api->tagRecvNbx(worker, piece(dst, j), chunk, kData, kAllBits, &recvParam);
    if (ucx::ptrIsError(r)) check(api, ucx::ptrStatus(r), "ucp_tag_recv_nbx");
    slots[i].req = r;
  };
  for (size_t i = 0; i < window; ++i) post(i);
  uint64_t creditIn = 0, creditOut = 0;
  ucx::TagRecvInfo creditInfo{};
  auto postCredit = [&]() {
    void* r = api->tagRecvNbx(worker, &creditIn, sizeof(creditIn), kCredit, kAllBits, &recvParam);
    if (ucx::ptrIsError(r)) check(api, ucx::ptrStatus(r), "ucp_tag_recv_nbx (credit)");
    return r;
  };
  void* creditRecv = postCredit();
  void* creditSend = nullptr;

  const ucx::RequestParam sendParam{};
  std::deque<void*> sends;
  uint64_t sentMsgs = 0, creditLimit = window, consumed = 0, creditSent = 0;
  // Pieces arrive in order: piece `consumed` lands in slot consumed % window.
  bool sending = true;
  for (;;) {
    const auto now = Clock::now();
    if (sending && now >= run.sendEnd) sending = false;
    // Message mode: piece j belongs to step j / perMsg, which waits for the previous step's
    // message to have arrived on every lane.
    while (sending && sentMsgs < creditLimit &&
           (!msg || sentMsgs / perMsg <= stepsInEverywhere(*run.lanes))) {
      void* r = api->tagSendNbx(lane.endpoint, piece(src, sentMsgs), chunk, kData, &sendParam);
      if (ucx::ptrIsError(r)) check(api, ucx::ptrStatus(r), "ucp_tag_send_nbx");
      if (r) sends.push_back(r);
      ++sentMsgs;
      lane.sentBytes += chunk;
    }
    for (int i = 0; i < 64 && api->workerProgress(worker) != 0; ++i) {
    }
    while (!sends.empty() && api->requestCheckStatus(sends.front()) != ucx::kInProgress) {
      check(api, api->requestCheckStatus(sends.front()), "tagged send");
      api->requestFree(sends.front());
      sends.pop_front();
    }
    for (;;) {
      Slot& s = slots[consumed % window];
      const ucx::Status st = api->tagRecvRequestTest(s.req, &s.info);
      if (st == ucx::kInProgress) break;
      check(api, st, "tagged receive");
      api->requestFree(s.req);
      if (s.info.length != chunk) die("a message of the wrong size arrived");
      lane.recvBytes += chunk;
      lane.lastByte = std::chrono::duration<double>(Clock::now() - run.start).count();
      post(consumed + window);
      ++consumed;
      if (msg) lane.stepsIn.store(consumed / perMsg, std::memory_order_release);
    }
    if (creditRecv && api->tagRecvRequestTest(creditRecv, &creditInfo) != ucx::kInProgress) {
      api->requestFree(creditRecv);
      if (creditIn > sentMsgs) die("a credit for more messages than were sent");
      creditLimit = creditIn + window;
      creditRecv = postCredit();
    }
    if (creditSend && api->requestCheckStatus(creditSend) != ucx::kInProgress) {
      api->requestFree(creditSend);
      creditSend = nullptr;
    }
    if (!creditSend && consumed - creditSent >= window / 2) {
      creditOut = consumed;
      void* r = api->tagSendNbx(lane.endpoint, &creditOut, sizeof(creditOut), kCredit, &sendParam);
      if (ucx::ptrIsError(r)) check(api, ucx::ptrStatus(r), "ucp_tag_send_nbx (credit)");
      creditSend = r;
      creditSent = consumed;
    }
    // Done once we stopped sending, our sends completed and the peer's stream went quiet.
    if (!sending && sends.empty() &&
        (now - run.start > std::chrono::duration<double>(lane.lastByte + 0.5) ||
         now >= run.hardEnd))
      break;
  }
  for (Slot& s : slots) {
    api->requestCancel(worker, s.req);
    finish(api, worker, s.req);
  }
  api->requestCancel(worker, creditRecv);
  finish(api, worker, creditRecv);
  finish(api, worker, creditSend);
}

}  // namespace

// Both sides send 8 bytes and wait for the other's, `rounds` times; the mean round in us.
double exchangeUs(const ucx::Api* api, Lane& lane, int rounds) {
  auto round = [&](uint64_t v) {
    uint64_t out = v, in = 0;
    ucx::TagRecvInfo info{};
    ucx::RequestParam rp{};
    rp.opAttrMask = ucx::kOpAttrFlagNoImmCmpl;
    void* rreq = api->tagRecvNbx(lane.worker, &in, sizeof(in), kData, kAllBits, &rp);
    ucx::RequestParam sp{};
    void* sreq = api->tagSendNbx(lane.endpoint, &out, sizeof(out), kData, &sp);
    if (ucx::ptrIsError(rreq) || ucx::ptrIsError(sreq)) die("exchange: posting failed");
    const auto end = Clock::now() + std::chrono::seconds(30);
    while (rreq || sreq) {
      if (Clock::now() > end) die("exchange: no answer within 30 s");
      api->workerProgress(lane.worker);
      if (rreq && api->tagRecvRequestTest(rreq, &info) != ucx::kInProgress) {
        api->requestFree(rreq);
        rreq = nullptr;
      }
      if (sreq && api->requestCheckStatus(sreq) != ucx::kInProgress) {
        api->requestFree(sreq);
        sreq = nullptr;
      }
    }
  };
  for (int r = 0; r < 100; ++r) round(static_cast<uint64_t>(r));
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) round(static_cast<uint64_t>(r));
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / rounds;
}

int main(int argc, char** argv) {
  std::string listenSpec, connectSpec;
  int exchange = 0;
  double seconds = 3;
  size_t chunk = 32 << 10;
  size_t window = 128;
  size_t msgKib = 0, coldMib = 0;
  int laneCount = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--listen")
      listenSpec = next();
    else if (a == "--connect")
      connectSpec = next();
    else if (a == "-t")
      seconds = atof(next());
    else if (a == "-c")
      chunk = static_cast<size_t>(atol(next())) << 10;
    else if (a == "-w")
      window = static_cast<size_t>(atol(next()));
    else if (a == "-m")
      msgKib = static_cast<size_t>(atol(next()));
    else if (a == "-l")
      laneCount = atoi(next());
    else if (a == "--cold")
      coldMib = static_cast<size_t>(atol(next()));
    else if (a == "--exchange")
      exchange = atoi(next());
    else
      die("usage: ucx_bidir_bench --listen|--connect ADDR:PORT [-t SEC] [-c CHUNK_KIB] [-w N] [-m "
          "MSG_KIB] [-l LANES] [--cold MIB] [--exchange N]");
  }
  if (listenSpec.empty() == connectSpec.empty() || seconds <= 0 || chunk == 0 || window < 2 ||
      laneCount < 1 || laneCount > 64)
    die("give exactly one of --listen/--connect, -t > 0, -c >= 1, -w >= 2, 1 <= -l <= 64");
  // Message mode: each lane's part of a message, in whole pieces.
  const size_t part = msgKib * 1024 / laneCount / chunk * chunk, perPart = part / chunk;
  if (msgKib && part == 0) die("-m needs at least one piece (-c) per lane (-l) in each message");
  // Cold buffers hold whole pieces, and more than the window's posted receives.
  const size_t cold = (coldMib << 20) / chunk * chunk;
  if (coldMib && (msgKib || cold < chunk * window))
    die("--cold is a stream mode (no -m) and needs at least CHUNK x WINDOW bytes");

  std::string why;
  const ucx::Api* api = ucx::load(&why);
  if (!api) die("UCX does not load: " + why);
  std::vector<Lane> lanes(laneCount);
  std::string tuned;
  for (Lane& lane : lanes) {  // a context per lane, as Tutti's stripe workers have
    ucx::Config* config = nullptr;
    check(api, api->configRead(nullptr, nullptr, &config), "ucp_config_read");
    tuned = ucx::applyTcpDefaults(api, config);  // as the transport over TCP
    ucx::Params params{};
    params.fieldMask = ucx::kParamFieldFeatures;
    params.features = ucx::kFeatureTag;
    check(api, api->initVersion(1, 9, &params, config, &lane.context), "ucp_init");
    api->configRelease(config);
    ucx::WorkerParams wp{};
    wp.fieldMask = ucx::kWorkerParamFieldThreadMode;
    wp.threadMode = ucx::kThreadModeSerialized;
    check(api, api->workerCreate(lane.context, &wp, &lane.worker), "ucp_worker_create");
  }

  // Exchange worker addresses, lane by lane: a length, then the bytes.
  tutti::Socket ctl = connectControl(listenSpec, connectSpec);
  for (Lane& lane : lanes) {
    ucx::Address* mine = nullptr;
    size_t mineBytes = 0;
    check(api, api->workerGetAddress(lane.worker, &mine, &mineBytes), "ucp_worker_get_address");
    const uint64_t len = mineBytes;
    sendAll(ctl, &len, sizeof(len));
    sendAll(ctl, mine, mineBytes);
    api->workerReleaseAddress(lane.worker, mine);
    uint64_t theirLen = 0;
    recvAll(ctl, &theirLen, sizeof(theirLen));
    if (theirLen == 0 || theirLen > (1u << 20)) die("bad worker address length from the peer");
    lane.peerAddress.resize(theirLen);
    recvAll(ctl, lane.peerAddress.data(), theirLen);
    ucx::EpParams ep{};
    ep.fieldMask = ucx::kEpParamFieldRemoteAddress;
    ep.address = reinterpret_cast<const ucx::Address*>(lane.peerAddress.data());
    check(api, api->epCreate(lane.worker, &ep, &lane.endpoint), "ucp_ep_create");
  }

  // Both sides start together: a byte each way on the control connection.
  char go = 1;
  sendAll(ctl, &go, 1);
  recvAll(ctl, &go, 1);
  if (exchange > 0) {
    const double us = exchangeUs(api, lanes[0], exchange);
    sendAll(ctl, &go, 1);  // done: the peer's last receive is complete before teardown
    recvAll(ctl, &go, 1);
    ctl.close();
    for (Lane& lane : lanes) {
      ucx::RequestParam cp{};
      finish(api, lane.worker, api->epCloseNbx(lane.endpoint, &cp));
      api->workerDestroy(lane.worker);
      api->cleanup(lane.context);
    }
    printf("# ucx_bidir_bench %s, UCX %u.%u.%u, 8-byte exchanges%s%s\nexchange_us %.2f\n",
           listenSpec.empty() ? "connect" : "listen", api->major, api->minor, api->release,
           tuned.empty() ? "" : ", ", tuned.c_str(), us);
    return 0;
  }
  Run run{api, chunk, window, part, perPart, cold, Clock::now(), {}, {}, &lanes};
  run.sendEnd = run.start +
                std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  // Send until T; receive until the peer's T (plus a bound): the peer sends as long as we do.
  run.hardEnd = run.sendEnd + std::chrono::seconds(10);
  std::vector<std::thread> threads;
  for (int i = 0; i < laneCount; ++i)
    threads.emplace_back([&run, &lanes, i] { driveLane(run, lanes[i], i); });
  for (std::thread& t : threads) t.join();

  // Tell the peer we are done, wait for its word, then tear down.
  sendAll(ctl, &go, 1);
  recvAll(ctl, &go, 1);
  ctl.close();
  uint64_t sentBytes = 0, recvBytes = 0;
  double lastByte = 0;
  for (Lane& lane : lanes) {
    ucx::RequestParam cp{};
    finish(api, lane.worker, api->epCloseNbx(lane.endpoint, &cp));
    api->workerDestroy(lane.worker);
    api->cleanup(lane.context);
    sentBytes += lane.sentBytes;
    recvBytes += lane.recvBytes;
    lastByte = std::max(lastByte, lane.lastByte);
  }

  const double recvSec = lastByte > seconds ? lastByte : seconds;
  const double tx = static_cast<double>(sentBytes) / seconds / 1e9;
  const double rx = static_cast<double>(recvBytes) / recvSec / 1e9;
  std::string shape;  // what the run moves besides plain hot pieces
  if (msgKib) shape = ", steps of " + std::to_string(part * laneCount >> 10) + " KiB";
  if (coldMib) shape = ", cold buffers of " + std::to_string(coldMib) + " MiB";
  printf(
      "# ucx_bidir_bench %s, UCX %u.%u.%u, %.1f s, %d lane(s), %zu KiB messages, %zu posted "
      "receives%s%s%s\n",
      listenSpec.empty() ? "connect" : "listen", api->major, api->minor, api->release, seconds,
      laneCount, chunk >> 10, window, shape.c_str(), tuned.empty() ? "" : ", ", tuned.c_str());
  if (laneCount > 1)
    for (int i = 0; i < laneCount; ++i)
      printf("lane %d send_GBps %.3f recv_GBps %.3f\n", i,
             static_cast<double>(lanes[i].sentBytes) / seconds / 1e9,
             static_cast<double>(lanes[i].recvBytes) / recvSec / 1e9);
  printf("send_GBps %.3f recv_GBps %.3f total_GBps %.3f per_direction_GBps %.3f\n", tx, rx, tx + rx,
         tx < rx ? tx : rx);
  return 0;
}
