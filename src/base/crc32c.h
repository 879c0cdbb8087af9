// CRC32C (Castagnoli), for TUTTI_CHECKSUM=1 message trailers: the SSE4.2 instruction when the
// CPU has it (checked at run time), else software slice-by-8.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tutti {

// Continues `crc` (0 to start) over `bytes` of `data`; the result is the standard CRC32C.
uint32_t crc32c(uint32_t crc, const void* data, size_t bytes);
// The software implementation alone (tests compare both).
uint32_t crc32cSoftware(uint32_t crc, const void* data, size_t bytes);
bool crc32cHardware();

}  // namespace tutti
