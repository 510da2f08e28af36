// Plan goldens: the quickstart's spec folder and a recorded state in, the
// plan's text and JSON out, compared with tests/runtime/golden/ byte for
// byte after what changes from run to run (the folder, digests, run ids,
// the state serial) is replaced by placeholders. AMLC_UPDATE_GOLDENS=1
// rewrites the files instead; review their diff like code.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

std::string Normalize(std::string text, const std::string& dir) {
  for (size_t at; (at = text.find(dir)) != std::string::npos;) text.replace(at, dir.size(), "<specs>");
  text = std::regex_replace(text, std::regex("[0-9a-f]{64}"), "<sha256>");
  text = std::regex_replace(text, std::regex("[a-z0-9.-]+-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}"), "<run>");
  text = std::regex_replace(text, std::regex("\"state_serial\": [0-9]+"), "\"state_serial\": 0");
  return text;
}

void CheckGolden(const std::string& name, const std::string& actual) {
  std::string path = SourcePath("tests/runtime/golden/" + name);
  if (const char* update = std::getenv("AMLC_UPDATE_GOLDENS"); update && std::string(update) == "1") {
    std::ofstream(path) << actual;
    return;
  }
  std::string expected = ReadFile(path);
  INFO("golden " << path << " (AMLC_UPDATE_GOLDENS=1 rewrites it)");
  CHECK(actual == expected);
}

// `amlc plan` of the quickstart now, as text and as JSON, against goldens NAME.txt and NAME.json.
void CheckPlan(const QuickstartFolder& quickstart, const std::string& name) {
  std::string text, json;
  REQUIRE(Run(Amlc("plan " + quickstart.str()), &text) == 0);
  REQUIRE(Run(Amlc("plan --json " + quickstart.str()), &json) == 0);
  CheckGolden("plan_" + name + ".txt", Normalize(text, quickstart.str()));
  CheckGolden("plan_" + name + ".json", Normalize(json, quickstart.str()));
}

void Replace(const std::filesystem::path& file, const std::string& from, const std::string& to) {
  std::string text = ReadFile(file);
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  std::ofstream(file) << text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the quickstart's plans match their goldens: fresh, up to date, a code line, an instance count",
          "[golden]") {
  QuickstartFolder quickstart;
  CheckPlan(quickstart, "fresh");
  std::string out;
  REQUIRE(quickstart.Apply(&out) == 0);
  CheckPlan(quickstart, "up_to_date");

  std::filesystem::path train = quickstart.dir().path() / "src/train.py";
  std::string original = ReadFile(train);
  std::ofstream(train, std::ios::app) << "# one more line\n";
  CheckPlan(quickstart, "code_changed");
  std::ofstream(train) << original;

  Replace(quickstart.dir().path() / "deployment.yaml", "instance_count: 1", "instance_count: 2");
  CheckPlan(quickstart, "instance_count_changed");
}
