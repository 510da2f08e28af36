// --json on commands that change something: secrets set|delete, reconcile --once, serve.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;

TEST_CASE("secrets set and delete --json say what they did", "[cli][json]") {
  SpecDir dir;
  std::string ws = " --workspace " + dir.str() + "/ws";
  std::string out;
  REQUIRE(Run("TOKEN_VALUE=abc " + Amlc("secrets set forge-token --from-env TOKEN_VALUE --json" + ws), &out) == 0);
  json set = json::parse(out);
  CHECK(set["name"] == "forge-token");
  CHECK(set["action"] == "set");
  CHECK(out.find("abc") == std::string::npos);
  REQUIRE(Run(Amlc("secrets delete forge-token --json" + ws), &out) == 0);
  CHECK(json::parse(out)["action"] == "deleted");
  CHECK(json::parse(out)["name"] == "forge-token");
}

TEST_CASE("reconcile --once --json prints the pass's outcome, the log on stderr", "[cli][json][reconciler]") {
  Origin origin;
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  std::string commit = origin.CommitAndPush("a compute target");
  SpecDir data;
  std::string out;
  REQUIRE(Run(Amlc("reconcile --once --json --repo " + origin.bare() + " --path ml --data-dir " + data.str() +
                   "/rec 2>/dev/null"),
              &out) == 0);
  json pass = json::parse(out);
  CHECK(pass["result"] == "Synced");
  CHECK(pass["commit"] == commit);
  CHECK(pass["applied"] == true);
  CHECK(pass["sync_id"] == 1);
  CHECK(pass["exit_code"] == 0);
  CHECK(Run(Amlc("reconcile --json --repo " + origin.bare() + " 2>/dev/null")) == 2);  // --json needs --once
}

TEST_CASE("serve --json prints a listening event once bound and a stopped event after SIGTERM", "[cli][json][serving]") {
  SpecDir dir;
  dir.Write("score.py", "import json\ndef init():\n    pass\ndef run(raw_data):\n    return {'got': json.loads(raw_data)}\n");
  std::string events = dir.str() + "/events.jsonl";
  std::string pid_text;
  REQUIRE(Run("setsid " + Amlc("serve --json --entry-script " + dir.str() + "/score.py") + " > " + events +
                  " 2> " + dir.str() + "/serve.log & echo $!",
              &pid_text) == 0);
  pid_t pid = std::atoi(pid_text.c_str());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (ReadFile(events).find('\n') == std::string::npos && kill(pid, 0) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO("serve log:\n" + ReadFile(dir.str() + "/serve.log"));
  std::string first = ReadFile(events);
  json listening = json::parse(first.substr(0, first.find('\n')));
  CHECK(listening["event"] == "listening");
  CHECK(listening["host"] == "127.0.0.1");
  int port = listening["port"];
  REQUIRE(port > 0);
  std::string answer;
  CHECK(Run("curl -s -H 'Content-Type: application/json' -d '{\"x\": 1}' http://127.0.0.1:" + std::to_string(port) +
                "/score",
            &answer) == 0);
  CHECK(json::parse(answer)["got"]["x"] == 1);
  kill(pid, SIGTERM);
  for (int i = 0; i < 600 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(kill(pid, 0) != 0);
  std::string all = ReadFile(events);
  all.pop_back();
  json stopped = json::parse(all.substr(all.rfind('\n') + 1));
  CHECK(stopped["event"] == "stopped");
  CHECK(stopped["exit_code"] == 0);
}
