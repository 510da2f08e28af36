// kill -9 of `amlc apply` mid-run, as an operator (or the OOM killer) does:
// what the dead apply left Running is ended by the next one to take the lock.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

nlohmann::json Activities(const SpecDir& dir) {
  std::string out;
  Run(Amlc("activities --json --workspace " + dir.str() + "/.amlc"), &out);
  nlohmann::json parsed = nlohmann::json::parse(out, nullptr, false);
  return parsed.is_array() ? parsed : nlohmann::json::array();
}

int CountWithStatus(const nlohmann::json& activities, const std::string& status) {
  int count = 0;
  for (const auto& a : activities) count += a.value("status", "") == status;
  return count;
}

// Starts `amlc apply` in its own process, so the test can kill exactly it.
pid_t StartApply(const SpecDir& dir) {
  pid_t pid = fork();
  if (pid == 0) {
    std::string command = "exec " + Amlc("apply --auto-approve " + dir.str()) + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST_CASE("activities a killed apply left Running end Interrupted when the lock is next taken", "[hostile]") {
  SpecDir dir;
  dir.Write("compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("src/work.sh", "sleep 2\n");
  dir.Write("job.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "name: work\ncode: src\ncommand: sh work.sh\ncompute: azureml:local\n");
  pid_t apply = StartApply(dir);
  // Bounded only against a hang: a busy machine may take long to start the run.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    nlohmann::json now = Activities(dir);
    bool running_run = false;
    for (const auto& a : now) running_run = running_run || (a.value("kind", "") == "run" && a.value("status", "") == "Running");
    if (running_run) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(CountWithStatus(Activities(dir), "Running") >= 1);
  kill(apply, SIGKILL);
  waitpid(apply, nullptr, 0);
  int left_running = CountWithStatus(Activities(dir), "Running");
  REQUIRE(left_running >= 1);  // the accident: nothing ends them but the next apply

  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " 2>&1"), &out) == 0);
  CHECK(out.find("Interrupted: the apply carrying") != std::string::npos);
  nlohmann::json after = Activities(dir);
  CHECK(CountWithStatus(after, "Running") == 0);
  CHECK(CountWithStatus(after, "Interrupted") == left_running);
  for (const auto& a : after) {
    if (a.value("status", "") != "Interrupted") continue;
    CHECK(a.value("message", "").rfind("interrupted:", 0) == 0);
    CHECK(a.value("ended_at", "-") != "-");
  }
}
