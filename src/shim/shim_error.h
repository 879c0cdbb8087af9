// Errors at the NCCL boundary: Tutti result codes mapped to ncclResult_t, and the sentence
// behind the last failure that ncclGetLastError returns.
#pragma once

#include <nccl.h>

#include <exception>
#include <new>
#include <string>

#include "tutti/tutti.h"

namespace tutti::shim {

// Tutti's result code as the NCCL code a caller of the 2.28 API expects.
ncclResult_t toNcclResult(tuttiResult_t r);

// Records a shim-side failure for this thread (ncclGetLastError) and logs it as a warning.
// Returns `code`.
ncclResult_t fail(ncclResult_t code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Records the failure of a tutti* call made on behalf of `fn`: the sentence is Tutti's, with
// `fn` in front, and the code is mapped. Returns the NCCL code (success passes through).
ncclResult_t failFromTutti(tuttiResult_t r, const char* fn);

// The sentence of this thread's last failure; empty when there was none.
const std::string& threadLastError();

// Runs `body` so that no exception can cross the C ABI.
template <typename Body>
ncclResult_t guarded(const char* fn, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(ncclSystemError, "%s: out of host memory", fn);
  } catch (const std::exception& e) {
    return fail(ncclInternalError, "%s: unexpected exception: %s", fn, e.what());
  } catch (...) {
    return fail(ncclInternalError, "%s: unexpected exception", fn);
  }
}

}  // namespace tutti::shim

// Defines pncclX as an alias of ncclX (same translation unit as ncclX's definition).
#define NCCL_SHIM_PROFILING_ALIAS(name)                                      \
  extern "C" __attribute__((visibility("default"))) __typeof__(name) p##name \
      __attribute__((alias(#name)))

// Marks an exported entry point (the build hides everything else).
#define NCCL_SHIM_API extern "C" __attribute__((visibility("default")))
