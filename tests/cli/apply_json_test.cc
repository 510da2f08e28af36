// `amlc apply --json` / `destroy --json`: one JSON event per line, read back
// with a JSON reader and checked against the documented schema
// (cli/apply_events.schema.json) by a real JSON Schema validator.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "runtime/engine/apply_events.h"

#include "tests/cli/cli_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;

namespace {

// Every line of `file` parsed; a line that is not JSON fails the test.
std::vector<json> Events(const std::string& text) {
  std::vector<json> events;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    json event = json::parse(line, nullptr, false);
    INFO(line);
    REQUIRE(event.is_object());
    events.push_back(std::move(event));
  }
  return events;
}

// `amlc ARGS` with events written to DIR/events.jsonl; its exit status and the events.
int ApplyJson(const SpecDir& dir, const std::string& args, std::vector<json>& events) {
  std::string file = dir.str() + "/events.jsonl";
  int code = Run(Amlc(args + " > " + file + " 2>/dev/null"));
  std::string problems;
  CHECK(Run("/usr/bin/python3 " + SourcePath("tests/cli/check_apply_events.py") + " " +
                SourcePath("cli/apply_events.schema.json") + " " + file,
            &problems) == 0);
  CHECK(problems == "");
  events = Events(ReadFile(file));
  return code;
}

const json* Find(const std::vector<json>& events, const std::string& type, const std::string& resource = "") {
  for (const json& e : events) {
    if (e["type"] == type && (resource.empty() || e.value("resource", "") == resource)) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("apply --json streams the plan, each action with timings and run ids, and a summary",
          "[cli][apply-json]") {
  SpecDir dir;
  WriteSmallSpecs(dir, /*failing=*/true);
  std::vector<json> events;
  CHECK(ApplyJson(dir, "apply --auto-approve --json " + dir.str(), events) == 1);
  REQUIRE(events.size() >= 2);
  const json& plan = events.front();
  CHECK(plan["type"] == "plan");
  CHECK(plan["schema"] == "amlc-apply-events/1");
  CHECK(plan["counts"]["run"] == 2);
  CHECK(plan["actions"].size() == 4);  // compute, environment, two runs
  CHECK(plan["summary"].get<std::string>().rfind("Plan: ", 0) == 0);

  const json* ok = Find(events, "action_finished", "job/ok");
  REQUIRE(ok);
  CHECK((*ok)["outcome"] == "succeeded");
  CHECK((*ok)["action"] == "run");
  CHECK((*ok)["run_id"].get<std::string>().rfind("ok-", 0) == 0);
  CHECK((*ok)["elapsed_seconds"].get<double>() > 0);
  const json* bad = Find(events, "action_finished", "job/bad");
  REQUIRE(bad);
  CHECK((*bad)["outcome"] == "failed");
  CHECK((*bad)["message"].get<std::string>().find("exit code 3") != std::string::npos);
  CHECK(Find(events, "action_started", "job/ok"));
  CHECK(Find(events, "action_progress"));

  const json& summary = events.back();
  CHECK(summary["type"] == "summary");
  CHECK(summary["outcome"] == "failed");
  CHECK(summary["failed"] == 1);
  CHECK(summary["exit_code"] == 1);
}

TEST_CASE("apply --json with nothing to do, and without --auto-approve", "[cli][apply-json]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  std::vector<json> events;
  REQUIRE(ApplyJson(dir, "apply --auto-approve --json " + dir.str(), events) == 0);
  CHECK(events.back()["outcome"] == "complete");

  REQUIRE(ApplyJson(dir, "apply --auto-approve --json " + dir.str(), events) == 0);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["actions"].empty());
  CHECK(events[1]["outcome"] == "no_changes");

  CHECK(ApplyJson(dir, "apply --json " + dir.str(), events) == 2);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["type"] == "error");
  CHECK(events[0]["message"].get<std::string>().find("--auto-approve") != std::string::npos);
  CHECK(events[1]["outcome"] == "error");
  CHECK(events[1]["exit_code"] == 2);
}

