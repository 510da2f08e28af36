#ifndef AMLC_TESTS_RECONCILER_RECONCILER_FIXTURES_H_
#define AMLC_TESTS_RECONCILER_RECONCILER_FIXTURES_H_

// Fixtures for tests that run `amlc reconcile` as a process: a bare "origin"
// repository pushed to with git, and the reconciler on a loopback port with
// its webhook secret. Shared by tests/reconciler and tests/hostile.

#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "tests/test_support.h"

namespace amlc::testing {

namespace reconciler_fixtures_detail {
namespace fs = std::filesystem;
using json = nlohmann::json;

inline constexpr const char* kSecret = "s3cret-for-tests";

// A bare "origin" and a working clone the test commits in and pushes from.
class Origin {
 public:
  Origin() {
    REQUIRE(Run("git init -q --bare -b main " + bare()) == 0);
    REQUIRE(Run("git clone -q " + bare() + " " + work() + " 2>/dev/null") == 0);
    REQUIRE(Run(Git("checkout -q -b main")) == 0);
  }
  std::string bare() const { return dir_.str() + "/origin.git"; }
  std::string work() const { return dir_.str() + "/work"; }
  std::string Git(const std::string& args) const {
    return "git -C " + work() + " -c user.name=Alice -c user.email=alice@example.com " + args;
  }
  void Write(const std::string& path, const std::string& text) const {
    fs::create_directories((fs::path(work()) / path).parent_path());
    std::ofstream(fs::path(work()) / path) << text;
  }
  void Append(const std::string& path, const std::string& text) const {
    std::ofstream(fs::path(work()) / path, std::ios::app) << text;
  }
  // Commits everything and pushes `branch`; returns the new commit.
  std::string CommitAndPush(const std::string& message, const std::string& branch = "main") const {
    REQUIRE(Run(Git("add -A")) == 0);
    REQUIRE(Run(Git("commit -q -m '" + message + "'")) == 0);
    REQUIRE(Run(Git("push -q origin HEAD:" + branch + " 2>/dev/null")) == 0);
    std::string head;
    Run(Git("rev-parse HEAD"), &head);
    return head.substr(0, 40);
  }

 private:
  SpecDir dir_;
};

// `amlc reconcile` as a background process; SIGTERM when the test ends.
class ReconcilerProcess {
 public:
  // `extra`: more flags; `env`: "NAME=value ..." for its environment.
  ReconcilerProcess(const Origin& origin, const std::string& data, const std::string& extra = "",
                    const std::string& env = "")
      : data_(data) {
    std::string pid;
    REQUIRE(Run("AMLC_WEBHOOK_SECRET=" + std::string(kSecret) + " " + env + " setsid " +
                    Amlc("reconcile --repo " + origin.bare() + " --path ml --data-dir " + data +
                         (extra.find("--interval") == std::string::npos ? " --interval 3s" : "") +
                         " --listen 127.0.0.1:0 " + extra) +
                    " > " + log() + " 2>&1 & echo $!",
                &pid) == 0);
    pid_ = std::atoi(pid.c_str());
    // Until it says where it listens, or it is gone. A minute is for a hung
    // start only: a loaded machine may take well over ten seconds to start it.
    std::smatch match;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (port_ == 0 && kill(pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::string text = ReadFile(log());
      if (std::regex_search(text, match, std::regex("listening on (https?)://127.0.0.1:(\\d+)"))) {
        scheme_ = match[1];
        port_ = std::stoi(match[2]);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO("reconciler log:\n" + ReadFile(log()));
    REQUIRE(port_ > 0);
  }
  ~ReconcilerProcess() {
    if (pid_ > 0 && Stop() != 0) kill(-pid_, SIGKILL);
  }
  // SIGTERM; returns the exit status (or -1 when it did not exit within 30 s).
  int Stop() {
    if (pid_ <= 0) return 0;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      if (kill(pid_, 0) != 0) {
        pid_ = 0;
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  // kill -9 of the reconciler alone: what it started (runs, endpoint hosts) goes on.
  void Kill() {
    kill(pid_, SIGKILL);
    for (int i = 0; i < 100 && kill(pid_, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pid_ = 0;
  }
  std::string log() const { return data_ + ".log"; }
  std::string url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Given to every curl this fixture runs (a token header, --cacert FILE).
  void set_curl_options(const std::string& options) { curl_options_ = options; }
  json Get(const std::string& path) const {
    std::string out;
    Run("curl -s " + curl_options_ + " " + url() + path, &out);
    return json::parse(out, nullptr, false);
  }
  // Posts a GitHub webhook; returns the HTTP status.
  int Webhook(const std::string& event, const json& payload, const std::string& secret = kSecret) const {
    std::string body = data_ + ".hook.json";
    std::ofstream(body) << payload.dump();
    std::string signature;
    Run("openssl dgst -sha256 -hmac '" + secret + "' -r " + body + " | cut -d' ' -f1", &signature);
    signature = signature.substr(0, 64);
    std::string code;
    Run("curl -s " + curl_options_ + " -o /dev/null -w '%{http_code}' -H 'X-GitHub-Event: " + event +
            "' -H 'X-Hub-Signature-256: sha256=" + signature + "' -H 'Content-Type: application/json' --data-binary @" +
            body + " " + url() + "/hooks/github",
        &code);
    return std::atoi(code.c_str());
  }
  // Waits until `done` holds for /api/status; false after `seconds`.
  bool WaitForStatus(const std::function<bool(const json&)>& done, double seconds) const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
    while (std::chrono::steady_clock::now() < deadline) {
      json status = Get("/api/status");
      if (status.is_object() && done(status)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  bool WaitForSynced(const std::string& commit, double seconds) const {
    return WaitForStatus(
        [&](const json& s) { return s.value("commit", "") == commit && s.value("status", "") == "Synced"; }, seconds);
  }

 private:
  std::string data_;
  pid_t pid_ = 0;
  int port_ = 0;
  std::string scheme_ = "http";
  std::string curl_options_;
};


// REQUIRE that shows the reconciler's log when it fails.
#define REQUIRE_LOGGED(reconciler, condition)                    \
  do {                                                           \
    INFO("reconciler log:\n" + ReadFile((reconciler).log()));   \
    REQUIRE(condition);                                          \
  } while (0)

}  // namespace reconciler_fixtures_detail

using reconciler_fixtures_detail::kSecret;
using reconciler_fixtures_detail::Origin;
using reconciler_fixtures_detail::ReconcilerProcess;

}  // namespace amlc::testing

#endif  // AMLC_TESTS_RECONCILER_RECONCILER_FIXTURES_H_
