#ifndef AMLC_TESTS_RUNTIME_FILE_SERVER_H_
#define AMLC_TESTS_RUNTIME_FILE_SERVER_H_

// A local HTTP server (tests/servers/file_server.py) serving DIR/served, for
// tests of inputs given by URL; started by the test, stopped by PID.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/test_support.h"

namespace amlc::testing {

class FileServer {
 public:
  explicit FileServer(const SpecDir& dir) : root_(dir.str() + "/served"), log_(dir.str() + "/served.log") {
    std::filesystem::create_directories(root_);
    std::string port_file = dir.str() + "/served.port";
    std::string pid;
    REQUIRE(Run("python3 " + SourcePath("tests/servers/file_server.py") + " " + root_ + " " + log_ + " > " +
                    port_file + " 2>&1 & echo $!",
                &pid) == 0);
    pid_ = std::atoi(pid.c_str());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (port_ == 0 && kill(pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      port_ = std::atoi(ReadFile(port_file).c_str());
    }
    REQUIRE(port_ > 0);
  }
  ~FileServer() { kill(pid_, SIGTERM); }
  std::string url(const std::string& file) const { return "http://127.0.0.1:" + std::to_string(port_) + "/" + file; }
  std::string root() const { return root_; }
  std::string log() const { return ReadFile(log_); }

 private:
  std::string root_, log_;
  pid_t pid_ = 0;
  int port_ = 0;
};

}  // namespace amlc::testing

#endif  // AMLC_TESTS_RUNTIME_FILE_SERVER_H_
