// Exit codes CI scripts branch on, and what `amlc --help` and `version` say.
#include <catch2/catch.hpp>

#include <regex>

#include "tests/cli/cli_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;

TEST_CASE("plan --detailed-exitcode exits 2 with changes, 0 without and 1 on any error", "[cli][exit-codes]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  CHECK(Run(Amlc("plan --detailed-exitcode " + dir.str() + " >/dev/null")) == 2);
  CHECK(Run(Amlc("plan " + dir.str() + " >/dev/null")) == 0);  // without the flag: the plan was made
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " >/dev/null")) == 0);
  std::string out;
  CHECK(Run(Amlc("plan --detailed-exitcode " + dir.str()), &out) == 0);
  CHECK(out.find("No changes.") != std::string::npos);
  dir.Write("src/ok.py", "print('changed')\n");
  CHECK(Run(Amlc("plan --detailed-exitcode " + dir.str() + " >/dev/null")) == 2);

  CHECK(Run(Amlc("plan --detailed-exitcode " + SourcePath("tests/fixtures/five-mistakes") + " 2>/dev/null")) == 1);
  CHECK(Run(Amlc("plan --detailed-exitcode /no/such/dir 2>/dev/null")) == 1);
  CHECK(Run(Amlc("plan --detailed-exitcode --no-such-flag " + dir.str() + " 2>/dev/null")) == 1);
  CHECK(Run(Amlc("plan --no-such-flag " + dir.str() + " 2>/dev/null")) == 2);  // usage errors stay 2 without it
}

TEST_CASE("plan's help documents its exit codes", "[cli][exit-codes]") {
  std::string help;
  REQUIRE(Run(Amlc("plan --help"), &help) == 0);
  CHECK(help.find("--detailed-exitcode") != std::string::npos);
  CHECK(help.find("Exit status:") != std::string::npos);
  CHECK(help.find("2  usage errors (with --detailed-exitcode: the plan changes something") != std::string::npos);
  CHECK(help.find("NO_COLOR") != std::string::npos);
}

TEST_CASE("internal commands are hidden from the top-level help and still run", "[cli]") {
  std::string help;
  REQUIRE(Run(Amlc("--help"), &help) == 0);
  CHECK(help.find("endpoint-host") == std::string::npos);
  CHECK(help.find("version") != std::string::npos);
  CHECK(help.find("completion") != std::string::npos);
  CHECK(Run(Amlc("endpoint-host --help >/dev/null")) == 0);
}

TEST_CASE("amlc version names the commit it was built from", "[cli]") {
  std::string version, flag, json;
  REQUIRE(Run(Amlc("version"), &version) == 0);
  std::smatch match;
  REQUIRE(std::regex_match(version, match, std::regex("amlc 0\\.1\\.0 \\(commit ([0-9a-f]{40})(-dirty)?\\)\n")));
  // A commit of this repository (the build may be older than HEAD when a commit followed it).
  CHECK(Run("git -C " + SourcePath("") + " cat-file -e " + match[1].str() + "^{commit}") == 0);
  REQUIRE(Run(Amlc("--version"), &flag) == 0);
  CHECK(flag == version);
  REQUIRE(Run(Amlc("version --json"), &json) == 0);
  nlohmann::json parsed = nlohmann::json::parse(json);
  CHECK(parsed["version"] == "0.1.0");
  CHECK(parsed["commit"].get<std::string>().rfind(match[1].str(), 0) == 0);
}
