// Colour follows NO_COLOR (https://no-color.org) and --no-color, also on a
// terminal: plan and apply run under `script`, which gives them a pty.
#include <catch2/catch.hpp>

#include <regex>

#include "tests/cli/cli_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

// What `command` writes on a terminal (TERM=xterm), through script(1).
std::string OnTerminal(const std::string& command) {
  std::string out;
  Run("TERM=xterm script -qec \"" + command + "\" /dev/null", &out);
  return out;
}

bool HasColour(const std::string& text) { return std::regex_search(text, std::regex("\033\\[[0-9;]*m")); }

}  // namespace

TEST_CASE("plan is coloured on a terminal unless NO_COLOR or --no-color says not", "[cli][color]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  std::string coloured = OnTerminal(Amlc("plan " + dir.str()));
  REQUIRE(coloured.find("Plan:") != std::string::npos);
  CHECK(HasColour(coloured));
  std::string no_color_env = OnTerminal("NO_COLOR=1 " + Amlc("plan " + dir.str()));
  CHECK(no_color_env.find("Plan:") != std::string::npos);
  CHECK_FALSE(HasColour(no_color_env));
  std::string no_color_flag = OnTerminal(Amlc("plan --no-color " + dir.str()));
  CHECK(no_color_flag.find("Plan:") != std::string::npos);
  CHECK_FALSE(HasColour(no_color_flag));
  CHECK(HasColour(OnTerminal("NO_COLOR= " + Amlc("plan " + dir.str()))));  // an empty NO_COLOR does not count
}

TEST_CASE("apply on a terminal keeps its live display without colour under NO_COLOR", "[cli][color]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  std::string out = OnTerminal("NO_COLOR=1 " + Amlc("apply --auto-approve " + dir.str()));
  CHECK(out.find("Apply complete:") != std::string::npos);
  CHECK(out.find("actions") != std::string::npos);  // the overall bar: "[####...] 3/4 actions 0.4s"
  CHECK_FALSE(HasColour(out));
  dir.Write("src/ok.py", "print('again')\n");
  std::string coloured = OnTerminal(Amlc("apply --auto-approve " + dir.str()));
  CHECK(coloured.find("Apply complete:") != std::string::npos);
  CHECK(HasColour(coloured));
  dir.Write("src/ok.py", "print('once more')\n");
  CHECK_FALSE(HasColour(OnTerminal(Amlc("apply --auto-approve --no-color " + dir.str()))));
}

TEST_CASE("apply writes plain lines, no display codes, when stdout is not a terminal", "[cli][color]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str()), &out) == 0);
  CHECK(out.find("started  > job/ok") != std::string::npos);
  CHECK(out.find('\033') == std::string::npos);
}
