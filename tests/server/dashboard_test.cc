// The dashboard's files and the API route its pages add, against a real
// `amlc server`. The served folder is given with AMLC_DASHBOARD_DIR (the
// server inherits this process's environment), so these tests do not depend
// on whether npm built the real bundle; tests/browser drives the real one.
#include <stdlib.h>

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

}  // namespace
}  // namespace amlc::testing
