// The read routes against a real `amlc server` over a workspace the CLI
// applied runs into: every body equals what the CLI's --json prints.
#include <catch2/catch.hpp>

#include "tests/cli/cli_fixtures.h"
#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

// Two jobs logging different accuracies, applied with the CLI into `home`.
void ApplyTwoRuns(SpecDir& dir, const std::string& home) {
  WriteTwoJobs(dir);
  std::string out;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + "/specs --workspace " + home + " 2>&1"), &out) == 0);
}

json CliJson(const WorkspaceServerProcess& server, const std::string& args) {
  std::string out;
  REQUIRE(server.Cli(args + " --json", &out) == 0);
  return json::parse(out);
}

TEST_CASE("workspace server: runs, metrics, logs and snapshots read as the CLI prints them", "[server]") {
  SpecDir dir;
  std::string home = dir.str() + "/home";
  ApplyTwoRuns(dir, home);
  WorkspaceServerProcess server(home);
  httplib::Client client = server.Client(server.UserWithToken("rita", "reader"));

  auto runs = client.Get("/api/v1/runs");
  REQUIRE(runs);
  REQUIRE(runs->status == 200);
  json listed = Body(runs);
  CHECK(listed == CliJson(server, "runs list"));
  REQUIRE(listed.size() == 2);
  CHECK(!runs->has_header("X-Next-Cursor"));

  // --where and --order-by, as the CLI takes them.
  httplib::Params filter{{"where", "metrics.accuracy > 0.9"}};
  auto good = client.Get("/api/v1/runs", filter, {});
  REQUIRE(good);
  REQUIRE(Body(good).size() == 1);
  CHECK(Body(good)[0]["job"] == "job/high");
  CHECK(Body(good) == CliJson(server, "runs list --where 'metrics.accuracy > 0.9'"));

  // Pages: one run each, the cursor in X-Next-Cursor.
  httplib::Params first_page{{"order_by", "metrics.accuracy desc"}, {"limit", "1"}};
  auto page1 = client.Get("/api/v1/runs", first_page, {});
  REQUIRE(page1);
  REQUIRE(Body(page1).size() == 1);
  CHECK(Body(page1)[0]["metrics"]["accuracy"] == 0.95);
  REQUIRE(page1->has_header("X-Next-Cursor"));
  httplib::Params second_page = first_page;
  second_page.emplace("cursor", page1->get_header_value("X-Next-Cursor"));
  auto page2 = client.Get("/api/v1/runs", second_page, {});
  REQUIRE(page2);
  REQUIRE(Body(page2).size() == 1);
  CHECK(Body(page2)[0]["metrics"]["accuracy"] == 0.5);
  CHECK(!page2->has_header("X-Next-Cursor"));

  auto bad_where = client.Get("/api/v1/runs", httplib::Params{{"where", "metrics.accuracy >>"}}, {});
  REQUIRE(bad_where);
  CHECK(bad_where->status == 400);
  CHECK(Body(bad_where)["message"].get<std::string>().rfind("where: ", 0) == 0);

  std::string id = Body(good)[0]["id"];
  auto shown = client.Get("/api/v1/runs/" + id);
  REQUIRE(shown);
  CHECK(Body(shown) == CliJson(server, "runs show " + id));
  auto metrics = client.Get("/api/v1/runs/" + id + "/metrics");
  REQUIRE(metrics);
  CHECK(Body(metrics) == CliJson(server, "metrics " + id));
  CHECK(Body(metrics).size() == 4);  // three loss points and the accuracy
  auto loss = client.Get("/api/v1/runs/" + id + "/metrics?name=loss");
  REQUIRE(loss);
  CHECK(Body(loss).size() == 3);

  auto logs = client.Get("/api/v1/runs/" + id + "/logs");
  REQUIRE(logs);
  CHECK(logs->status == 200);
  CHECK(logs->body.find("training high") != std::string::npos);
  auto followed = client.Get("/api/v1/runs/" + id + "/logs?follow=true");  // ended: all, then the end
  REQUIRE(followed);
  CHECK(followed->body == logs->body);

  auto snapshot = client.Get("/api/v1/runs/" + id + "/snapshot");
  REQUIRE(snapshot);
  CHECK(snapshot->status == 200);
  CHECK(snapshot->get_header_value("Content-Type") == "application/zip");
  CHECK(snapshot->body.rfind("PK\x03\x04", 0) == 0);
  CHECK(snapshot->body.find("high.py") != std::string::npos);

  auto missing = client.Get("/api/v1/runs/no-such-run/metrics");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(Body(missing)["message"] == "no run 'no-such-run' in this workspace");

  CHECK(Body(client.Get("/api/v1/experiments")) == json::array({{{"name", "exp"}}}));
  CHECK(Body(client.Get("/api/v1/experiments")) == CliJson(server, "experiments list"));
  CHECK(Body(client.Get("/api/v1/endpoints")) == CliJson(server, "endpoints list"));
  CHECK(Body(client.Get("/api/v1/activities")) == CliJson(server, "activities"));
  CHECK(Body(client.Get("/api/v1/models")) == CliJson(server, "models list"));
  CHECK(Body(client.Get("/api/v1/images")) == CliJson(server, "images list"));
  CHECK(Body(client.Get("/api/v1/deployments")) == json::array());
  CHECK(Body(client.Get("/api/v1/deployments")) == CliJson(server, "deployments list"));
  json status = Body(client.Get("/api/v1/status"));
  CHECK(status["runs"]["Completed"] == 2);
  CHECK(status["you"] == json{{"user", "rita"}, {"role", "reader"}});
}

TEST_CASE("workspace server: a hostile client's many headers and oversized body are refused before the body is read",
          "[server][hostile]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string token = server.UserWithToken("alice", "owner");
  httplib::Headers many;
  for (int i = 0; i < 150; ++i) many.emplace("X-Filler-" + std::to_string(i), "x");
  auto crowded = server.Client(token).Get("/api/v1/runs", many);
  REQUIRE(crowded);
  CHECK(crowded->status == 431);

  // A Content-Length of 1 TiB with no body behind it: answered at once.
  std::string out;
  REQUIRE(Run("curl -s -m 60 -o /dev/stdout -w '\\n%{http_code}' -X POST -H 'Authorization: Bearer " + token +
                  "' -H 'Content-Type: application/json' -H 'Content-Length: 1099511627776' http://127.0.0.1:" +
                  std::to_string(server.port()) + "/api/v1/users",
              &out) == 0);
  CHECK(out.substr(out.rfind('\n') + 1) == "413");
  CHECK(out.find("larger than the limit") != std::string::npos);
}

}  // namespace
}  // namespace amlc::testing
