// `amlc sync` and `amlc syncs list|show` against a real reconciler process.
#include <catch2/catch.hpp>

#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;

TEST_CASE("amlc sync asks a running reconciler for a pass; syncs list and show read the history",
          "[cli][reconciler][sync]") {
  Origin origin;
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  std::string first = origin.CommitAndPush("a compute target");
  SpecDir data;
  // An hour between passes: the second commit is taken only because amlc sync asks.
  ReconcilerProcess reconciler(origin, data.str() + "/rec", "--interval 1h");
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(first, 120));
  std::string server = " --server " + reconciler.url();

  origin.Write("ml/compute2.yaml", "$schema: compute.schema.json\nname: other\ntype: local\n");
  std::string second = origin.CommitAndPush("another compute target");
  std::string out;
  REQUIRE(Run(Amlc("sync" + server), &out) == 0);
  CHECK(out.find("Sync requested") != std::string::npos);
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(second, 120));

  REQUIRE(Run(Amlc("syncs list -o json" + server), &out) == 0);
  json syncs = json::parse(out);
  REQUIRE(syncs.size() == 2);
  CHECK(syncs[0]["commit"] == second);
  CHECK(syncs[0]["trigger"].get<std::string>().find("requested by amlc sync") != std::string::npos);
  CHECK(syncs[1]["commit"] == first);

  REQUIRE(Run(Amlc("syncs list" + server), &out) == 0);
  CHECK(out.rfind("ID  STARTED", 0) == 0);
  CHECK(out.find(second.substr(0, 7)) != std::string::npos);
  REQUIRE(Run(Amlc("syncs list -o tsv" + server), &out) == 0);
  CHECK(out.rfind("id\tstarted\tresult\tcommit_short\ttrigger\tsummary\n", 0) == 0);
  REQUIRE(Run(Amlc("syncs list -o yaml" + server), &out) == 0);
  CHECK(out.find("- \"") == 0);
  CHECK(out.find("\"commit\": \"" + second + "\"") != std::string::npos);

  std::string id = std::to_string(syncs[0]["id"].get<int64_t>());
  REQUIRE(Run(Amlc("syncs show " + id + server), &out) == 0);
  CHECK(out.find("Commit      " + second + " another compute target") != std::string::npos);
  CHECK(out.find("Synced") != std::string::npos);
  CHECK(Run(Amlc("syncs show 999" + server + " 2>&1"), &out) == 1);
  CHECK(out.find("answered 404") != std::string::npos);

  // A form post (what a web page can send without asking) starts nothing.
  CHECK(Run("curl -s -o /dev/null -w '%{http_code}' -d by=page " + reconciler.url() + "/api/sync", &out) == 0);
  CHECK(out == "415");
}

TEST_CASE("amlc sync says when no reconciler answers", "[cli][sync]") {
  std::string err;
  CHECK(Run(Amlc("sync --server http://127.0.0.1:1 2>&1"), &err) == 1);
  CHECK(err.find("no reconciler answers at http://127.0.0.1:1") != std::string::npos);
  CHECK(Run(Amlc("syncs list -o xml 2>/dev/null")) == 2);
}
