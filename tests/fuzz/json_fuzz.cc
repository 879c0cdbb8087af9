// The strict JSON reader on any text. Whatever it accepts must survive a round trip: written
// back with the library's own quoting and number formatting, it reads as the same value.
#include <cmath>

#include "fuzz/fuzz_target.h"
#include "topology/json.h"

using namespace tutti;

namespace {

std::string write(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return v.boolean ? "true" : "false";
    case JsonValue::Kind::kNumber: return jsonNumber(v.number);
    case JsonValue::Kind::kString: return jsonQuote(v.text);
    case JsonValue::Kind::kArray: {
      std::string s = "[";
      for (size_t i = 0; i < v.items.size(); ++i) s += (i ? "," : "") + write(v.items[i]);
      return s + "]";
    }
    case JsonValue::Kind::kObject: {
      std::string s = "{";
      for (size_t i = 0; i < v.members.size(); ++i)
        s += (i ? "," : "") + jsonQuote(v.members[i].first) + ":" + write(v.members[i].second);
      return s + "}";
    }
  }
  return "";
}

bool same(const JsonValue& a, const JsonValue& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case JsonValue::Kind::kNull: return true;
    case JsonValue::Kind::kBool: return a.boolean == b.boolean;
    case JsonValue::Kind::kNumber: return a.number == b.number;
    case JsonValue::Kind::kString: return a.text == b.text;
    case JsonValue::Kind::kArray:
      if (a.items.size() != b.items.size()) return false;
      for (size_t i = 0; i < a.items.size(); ++i)
        if (!same(a.items[i], b.items[i])) return false;
      return true;
    case JsonValue::Kind::kObject:
      if (a.members.size() != b.members.size()) return false;
      for (size_t i = 0; i < a.members.size(); ++i)
        if (a.members[i].first != b.members[i].first ||
            !same(a.members[i].second, b.members[i].second))
          return false;
      return true;
  }
  return false;
}

}  // namespace

TUTTI_FUZZ_TARGET(json) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  JsonValue v;
  if (parseJson(text, "fuzz", &v) != tuttiSuccess) {
    FUZZ_CHECK(lastError().rfind("fuzz:", 0) == 0, "error without a position: %s",
               lastError().c_str());
    return 0;
  }
  const std::string again = write(v);
  JsonValue w;
  FUZZ_CHECK(parseJson(again, "again", &w) == tuttiSuccess, "own output rejected: %s (%s)",
             again.c_str(), lastError().c_str());
  FUZZ_CHECK(same(v, w), "round trip changed the value: %s", again.c_str());
  return 0;
}
