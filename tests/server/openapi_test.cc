// server/openapi.json describes exactly the routes the server registers,
// both ways, and the server serves that file as it is.
#include <catch2/catch.hpp>
#include <set>

#include "server/api_route.h"
#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

TEST_CASE("server/openapi.json lists exactly the registered routes and methods", "[server]") {
  json document = json::parse(ReadFile(SourcePath("server/openapi.json")));
  std::set<std::string> documented;
  for (auto& [path, methods] : document["paths"].items()) {
    for (auto& [method, operation] : methods.items()) documented.insert(Lower(method) + " " + path);
  }
  std::set<std::string> registered = {std::string("get ") + server::kOpenApiPath};
  for (const server::ApiRoute& route : server::AllRoutes()) {
    INFO(route.method << " " << route.path);
    CHECK(registered.insert(Lower(route.method) + " " + route.path).second);  // no route twice
    // The role the document states is the one the server checks.
    CHECK(document["paths"][route.path][Lower(route.method)]["x-amlc-role"] == runtime::RoleName(route.needed));
  }
  std::vector<std::string> undocumented, unregistered;
  std::set_difference(registered.begin(), registered.end(), documented.begin(), documented.end(),
                      std::back_inserter(undocumented));
  std::set_difference(documented.begin(), documented.end(), registered.begin(), registered.end(),
                      std::back_inserter(unregistered));
  CHECK(undocumented == std::vector<std::string>{});
  CHECK(unregistered == std::vector<std::string>{});
}

TEST_CASE("workspace server: /api/v1/openapi.json is the checked-in file, readable without a token", "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  auto answer = server.Client().Get("/api/v1/openapi.json");
  REQUIRE(answer);
  CHECK(answer->status == 200);
  CHECK(answer->body == ReadFile(SourcePath("server/openapi.json")));
}

}  // namespace
}  // namespace amlc::testing
