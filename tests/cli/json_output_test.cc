// --json on commands that change something: secrets set|delete, reconcile --once.
#include <catch2/catch.hpp>

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
