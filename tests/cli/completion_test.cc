// Shell completion generated from the CLI11 definition, loaded by the real shells.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

using namespace amlc::testing;

namespace {

// What bash completes for the words typed so far (the last one being completed).
std::string BashCompletes(const std::string& words) {
  std::string out;
  Run("bash -c 'source <(" + Amlc("completion bash") + ") && COMP_WORDS=(" + words +
          ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _amlc && echo \"${COMPREPLY[*]}\"'",
      &out);
  return out.substr(0, out.find('\n'));
}

}  // namespace

TEST_CASE("bash completion registers for amlc and completes commands and options", "[cli][completion]") {
  std::string registered;
  REQUIRE(Run("bash -c 'source <(" + Amlc("completion bash") + ") && complete -p amlc'", &registered) == 0);
  CHECK(registered == "complete -o bashdefault -o default -F _amlc amlc\n");
  CHECK(BashCompletes("amlc pla") == "plan");
  CHECK(BashCompletes("amlc runs li") == "list");
  CHECK(BashCompletes("amlc plan --detailed") == "--detailed-exitcode");
  CHECK(BashCompletes("amlc runs list --exp") == "--experiment");
  CHECK(BashCompletes("amlc endpoint-").empty());  // internal: hidden
  CHECK(BashCompletes("amlc plan --out -").empty());  // a value, not an option: left to file names
}

TEST_CASE("zsh and fish completion scripts load and complete", "[cli][completion]") {
  SpecDir dir;
  REQUIRE(Run(Amlc("completion zsh > " + dir.str() + "/_amlc")) == 0);
  CHECK(Run("zsh -n " + dir.str() + "/_amlc") == 0);
  std::string zsh = ReadFile(dir.path() / "_amlc");
  CHECK(zsh.rfind("#compdef amlc\n", 0) == 0);
  CHECK(zsh.find("'detailed-exitcode") == std::string::npos);
  CHECK(zsh.find("'--detailed-exitcode:Exit 0 when nothing would change") != std::string::npos);

  std::string fish;
  REQUIRE(Run("fish -c '" + Amlc("completion fish") + " | source; complete -C \"amlc runs li\"'", &fish) == 0);
  CHECK(fish.rfind("list\t", 0) == 0);
  REQUIRE(Run("fish -c '" + Amlc("completion fish") + " | source; complete -C \"amlc plan --detailed\"'", &fish) == 0);
  CHECK(fish.rfind("--detailed-exitcode\t", 0) == 0);
}

TEST_CASE("completion commands lists every visible command from the CLI definition", "[cli][completion]") {
  std::string list;
  REQUIRE(Run(Amlc("completion commands"), &list) == 0);
  CHECK(list.find("plan\tShow what apply would do") != std::string::npos);
  CHECK(list.find("runs list\t") != std::string::npos);
  CHECK(list.find("version\t") != std::string::npos);
  CHECK(list.find("endpoint-host") == std::string::npos);
}
