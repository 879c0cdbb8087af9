// gtest parameter names from free text ("delay:300ms" -> "delay_300ms"): gtest accepts only
// letters, digits and underscores.
#pragma once

#include <cctype>
#include <string>

namespace tutti::testing {

inline std::string paramName(std::string s) {
  for (char& c : s)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

}  // namespace tutti::testing
