// /metrics of the workspace server, parsed by the Prometheus client's parser.
#include <catch2/catch.hpp>
#include "tests/prometheus_samples.h"
#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

TEST_CASE("workspace server: /metrics counts requests by route and code, in Prometheus text", "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  httplib::Client client = server.Client(server.UserWithToken("rita", "reader"));
  for (int i = 0; i < 3; ++i) REQUIRE(client.Get("/api/v1/runs")->status == 200);
  REQUIRE(client.Get("/api/v1/runs/nope")->status == 404);
  REQUIRE(client.Get("/api/v1/secrets")->status == 403);
  REQUIRE(server.Client().Get("/metrics")->status == 401);  // a scrape needs a token too

  auto answer = client.Get("/metrics");
  REQUIRE(answer);
  REQUIRE(answer->status == 200);
  CHECK(answer->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  std::vector<json> samples = ParsedSamples(answer->body, dir.str());
  CHECK(SampleValue(samples, "amlc_http_requests_total", {{"method", "GET"}, {"route", "/api/v1/runs"}, {"code", "200"}}) == 3);
  CHECK(SampleValue(samples, "amlc_http_requests_total", {{"method", "GET"}, {"route", "/api/v1/runs/{id}"}, {"code", "404"}}) ==
        1);
  CHECK(SampleValue(samples, "amlc_http_requests_total", {{"method", "GET"}, {"route", "/api/v1/secrets"}, {"code", "403"}}) ==
        1);
  CHECK(SampleValue(samples, "amlc_http_requests_total", {{"method", "GET"}, {"route", "/metrics"}, {"code", "401"}}) == 1);
  CHECK(SampleValue(samples, "amlc_runs", {{"status", "Completed"}}) == 0);
  CHECK(SampleValue(samples, "amlc_run_queue_depth", json::object()) == 0);
  CHECK(SampleValue(samples, "amlc_syncs_total", {{"result", "Synced"}}) == 0);
  CHECK(SampleValue(samples, "amlc_reconcile_duration_seconds_count", json::object()) == 0);
  CHECK(SampleValue(samples, "amlc_reconcile_duration_seconds_bucket", {{"le", "+Inf"}}) == 0);
}

}  // namespace
}  // namespace amlc::testing
