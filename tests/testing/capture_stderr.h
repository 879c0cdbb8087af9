// Redirects this process's stderr (fd 2, which the logger writes to) into a temporary file for
// a scope, so that tests can count log lines; forked children inherit the redirection.
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tutti::testing {

class CaptureStderr {
 public:
  CaptureStderr() {
    char path[] = "/tmp/tutti-stderr-XXXXXX";
    fd_ = mkstemp(path);
    path_ = path;
    fflush(stderr);
    saved_ = dup(2);
    dup2(fd_, 2);
  }
  ~CaptureStderr() {
    restore();
    unlink(path_.c_str());
  }
  // Ends the redirection and returns what was written, one entry per line.
  std::vector<std::string> lines() {
    restore();
    std::ifstream f(path_);
    std::vector<std::string> out;
    for (std::string l; std::getline(f, l);) out.push_back(l);
    return out;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    close(fd_);
    saved_ = -1;
  }
  int fd_ = -1, saved_ = -1;
  std::string path_;
};

inline int countContaining(const std::vector<std::string>& lines, const std::string& what) {
  int n = 0;
  for (const auto& l : lines) n += l.find(what) != std::string::npos;
  return n;
}

}  // namespace tutti::testing
