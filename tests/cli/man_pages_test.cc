// The man pages help2man writes at build time (packaging/CMakeLists.txt), as
// `man` renders them.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/cli/cli_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
namespace fs = std::filesystem;

namespace {

fs::path ManDir() { return BuildDir() / "share/man/man1"; }

// `man amlc-plan` as text, 80 columns wide, the footer's date made "DATE".
std::string Rendered(const std::string& page) {
  std::string text;
  Run("MANWIDTH=80 MAN_KEEP_FORMATTING= man -l " + (ManDir() / (page + ".1")).string() + " 2>/dev/null | col -b",
      &text);
  return std::regex_replace(text, std::regex("(amlc 0\\.1\\.0 +)[A-Z][a-z]+ [0-9]{4}"), "$1DATE");
}

}  // namespace

TEST_CASE("man amlc-plan renders as the golden text", "[cli][man]") {
  std::string golden = ReadFile(SourcePath("tests/cli/golden/man_amlc_plan.txt"));
  std::string rendered = Rendered("amlc-plan");
  if (rendered != golden && std::getenv("AMLC_UPDATE_GOLDEN")) {
    std::ofstream(SourcePath("tests/cli/golden/man_amlc_plan.txt")) << rendered;
  }
  CHECK(rendered == golden);
}

TEST_CASE("every visible command has a man page, internal ones none", "[cli][man]") {
  std::string list;
  REQUIRE(Run(Amlc("completion commands | cut -f1"), &list) == 0);
  std::istringstream commands(list);
  std::string command;
  int pages = 0;
  while (std::getline(commands, command)) {
    std::string page = "amlc-" + std::regex_replace(command, std::regex(" "), "-") + ".1";
    INFO(page);
    CHECK(fs::exists(ManDir() / page));
    ++pages;
  }
  CHECK(pages > 30);
  CHECK(fs::exists(ManDir() / "amlc.1"));
  CHECK_FALSE(fs::exists(ManDir() / "amlc-endpoint-host.1"));
  CHECK(Rendered("amlc").find("plan") != std::string::npos);
}
