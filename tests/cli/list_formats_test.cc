// `-o table|json|yaml|tsv` on every command that prints a list.
#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/cli/cli_fixtures.h"

using namespace amlc::testing;
using nlohmann::json;

namespace {

// Each list command and the first field of its TSV header.
struct ListCommand {
  std::string args;
  std::string first_tsv_field;
};

}  // namespace

TEST_CASE("every list command prints -o json, yaml, tsv and table; --json is -o json", "[cli][list-output]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " >/dev/null")) == 0);
  std::string ws = " --workspace " + dir.str() + "/.amlc";
  std::string out;
  REQUIRE(Run(Amlc("runs list -o json" + ws), &out) == 0);
  json runs = json::parse(out);
  REQUIRE(runs.size() == 1);
  std::string run = runs[0]["id"];

  const std::vector<ListCommand> commands = {
      {"runs list", "id"},        {"activities", "id"},     {"metrics " + run, "name"},
      {"models list", "name"},    {"images list", "name"},  {"deployments list", "name"},
      {"experiments list", "name"}, {"endpoints list", "name"}, {"secrets list", "name"},
      {"users list", "name"},     {"tokens list", "id"},    {"audit", "time"}};
  for (const ListCommand& command : commands) {
    INFO(command.args);
    std::string as_json;
    REQUIRE(Run(Amlc(command.args + " -o json" + ws), &as_json) == 0);
    CHECK(json::parse(as_json).is_array());
    std::string flag_json;
    REQUIRE(Run(Amlc(command.args + " --json" + ws), &flag_json) == 0);
    CHECK(flag_json == as_json);
    REQUIRE(Run(Amlc(command.args + " -o tsv" + ws), &out) == 0);
    CHECK(out.substr(0, out.find_first_of("\t\n")) == command.first_tsv_field);
    CHECK(std::count(out.begin(), out.end(), '\n') == static_cast<long>(json::parse(as_json).size()) + 1);
    REQUIRE(Run(Amlc(command.args + " -o yaml" + ws), &out) == 0);
    CHECK((out == "[]\n" || out.rfind("- \"", 0) == 0));
    CHECK(Run(Amlc(command.args + " -o table" + ws + " >/dev/null")) == 0);
    CHECK(Run(Amlc(command.args + " -o xml" + ws + " 2>/dev/null")) == 2);
  }
  REQUIRE(Run(Amlc("experiments list -o tsv" + ws), &out) == 0);
  CHECK(out == "name\nok\n");  // a job without experiment_name runs in an experiment of its name
}
