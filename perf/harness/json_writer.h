// JsonWriter: a minimal streaming JSON writer (objects, arrays, strings, numbers, null) that
// places commas itself. Used for the -J results file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tutti::perf {

class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(const std::string& k);  // inside an object, before each value
  JsonWriter& value(const std::string& s);
  JsonWriter& value(const char* s) { return value(std::string(s)); }
  JsonWriter& value(double d);  // non-finite numbers are written as null
  JsonWriter& value(int64_t i);
  JsonWriter& value(int i) { return value(static_cast<int64_t>(i)); }
  JsonWriter& value(size_t u);
  JsonWriter& value(bool b);
  JsonWriter& null();
  const std::string& str() const { return out_; }

  static std::string escape(const std::string& s);

 private:
  void beforeValue();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool afterKey_ = false;
};

}  // namespace tutti::perf
