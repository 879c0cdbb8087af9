// Compressed collectives on device buffers: encode, exchange and decode steps enqueued in
// stream order (CUDA builds: compressed_device_cuda.cc). A build without CUDA never sees a
// device buffer, so this is only reached by mistake.
#ifndef TUTTI_HAVE_CUDA
#include "compression/compressed_call.h"

namespace tutti {

Result runCompressedDevice(tuttiComm*, const CompressedCall&) {
  return setError(tuttiNotSupported, "device buffers need a CUDA build of Tutti");
}

}  // namespace tutti
#endif
