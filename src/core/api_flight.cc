// C API: the flight recorder on request (core/flight_recorder.h).
#include "core/api_guard.h"
#include "core/flight_recorder.h"

using namespace tutti;

extern "C" tuttiResult_t tuttiCommDumpFlightRecord(tuttiComm_t comm, const char* path) {
  return apiCall("tuttiCommDumpFlightRecord", comm, [&]() -> Result {
    TUTTI_TRY(checkComm(comm));
    ActiveCall active(comm);
    if (!comm->flight)
      return setError(tuttiInvalidUsage, "the flight recorder is off (TUTTI_FLIGHT_RECORDER=0)");
    return comm->flight->dump(path ? path : "", "requested by tuttiCommDumpFlightRecord");
  });
}
