// The dashboard's files and the API route its pages add, against a real
// `amlc server`. The served folder is given with AMLC_DASHBOARD_DIR (the
// server inherits this process's environment), so these tests do not depend
// on whether npm built the real bundle; tests/browser drives the real one.
#include <stdlib.h>

#include <filesystem>
#include <map>

#include <catch2/catch.hpp>

#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

// Sets AMLC_DASHBOARD_DIR for the servers started while it lives.
class DashboardDirVariable {
 public:
  explicit DashboardDirVariable(const std::string& dir) { setenv("AMLC_DASHBOARD_DIR", dir.c_str(), 1); }
  ~DashboardDirVariable() { unsetenv("AMLC_DASHBOARD_DIR"); }
};

TEST_CASE("dashboard: / and the hashed assets are served without a token, with types and cache headers",
          "[server]") {
  SpecDir dir;
  dir.Write("dashboard/index.html", "<!doctype html><div id=app></div>");
  dir.Write("dashboard/assets/index-AbC123.js", "console.log('amlc')");
  dir.Write("dashboard/assets/index-AbC123.css", "body{}");
  DashboardDirVariable variable(dir.str() + "/dashboard");
  WorkspaceServerProcess server(dir.str() + "/home");
  httplib::Client client = server.Client();

  auto index = client.Get("/");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK(index->body == "<!doctype html><div id=app></div>");
  CHECK(index->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(index->get_header_value("Cache-Control") == "no-cache");
  CHECK(index->get_header_value("X-Content-Type-Options") == "nosniff");

  auto script = client.Get("/assets/index-AbC123.js");
  REQUIRE(script);
  CHECK(script->status == 200);
  CHECK(script->body == "console.log('amlc')");
  CHECK(script->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(script->get_header_value("Cache-Control") == "public, max-age=31536000, immutable");
  auto style = client.Get("/assets/index-AbC123.css");
  REQUIRE(style);
  CHECK(style->get_header_value("Content-Type") == "text/css; charset=utf-8");

  auto missing = client.Get("/assets/index-missing.js");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  // Files written after the start are not served: the bundle is read once.
  dir.Write("dashboard/assets/late.js", "1");
  auto late = client.Get("/assets/late.js");
  REQUIRE(late);
  CHECK(late->status == 404);
}

TEST_CASE("dashboard: a server without a built dashboard answers / with what to do", "[server]") {
  SpecDir dir;
  DashboardDirVariable variable(dir.str() + "/no-such-folder");
  WorkspaceServerProcess server(dir.str() + "/home");
  auto index = server.Client().Get("/");
  REQUIRE(index);
  CHECK(index->status == 404);
  CHECK(index->body.find("npm ci in web/") != std::string::npos);
  CHECK(index->body.find("/api/v1") != std::string::npos);
}

TEST_CASE("dashboard: GET /api/v1/runs/{id}/snapshot/files lists the files the run ran", "[server]") {
  SpecDir dir;
  std::string home = dir.str() + "/home";
  dir.Write("specs/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("specs/env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
  dir.Write("specs/src/train.py", "print('trained')\n");
  dir.Write("specs/src/lib/util.py", "X = 1\n");
  dir.Write("specs/job.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\nname: t\n"
            "experiment_name: exp\ncode: src\ncommand: python train.py\nenvironment: azureml:py:1\n");
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + "/specs --workspace " + home + " > /dev/null 2>&1")) == 0);
  WorkspaceServerProcess server(home);
  std::string reader = server.UserWithToken("rita", "reader");
  httplib::Client client = server.Client(reader);
  json runs = Body(client.Get("/api/v1/runs"));
  REQUIRE(runs.size() == 1);
  std::string id = runs[0].at("id");

  auto files = client.Get("/api/v1/runs/" + id + "/snapshot/files");
  REQUIRE(files);
  CHECK(files->status == 200);
  json body = json::parse(files->body);
  CHECK(body.at("snapshot") == runs[0].at("snapshot"));
  REQUIRE(body.at("files").size() == 2);
  CHECK(body["files"][0].at("path") == "lib/util.py");
  CHECK(body["files"][0].at("size") == 6);
  CHECK(body["files"][1].at("path") == "train.py");

  CHECK(client.Get("/api/v1/runs/no-such-run/snapshot/files")->status == 404);
  CHECK(server.Client().Get("/api/v1/runs/" + id + "/snapshot/files")->status == 401);
}

