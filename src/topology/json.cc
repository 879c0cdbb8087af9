// Strict recursive-descent JSON parser with positions; depth-limited so hostile input cannot
// exhaust the stack.
#include "topology/json.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tutti {
namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  Parser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  Result parseDocument(JsonValue* out) {
    skipSpace();
    TUTTI_TRY(parseValue(out, 0));
    skipSpace();
    if (pos_ < s_.size()) return fail("unexpected '%c' after the end of the document", s_[pos_]);
    return tuttiSuccess;
  }

 private:
  Result fail(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return setError(tuttiInvalidArgument, "%s:%d:%d: %s", source_.c_str(), line_, col(), msg);
  }
  int col() const { return static_cast<int>(pos_ - lineStart_) + 1; }

  void skipSpace() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\n') {
        ++line_;
        lineStart_ = ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  Result expect(char c, const char* what) {
    skipSpace();
    if (pos_ >= s_.size()) return fail("unexpected end of file: expected %s", what);
    if (s_[pos_] != c) return fail("expected %s, found '%c'", what, s_[pos_]);
    ++pos_;
    return tuttiSuccess;
  }

  Result parseValue(JsonValue* v, int depth) {
    skipSpace();
    if (depth > kMaxDepth) return fail("nesting deeper than %d levels", kMaxDepth);
    if (pos_ >= s_.size()) return fail("unexpected end of file: expected a value");
    v->line = line_;
    v->column = col();
    char c = s_[pos_];
    if (c == '{') return parseObject(v, depth);
    if (c == '[') return parseArray(v, depth);
    if (c == '"') {
      v->kind = JsonValue::Kind::kString;
      return parseString(&v->text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parseNumber(v);
    if (s_.compare(pos_, 4, "true") == 0) {
      v->kind = JsonValue::Kind::kBool;
      v->boolean = true;
      pos_ += 4;
      return tuttiSuccess;
    }
    if (s_.compare(pos_, 5, "false") == 0) {
      v->kind = JsonValue::Kind::kBool;
      pos_ += 5;
      return tuttiSuccess;
    }
    if (s_.compare(pos_, 4, "null") == 0) {
      v->kind = JsonValue::Kind::kNull;
      pos_ += 4;
      return tuttiSuccess;
    }
    return fail("unexpected '%c': expected a value", c);
  }

  Result parseObject(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kObject;
    ++pos_;
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return tuttiSuccess;
    }
    for (;;) {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"')
        return pos_ >= s_.size() ? fail("unexpected end of file inside an object")
                                 : fail("expected a quoted member name, found '%c'", s_[pos_]);
      const int keyLine = line_, keyCol = col();
      std::string key;
      TUTTI_TRY(parseString(&key));
      for (const auto& m : v->members)
        if (m.first == key) {
          line_ = keyLine;
          pos_ = lineStart_ + keyCol - 1;
          return fail("duplicate member \"%s\"", key.c_str());
        }
      TUTTI_TRY(expect(':', "':' after a member name"));
      v->members.emplace_back(key, JsonValue());
      TUTTI_TRY(parseValue(&v->members.back().second, depth + 1));
      skipSpace();
      if (pos_ >= s_.size()) return fail("unexpected end of file: expected ',' or '}'");
      if (s_[pos_] == ',') {
        ++pos_;
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == '}') return fail("trailing comma before '}'");
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return tuttiSuccess;
      }
      return fail("expected ',' or '}' after a member, found '%c'", s_[pos_]);
    }
  }

  Result parseArray(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kArray;
    ++pos_;
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return tuttiSuccess;
    }
    for (;;) {
      v->items.emplace_back();
      TUTTI_TRY(parseValue(&v->items.back(), depth + 1));
      skipSpace();
      if (pos_ >= s_.size()) return fail("unexpected end of file: expected ',' or ']'");
      if (s_[pos_] == ',') {
        ++pos_;
        skipSpace();
        if (pos_ < s_.size() && s_[pos_] == ']') return fail("trailing comma before ']'");
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return tuttiSuccess;
      }
      return fail("expected ',' or ']' after an array item, found '%c'", s_[pos_]);
    }
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  Result parseHex4(unsigned* out) {
    if (pos_ + 4 > s_.size()) return fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      int d = hexDigit(s_[pos_ + i]);
      if (d < 0) return fail("bad hex digit '%c' in \\u escape", s_[pos_ + i]);
      v = v * 16 + d;
    }
    pos_ += 4;
    *out = v;
    return tuttiSuccess;
  }

  static void appendUtf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  Result parseString(std::string* out) {
    ++pos_;  // opening quote
    out->clear();
    for (;;) {
      if (pos_ >= s_.size()) return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return tuttiSuccess;
      }
      if (c < 0x20) return fail("control character 0x%02x inside a string", c);
      if (c != '\\') {
        *out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (++pos_ >= s_.size()) return fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          unsigned cp = 0;
          TUTTI_TRY(parseHex4(&cp));
          if (cp >= 0xD800 && cp < 0xDC00) {
            unsigned lo = 0;
            if (s_.compare(pos_, 2, "\\u") != 0) return fail("unpaired surrogate in \\u escape");
            pos_ += 2;
            TUTTI_TRY(parseHex4(&lo));
            if (lo < 0xDC00 || lo >= 0xE000) return fail("bad low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return fail("unpaired surrogate in \\u escape");
          }
          appendUtf8(out, cp);
          break;
        }
        default: --pos_; return fail("unknown escape '\\%c'", e);
      }
    }
  }

  Result parseNumber(JsonValue* v) {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t d = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_, ++d;
      return d;
    };
    if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9'))
      return fail("a number needs digits");
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9')
      return fail("leading zeros are not allowed in numbers");
    digits();
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      integral = false;
      if (!digits()) return fail("a fraction needs digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      integral = false;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("an exponent needs digits");
    }
    std::string text = s_.substr(start, pos_ - start);
    v->kind = JsonValue::Kind::kNumber;
    v->number = strtod(text.c_str(), nullptr);
    v->integral = integral;
    if (!std::isfinite(v->number)) return fail("number %s is out of range", text.c_str());
    return tuttiSuccess;
  }

  const std::string& s_;
  const std::string& source_;
  size_t pos_ = 0;
  size_t lineStart_ = 0;
  int line_ = 1;
};

}  // namespace

const JsonValue* JsonValue::get(const std::string& key) const {
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}

const char* JsonValue::kindName() const {
  static const char* names[] = {"null", "boolean", "number", "string", "array", "object"};
  return names[static_cast<int>(kind)];
}

Result parseJson(const std::string& text, const std::string& source, JsonValue* out) {
  *out = JsonValue();
  Parser p(text, source);
  return p.parseDocument(out);
}

std::string jsonQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string jsonNumber(double v) {
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {
    snprintf(buf, sizeof(buf), "%.*g", prec, v);
    if (strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace tutti
