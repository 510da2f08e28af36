// The reconciler's /metrics, read by the Prometheus client's parser after a
// real pass: syncs by result, the reconcile duration histogram, requests by route.
#include <catch2/catch.hpp>

#include "tests/prometheus_samples.h"
#include "tests/reconciler/reconciler_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

TEST_CASE("the reconciler's /metrics counts its syncs, their durations and its requests", "[reconciler]") {
  Origin origin;
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  std::string commit = origin.CommitAndPush("a compute target");
  SpecDir data;
  ReconcilerProcess reconciler(origin, data.str() + "/rec");
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(commit, 120));
  reconciler.Get("/api/status");

  std::string text;
  REQUIRE(Run("curl -s " + reconciler.url() + "/metrics", &text) == 0);
  std::vector<json> samples = ParsedSamples(text, data.str());
  CHECK(SampleValue(samples, "amlc_syncs_total", {{"result", "Synced"}}) >= 1);
  CHECK(SampleValue(samples, "amlc_syncs_total", {{"result", "Failed"}}) == 0);
  CHECK(SampleValue(samples, "amlc_reconcile_duration_seconds_count", json::object()) >= 1);
  CHECK(SampleValue(samples, "amlc_reconcile_duration_seconds_bucket", {{"le", "+Inf"}}) >= 1);
  CHECK(SampleValue(samples, "amlc_runs", {{"status", "Running"}}) == 0);
  CHECK(SampleValue(samples, "amlc_run_queue_depth", json::object()) == 0);
  CHECK(SampleValue(samples, "amlc_http_requests_total",
                    {{"method", "GET"}, {"route", "/api/status"}, {"code", "200"}}) >= 1);
}

}  // namespace
}  // namespace amlc::testing