TEST_CASE("destroy --json reports its deletions as events", "[cli][apply-json]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " >/dev/null")) == 0);
  std::vector<json> events;
  REQUIRE(ApplyJson(dir, "destroy --auto-approve --json " + dir.str(), events) == 0);
  CHECK(events.front()["counts"]["destroy"].get<int>() > 0);
  const json* deleted = Find(events, "action_finished", "compute/local");
  REQUIRE(deleted);
  CHECK((*deleted)["action"] == "delete");
  CHECK(events.back()["outcome"] == "complete");
}

TEST_CASE("bytes events carry done, total when known, rate and finished, and follow the schema",
          "[cli][apply-json][byte_progress]") {
  SpecDir dir;
  std::string file = dir.str() + "/events.jsonl";
  {
    std::ofstream out(file);
    amlc::runtime::ApplyEvents events([&](const std::string& line) { out << line; });
    events.Error("no plan: only the bytes events matter here");
    events.Bytes(0, {"blob 1/2 sha256:0123", 1024, uint64_t{4096}, 512.0, false});
    events.Bytes(0, {"blob 1/2 sha256:0123", 4096, uint64_t{4096}, 2048.0, true});
    events.Bytes(1, {"download outputs/model.pkl", 77, std::nullopt, 0, true});
    events.Summary({}, 0);
  }
  std::string problems;
  CHECK(Run("/usr/bin/python3 " + SourcePath("tests/cli/check_apply_events.py") + " " +
                SourcePath("cli/apply_events.schema.json") + " " + file,
            &problems) == 0);
  CHECK(problems == "");
  std::vector<json> events = Events(ReadFile(file));
  REQUIRE(events.size() == 5);
  CHECK(events[1]["type"] == "bytes");
  CHECK(events[1]["done"] == 1024);
  CHECK(events[1]["total"] == 4096);
  CHECK(events[1]["finished"] == false);
  CHECK(events[2]["finished"] == true);
  CHECK_FALSE(events[3].contains("total"));
}

TEST_CASE("apply --json reports the bytes of the snapshot, the image's layers and its push, each ending at its total",
          "[registry][apply-json][byte_progress]") {
  std::string registry = TestServerAddress("registry");
  SpecDir dir;
  // The quickstart up to its image (the endpoint's services are not needed).
  std::filesystem::copy(SourcePath("examples/quickstart"), dir.path(), std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(dir.path() / ".amlc");
  for (const char* service : {"endpoint.yaml", "deployment.yaml"}) std::filesystem::remove(dir.path() / service);
  std::string repo = "apply-bytes-" + std::to_string(::getpid());
  dir.Write("workspace.yaml", ReadFile(dir.path() / "workspace.yaml") + "image_registry: " + registry + "/" + repo + "\n");
  std::vector<json> events;
  REQUIRE(ApplyJson(dir, "apply --auto-approve --json " + dir.str(), events) == 0);

  std::map<std::string, json> last;  // label -> its last bytes event
  std::map<std::string, int> finals;  // label -> how many said finished
  for (const json& e : events) {
    if (e["type"] != "bytes") continue;
    last[e["label"]] = e;
    if (e["finished"] == true) ++finals[e["label"]];
  }
  auto labelled = [&](const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& [label, e] : last) {
      if (label.rfind(prefix, 0) == 0) found.push_back(label);
    }
    return found;
  };
  CHECK(labelled("snapshot upload src").size() == 1);
  CHECK(labelled("snapshot download ").size() == 1);
  CHECK(labelled("layer ").size() >= 2);  // environment, model, Python package, scoring code (some may be cached)
  CHECK(labelled("blob ").size() >= 3);   // the layers and the config
  for (const auto& [label, e] : last) {
    INFO(e.dump());
    CHECK(e["finished"] == true);
    CHECK(finals[label] == 1);
    REQUIRE(e.contains("total"));
    CHECK(e["done"] == e["total"]);
  }
  // The push's bytes belong to the image's action.
  const json* image = Find(events, "action_started", "image/iris-image");
  REQUIRE(image);
  CHECK(last[labelled("blob ").front()]["index"] == (*image)["index"]);
}
