// `amlc rollback SYNC` against a real reconciler process and a real git repository.
#include <catch2/catch.hpp>

#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using nlohmann::json;

namespace {

// Commits a local compute target named `name` to ml/NAME.yaml; returns the commit.
std::string PushCompute(Origin& origin, const std::string& name) {
  origin.Write("ml/" + name + ".yaml", "$schema: compute.schema.json\nname: " + name + "\ntype: local\n");
  return origin.CommitAndPush("compute target " + name);
}

json SyncOf(const std::string& server, const std::string& commit) {
  std::string out;
  Run(Amlc("syncs list -o json" + server), &out);
  for (const json& sync : json::parse(out, nullptr, false)) {
    if (sync.value("commit", "") == commit) return sync;
  }
  return json();
}

bool PausedAt(const json& status, const std::string& commit) {
  return status.contains("paused") && status["paused"].value("commit", "") == commit &&
         status.value("commit", "") == commit && status.value("status", "") == "Synced";
}

}  // namespace

TEST_CASE("amlc rollback applies an earlier sync's commit and pauses auto-sync until the next push, across restarts",
          "[cli][reconciler][rollback]") {
  Origin origin;
  std::string first = PushCompute(origin, "local");
  SpecDir data;
  std::string rec = data.str() + "/rec";
  auto reconciler = std::make_unique<ReconcilerProcess>(origin, rec, "--interval 1s --prune");
  REQUIRE_LOGGED(*reconciler, reconciler->WaitForSynced(first, 120));
  std::string second = PushCompute(origin, "other");
  REQUIRE_LOGGED(*reconciler, reconciler->WaitForSynced(second, 120));
  std::string server = " --server " + reconciler->url();
  json first_sync = SyncOf(server, first);
  REQUIRE(first_sync.is_object());

  std::string out;
  REQUIRE(Run(Amlc("rollback " + std::to_string(first_sync["id"].get<int64_t>()) + server + " --json"), &out) == 0);
  CHECK(json::parse(out)["commit"] == first);
  REQUIRE_LOGGED(*reconciler, reconciler->WaitForStatus([&](const json& s) { return PausedAt(s, first); }, 120));
  json rollback_sync = SyncOf(server, first);  // the newest sync of that commit: the rollback's
  CHECK(rollback_sync["trigger"].get<std::string>().find("rollback to sync") != std::string::npos);
  CHECK(rollback_sync["summary"].get<std::string>().find("1 to destroy") != std::string::npos);
  REQUIRE(Run(Amlc("status" + server), &out) == 0);
  CHECK(out.find("Paused      auto-sync, rolled back to sync #" + std::to_string(first_sync["id"].get<int64_t>()) +
                 " (" + first.substr(0, 7) + ")") != std::string::npos);

  // A restarted reconciler stays paused: passes keep the first commit though the branch is at the second.
  REQUIRE(reconciler->Stop() == 0);
  reconciler = std::make_unique<ReconcilerProcess>(origin, rec, "--interval 1s --prune");
  REQUIRE_LOGGED(*reconciler, reconciler->WaitForStatus(
                                  [&](const json& s) { return PausedAt(s, first) && s.contains("last_pass"); }, 120));
  server = " --server " + reconciler->url();
  REQUIRE(Run(Amlc("status --json" + server), &out) == 0);
  CHECK(json::parse(out)["paused"]["paused_head"] == second);

  // The next push ends the pause.
  std::string third = PushCompute(origin, "third");
  REQUIRE_LOGGED(*reconciler, reconciler->WaitForSynced(third, 120));
  CHECK_FALSE(reconciler->Get("/api/status").contains("paused"));
}

TEST_CASE("amlc rollback refuses unknown syncs, and says how to start a reconciler when none runs",
          "[cli][rollback]") {
  Origin origin;
  std::string first = PushCompute(origin, "local");
  SpecDir data;
  ReconcilerProcess reconciler(origin, data.str() + "/rec", "--interval 1h");
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(first, 120));
  std::string err;
  CHECK(Run(Amlc("rollback 999 --server " + reconciler.url() + " 2>&1"), &err) == 1);
  CHECK(err.find("answered 404") != std::string::npos);
  CHECK_FALSE(reconciler.Get("/api/status").contains("paused"));
  CHECK(Run("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{\"sync\":\"x\"}' " +
                reconciler.url() + "/api/rollback",
            &err) == 0);
  CHECK(err == "400");

  CHECK(Run(Amlc("rollback 1 --server http://127.0.0.1:1 2>&1"), &err) == 1);
  CHECK(err.find("start one with: amlc reconcile") != std::string::npos);
  CHECK(Run(Amlc("rollback 0 2>/dev/null")) == 2);
}