// `amlc graph --format json`'s output without each resource's spec and digest.
json WithoutSpecs(const std::string& printed) {
  json graph = json::parse(printed);
  for (json& resource : graph.at("resources")) {
    resource.erase("spec");
    resource.erase("digest");
  }
  return graph;
}

TEST_CASE("dashboard: GET /api/v1/graph is the graph of the specs last applied, as amlc graph prints it less the specs",
          "[server]") {
  SpecDir dir;
  std::string home = dir.str() + "/home";
  dir.Write("specs/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  dir.Write("specs/env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n");
  dir.Write("specs/src/train.py", "print('trained')\n");
  dir.Write("specs/job.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\nname: t\n"
            "experiment_name: exp\ncode: src\ncommand: python train.py\nenvironment: azureml:py:1\ncompute: azureml:local\n");
  // A credential written inline in a spec: a Reader must not read it.
  dir.Write("specs/blob.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json\nname: blob\ntype: azure_blob\n"
            "account_name: acct\ncontainer_name: c\ncredentials:\n  account_key: INLINE-ACCOUNT-KEY\n");
  WorkspaceServerProcess server(home);
  std::string reader = server.UserWithToken("rita", "reader");
  httplib::Client client = server.Client(reader);

  auto none = client.Get("/api/v1/graph");
  REQUIRE(none);
  CHECK(none->status == 404);
  CHECK(none->body.find("no specs have been applied") != std::string::npos);

  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + "/specs --workspace " + home + " > /dev/null 2>&1")) == 0);
  std::string printed;
  REQUIRE(Run(Amlc("graph " + dir.str() + "/specs --format json"), &printed) == 0);
  REQUIRE(printed.find("INLINE-ACCOUNT-KEY") != std::string::npos);  // amlc graph, on the specs' own folder
  auto graph = client.Get("/api/v1/graph");
  REQUIRE(graph);
  CHECK(graph->status == 200);
  CHECK(graph->get_header_value("Content-Type") == "application/json");
  json body = json::parse(graph->body);
  CHECK(body == WithoutSpecs(printed));
  CHECK(graph->body.find("INLINE-ACCOUNT-KEY") == std::string::npos);
  CHECK(ReadFile(home + "/specs-graph.json").find("INLINE-ACCOUNT-KEY") == std::string::npos);
  std::map<std::string, json> by_id;
  for (const json& resource : body.at("resources")) by_id[resource.at("id")] = resource;
  REQUIRE(by_id.size() == 4);
  CHECK(by_id["job/t"].at("kind") == "job");
  CHECK(by_id["job/t"].at("depends_on") == json::array({"compute/local", "environment/py:1"}));
  CHECK(by_id["datastore/blob"].at("type") == "azure_blob");
  CHECK(!by_id["datastore/blob"].contains("spec"));

  // A later apply of other specs records them.
  dir.Write("specs/other/compute.yaml", "$schema: compute.schema.json\nname: second\ntype: local\n");
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + "/specs/other --workspace " + home + " > /dev/null 2>&1")) == 0);
  json second = Body(client.Get("/api/v1/graph"));
  REQUIRE(second.at("resources").size() == 1);
  CHECK(second["resources"][0].at("id") == "compute/second");
  // An apply with nothing to do records its specs too: a workspace applied
  // before amlc kept the graph gets it at its next apply.
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + "/specs --workspace " + home + " > /dev/null 2>&1")) == 0);
  std::filesystem::remove(home + "/specs-graph.json");
  CHECK(client.Get("/api/v1/graph")->status == 404);
  std::string up_to_date;
  REQUIRE(Run(Amlc("apply --auto-approve " + dir.str() + "/specs --workspace " + home), &up_to_date) == 0);
  INFO(up_to_date);
  CHECK(up_to_date.find("No changes") != std::string::npos);
  REQUIRE(Run(Amlc("graph " + dir.str() + "/specs --format json"), &printed) == 0);
  json all = Body(client.Get("/api/v1/graph"));
  CHECK(all == WithoutSpecs(printed));
  CHECK(all.at("resources").size() == 5);
  // Destroy leaves the graph as it was.
  REQUIRE(Run(Amlc("destroy --auto-approve " + dir.str() + "/specs/other --workspace " + home + " > /dev/null 2>&1")) == 0);
  CHECK(Body(client.Get("/api/v1/graph")) == all);

  CHECK(server.Client().Get("/api/v1/graph")->status == 401);
}

}  // namespace
}  // namespace amlc::testing
