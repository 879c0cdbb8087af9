// A small strict JSON reader (RFC 8259: no comments, no trailing commas, no duplicate keys)
// that remembers the line and column of every value, and a writer for pretty output.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace tutti {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  int line = 0, column = 0;
  bool boolean = false;
  double number = 0;
  bool integral = false;                                   // the text had no fraction or exponent
  std::string text;                                        // kString
  std::vector<JsonValue> items;                            // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in file order

  const JsonValue* get(const std::string& key) const;
  const char* kindName() const;  // "null", "boolean", "number", "string", "array", "object"
};

// Parses `text`; on failure returns tuttiInvalidArgument with "<source>:<line>:<col>: ...".
Result parseJson(const std::string& text, const std::string& source, JsonValue* out);

// Writes `s` as a JSON string literal (quotes and escapes).
std::string jsonQuote(const std::string& s);
// Shortest text that reads back as the same double ("26.5625", "400").
std::string jsonNumber(double v);

}  // namespace tutti
