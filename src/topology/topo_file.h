// Topology files (JSON, described in docs/topology.md): one host as "nodes" and "links",
// several as "hosts", or a cluster as "N nodes of <node file>". Loading is strict: unknown
// fields, wrong types and dangling link ends are errors naming the file, line and field.
#pragma once

#include <string>

#include "topology/topology.h"

namespace tutti {

constexpr int kTopologyFormatVersion = 1;

// Loads and finalizes a topology file; node files of a cluster are found relative to it.
Result loadTopologyFile(const std::string& path, Topology* out);
// Same from text; `source` names it in errors, `baseDir` resolves node files.
Result parseTopologyText(const std::string& text, const std::string& source,
                         const std::string& baseDir, Topology* out);

// The file text of `topo` (one host at top level, several under "hosts").
std::string topologyToJson(const Topology& topo);
// Writes the file atomically (temporary file, then rename).
Result saveTopologyFile(const Topology& topo, const std::string& path);

}  // namespace tutti
