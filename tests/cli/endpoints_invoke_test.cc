// `amlc endpoints invoke`'s answers when there is nothing to invoke; the
// quickstart's endpoint answering it is replayed from the installed package
// (tests/cli/deb_install_test.sh) and by scripts/quickstart.sh.
#include <catch2/catch.hpp>

#include "tests/cli/cli_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;

TEST_CASE("endpoints invoke says what is missing: the request file, the endpoint", "[cli][endpoints]") {
  SpecDir dir;
  WriteSmallSpecs(dir);
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + " >/dev/null")) == 0);
  std::string ws = " --workspace " + dir.str() + "/.amlc";
  std::string err;
  CHECK(Run(Amlc("endpoints invoke iris --request-file /no/such.json" + ws + " 2>&1"), &err) == 2);
  CHECK(err.find("cannot read the request file /no/such.json") != std::string::npos);
  dir.Write("request.json", "{\"data\": [[1, 2, 3, 4]]}\n");
  CHECK(Run(Amlc("endpoints invoke iris --request-file " + dir.str() + "/request.json" + ws + " 2>&1"), &err) == 1);
  CHECK(err.find("no endpoint 'iris' with deployments in this workspace") != std::string::npos);
  CHECK(Run(Amlc("endpoints invoke 2>/dev/null")) == 2);
}
