#ifndef AMLC_TESTS_SERVER_SERVER_FIXTURES_H_
#define AMLC_TESTS_SERVER_SERVER_FIXTURES_H_

// A real `amlc server` process on a loopback port over a workspace folder,
// with users and tokens made by the real CLI on that folder, and a
// cpp-httplib client to call it.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "base/process.h"
#include "tests/test_support.h"

namespace amlc::testing {

class WorkspaceServerProcess {
 public:
  /// Starts `amlc server --listen 127.0.0.1:PORT --workspace HOME` (0: any
  /// free port) with `extra` flags and waits (up to a minute: the machine may
  /// be busy) for the address it prints.
  explicit WorkspaceServerProcess(std::string home, int port = 0, const std::vector<std::string>& extra = {})
      : home_(std::move(home)) {
    std::filesystem::create_directories(home_);
    log_ = home_ + "/../server.log";
    ProcessSpec spec;
    spec.argv = {AMLC_BINARY, "server", "--listen", "127.0.0.1:" + std::to_string(port), "--workspace", home_};
    spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
    spec.output_file = log_;
    auto started = Spawn(spec);
    REQUIRE(started.ok());
    process_ = std::move(started.value());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::smatch match;
    static const std::regex address(R"(on https?://127\.0\.0\.1:(\d+))");
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = ReadFile(log_);
      if (std::regex_search(text, match, address)) {
        port_ = std::stoi(match[1]);
        return;
      }
      REQUIRE(process_.Running());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("amlc server did not print its address within a minute: " << ReadFile(log_));
  }
  ~WorkspaceServerProcess() {
    if (killed_) return;
    process_.SignalGroup(SIGTERM);
    process_.Wait();
  }

  /// Kills the server with SIGKILL (no chance to finish what it does).
  void Kill() {
    process_.SignalGroup(SIGKILL);
    process_.Wait();
    killed_ = true;
  }

  int port() const { return port_; }
  const std::string& home() const { return home_; }
  std::string log() const { return ReadFile(log_); }

  /// A client; `token` "" sends no Authorization header.
  httplib::Client Client(const std::string& token = "") const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    if (!token.empty()) client.set_bearer_token_auth(token);
    return client;
  }

  /// `amlc ARGS --workspace HOME`, its stdout in `out`; the exit status.
  int Cli(const std::string& args, std::string* out = nullptr) const {
    return Run(Amlc(args + " --workspace " + home_), out);
  }
  /// A new user with `role` and a token for it (the secret).
  std::string UserWithToken(const std::string& name, const std::string& role, const std::string& expires = "") const {
    REQUIRE(Cli("users add " + name + " --role " + role + " > /dev/null") == 0);
    std::string out;
    REQUIRE(Cli("tokens create --user " + name + (expires.empty() ? "" : " --expires " + expires) + " --json", &out) == 0);
    return nlohmann::json::parse(out).at("token").get<std::string>();
  }

 private:
  std::string home_;
  std::string log_;
  Process process_;
  int port_ = 0;
  bool killed_ = false;
};

// Two jobs logging different accuracies, and what they run on: specs/ in `dir`.
inline void WriteTwoJobs(SpecDir& dir) {
  const std::string job = "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n";
  dir.Write("specs/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("specs/env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
  for (auto [name, accuracy] : {std::pair{"low", "0.5"}, std::pair{"high", "0.95"}}) {
    dir.Write(std::string("specs/src/") + name + ".py",
              std::string("from amlc import Run\nrun = Run.get_context()\nprint('training ") + name +
                  "')\nfor step in range(3):\n    run.log('loss', 1.0 / (step + 1))\nrun.log('accuracy', " + accuracy +
                  ")\n");
    dir.Write(std::string("specs/") + name + ".yaml",
              job + "name: " + name + "\nexperiment_name: exp\ncode: src\ncommand: python " + name +
                  ".py\nenvironment: azureml:py:1\n");
  }
}

/// What one `amlc` command printed, and its exit status.
struct CliOutput {
  int status = -1;
  std::string out;
  std::string err;
};

/// `amlc ARGS` with `env` ("AMLC_SERVER=... AMLC_TOKEN=..."; the caller's own
/// AMLC_SERVER and AMLC_TOKEN are dropped), stdout and stderr apart.
inline CliOutput AmlcWith(const SpecDir& dir, const std::string& env, const std::string& args) {
  CliOutput result;
  std::string err_file = dir.str() + "/stderr.txt";
  result.status = Run("env -u AMLC_SERVER -u AMLC_TOKEN " + env + " " + Amlc(args) + " 2> " + err_file, &result.out);
  result.err = ReadFile(err_file);
  return result;
}

inline std::string ServerUrl(const WorkspaceServerProcess& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

/// The same command remotely with `token` (the CLI as the server's client),
/// and locally on the server's folder; `env` as for AmlcWith.
inline CliOutput Remote(const SpecDir& dir, const WorkspaceServerProcess& server, const std::string& token,
                        const std::string& args, const std::string& env = "") {
  return AmlcWith(dir, env + " AMLC_SERVER=" + ServerUrl(server) + " AMLC_TOKEN=" + token, args);
}
inline CliOutput Local(const SpecDir& dir, const WorkspaceServerProcess& server, const std::string& args,
                       const std::string& env = "") {
  return AmlcWith(dir, env, args + " --workspace " + server.home());
}

/// The body of an answer as JSON (null when it is not).
inline nlohmann::json Body(const httplib::Result& result) {
  return result ? nlohmann::json::parse(result->body, nullptr, false) : nlohmann::json();
}

}  // namespace amlc::testing

#endif  // AMLC_TESTS_SERVER_SERVER_FIXTURES_H_
