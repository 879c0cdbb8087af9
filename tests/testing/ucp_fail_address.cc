// A stand-in for libucp.so.0 in tests (load it with TUTTI_UCX_LIB): ucp_worker_get_address
// fails; every other ucp_* symbol is the real library's, which is this one's dependency and
// therefore searched by dlsym on this library's handle.
#include <ucp/api/ucp.h>

extern "C" ucs_status_t ucp_worker_get_address(ucp_worker_h, ucp_address_t**, size_t*) {
  return UCS_ERR_NO_MEMORY;
}
