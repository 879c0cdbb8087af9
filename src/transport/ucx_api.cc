// Run-time loading of libucp: dlopen once per process, dlsym of the functions in ucx::Api.
#include "transport/ucx_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <map>
#include <memory>
#include <mutex>

#include "base/env.h"

namespace tutti {
namespace ucx {
namespace {

struct Loaded {
  Api api{};
  bool ok = false;
  std::string why;
};

template <typename F>
bool resolve(void* lib, const char* name, F* fn, std::string* why) {
  *fn = reinterpret_cast<F>(dlsym(lib, name));
  if (*fn) return true;
  const char* e = dlerror();
  *why = std::string("symbol ") + name + " missing: " + (e ? e : "not found");
  return false;
}

void loadOnce(const std::string& name, Loaded* l) {
  void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    l->why = "dlopen(" + name + ") failed: " + (e ? e : "unknown error");
    return;
  }
  Api& a = l->api;
  std::string& why = l->why;
  // ucs_status_string lives in libucs, a dependency of libucp: dlsym on the handle finds it.
  bool ok = resolve(lib, "ucp_config_read", &a.configRead, &why) &&
            resolve(lib, "ucp_config_release", &a.configRelease, &why) &&
            resolve(lib, "ucp_config_modify", &a.configModify, &why) &&
            resolve(lib, "ucp_get_version", &a.getVersion, &why) &&
            resolve(lib, "ucp_init_version", &a.initVersion, &why) &&
            resolve(lib, "ucp_cleanup", &a.cleanup, &why) &&
            resolve(lib, "ucp_worker_create", &a.workerCreate, &why) &&
            resolve(lib, "ucp_worker_destroy", &a.workerDestroy, &why) &&
            resolve(lib, "ucp_worker_get_address", &a.workerGetAddress, &why) &&
            resolve(lib, "ucp_worker_release_address", &a.workerReleaseAddress, &why) &&
            resolve(lib, "ucp_worker_progress", &a.workerProgress, &why) &&
            resolve(lib, "ucp_worker_get_efd", &a.workerGetEfd, &why) &&
            resolve(lib, "ucp_worker_arm", &a.workerArm, &why) &&
            resolve(lib, "ucp_worker_signal", &a.workerSignal, &why) &&
            resolve(lib, "ucp_ep_create", &a.epCreate, &why) &&
            resolve(lib, "ucp_ep_close_nbx", &a.epCloseNbx, &why) &&
            resolve(lib, "ucp_tag_send_nbx", &a.tagSendNbx, &why) &&
            resolve(lib, "ucp_tag_recv_nbx", &a.tagRecvNbx, &why) &&
            resolve(lib, "ucp_request_check_status", &a.requestCheckStatus, &why) &&
            resolve(lib, "ucp_tag_recv_request_test", &a.tagRecvRequestTest, &why) &&
            resolve(lib, "ucp_request_cancel", &a.requestCancel, &why) &&
            resolve(lib, "ucp_request_free", &a.requestFree, &why) &&
            resolve(lib, "ucs_status_string", &a.statusString, &why);
  if (!ok) {
    why = name + ": " + why;
    dlclose(lib);
    return;
  }
  a.epPrintInfo = reinterpret_cast<void (*)(Ep, FILE*)>(dlsym(lib, "ucp_ep_print_info"));
  a.contextQuery =
      reinterpret_cast<Status (*)(Context, ContextAttr*)>(dlsym(lib, "ucp_context_query"));
  a.getVersion(&a.major, &a.minor, &a.release);
  // The ABI declared in ucx_api.h is that of 1.x from 1.9 on (the *_nbx calls came in 1.9).
  if (a.major != 1 || a.minor < 9) {
    why = name + " is UCX " + std::to_string(a.major) + "." + std::to_string(a.minor) +
          "; Tutti needs UCX 1.9 or later in the 1.x series";
    dlclose(lib);
    return;
  }
  // The library stays loaded for the life of the process: UCX keeps global state.
  l->ok = true;
}

}  // namespace

const Api* load(std::string* why) {
  // One attempt per library name: TUTTI_UCX_LIB may differ between communicators of a test.
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Loaded>> byName;
  const std::string name = envString("TUTTI_UCX_LIB", "libucp.so.0");
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<Loaded>& l = byName[name];
  if (!l) {
    l = std::make_unique<Loaded>();
    loadOnce(name, l.get());
  }
  if (why) *why = l->why;
  return l->ok ? &l->api : nullptr;
}

std::string epLanes(const Api* api, Ep ep) {
  if (!api->epPrintInfo || !ep) return "";
  char* text = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&text, &len);
  if (!f) return "";
  api->epPrintInfo(ep, f);
  fclose(f);
  // Lines like "#   lane[0]:  0:tcp/lo.0 md[0] -> ...": keep "tcp/lo" once per lane kind.
  std::string out;
  const std::string all(text ? text : "", len);
  free(text);
  for (size_t pos = all.find("lane["); pos != std::string::npos; pos = all.find("lane[", pos + 5)) {
    size_t colon = all.find(':', all.find("]:", pos) + 2);
    if (colon == std::string::npos) break;
    size_t end = all.find_first_of(" \n", colon + 1);
    std::string lane = all.substr(colon + 1, end == std::string::npos ? end : end - colon - 1);
    const size_t dot = lane.rfind('.');
    if (dot != std::string::npos && lane.find('/') != std::string::npos && dot > lane.find('/'))
      lane.erase(dot);  // "tcp/lo.0": the trailing system device index
    if (!lane.empty() && (", " + out + ",").find(", " + lane + ",") == std::string::npos)
      out += (out.empty() ? "" : ", ") + lane;
  }
  return out;
}

std::string applyTcpDefaults(const Api* api, Config* config) {
  // Measured between namespace hosts on the 16-core GPU box (perf/NOTES.md, 2026-12-03):
  // rendezvous 1.3-1.4x slower at 16-64 MiB; 256 KiB segments +10-18% for a 64 MiB AllReduce.
  // ucp_config_modify takes a transport's setting without its prefix (UCX warns "invalid
  // configuration" for TCP_RX_SEG_SIZE); the variable a user sets has it.
  struct Setting {
    const char *key, *env, *value;
    bool segment;  // UCX refuses a receive segment below the send segment: both or neither
  };
  static const Setting kSettings[] = {{"RNDV_THRESH", "UCX_RNDV_THRESH", "inf", false},
                                      {"RX_SEG_SIZE", "UCX_TCP_RX_SEG_SIZE", "256k", true},
                                      {"TX_SEG_SIZE", "UCX_TCP_TX_SEG_SIZE", "256k", true}};
  const bool segmentSet = getenv("UCX_TCP_RX_SEG_SIZE") || getenv("UCX_TCP_TX_SEG_SIZE");
  std::string applied;
  for (const Setting& s : kSettings) {
    if (getenv(s.env) || (s.segment && segmentSet)) continue;
    // A UCX that does not know the name refuses it: its default stays.
    if (api->configModify(config, s.key, s.value) != kOk) continue;
    applied += (applied.empty() ? "" : ", ") + std::string(s.env) + "=" + s.value;
  }
  return applied;
}

std::string statusText(const Api* api, Status s) {
  return std::string(api ? api->statusString(s) : "UCX error") + " (" + std::to_string(s) + ")";
}

}  // namespace ucx
}  // namespace tutti
