// NCCL_* environment variables mapped onto their TUTTI_* equivalents, once, before Tutti
// reads its environment (docs/nccl-compat.md has the table).
#pragma once

namespace tutti::shim {

// Idempotent and thread-safe; every entry point calls it first. A TUTTI_* variable that is
// already set always wins over its NCCL_* counterpart.
void applyNcclEnvironment();

}  // namespace tutti::shim
