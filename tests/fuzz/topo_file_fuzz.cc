// Topology files on any text (node files of a cluster resolve against the repository's
// topologies/). Whatever loads must write back to a file that loads to the same text.
#include "fuzz/fuzz_target.h"
#include "topology/json.h"
#include "topology/topo_file.h"

using namespace tutti;

TUTTI_FUZZ_TARGET(topo_file) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Clusters replicate their node file: cap the count so one input stays fast (a large
  // cluster is slow by design, not a bug; tests/unit/topo_file_test.cc loads 128 nodes).
  JsonValue root;
  if (parseJson(text, "fuzz", &root) == tuttiSuccess && root.kind == JsonValue::Kind::kObject) {
    if (const JsonValue* c = root.get("cluster")) {
      auto tooBig = [](const JsonValue& g) {
        const JsonValue* n = g.get("nodes");
        return n && n->kind == JsonValue::Kind::kNumber && n->number > 16;
      };
      if (c->kind == JsonValue::Kind::kObject && tooBig(*c)) return 0;
      if (c->kind == JsonValue::Kind::kArray) {
        if (c->items.size() > 4) return 0;
        for (const JsonValue& g : c->items)
          if (g.kind == JsonValue::Kind::kObject && tooBig(g)) return 0;
      }
    }
  }
  Topology t;
  if (parseTopologyText(text, "fuzz", TUTTI_SOURCE_DIR "/topologies", &t) != tuttiSuccess) return 0;
  const std::string out = topologyToJson(t);
  Topology back;
  FUZZ_CHECK(
      parseTopologyText(out, "written", TUTTI_SOURCE_DIR "/topologies", &back) == tuttiSuccess,
      "written topology does not load: %s\n%s", lastError().c_str(), out.c_str());
  FUZZ_CHECK(topologyToJson(back) == out, "round trip changed the file:\n%s", out.c_str());
  return 0;
}
