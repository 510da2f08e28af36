// Plan, apply and destroy over the API of a real `amlc server`: the spec
// folder goes up as content blobs (only those the server lacks), apply
// streams the events of `amlc apply --json`, and roles decide who may.
#include <catch2/catch.hpp>
#include <sstream>

#include "base/digest.h"
#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// path -> SHA-256 of every file under `folder`.
json ManifestOf(const std::string& folder) {
  json manifest = json::object();
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    std::string relative = fs::relative(entry.path(), folder).generic_string();
    if (relative.rfind(".amlc/", 0) == 0) continue;
    manifest[relative] = Sha256Hex(ReadFile(entry.path()));
  }
  return manifest;
}

// Uploads what the server lacks; returns how many blobs went up.
int Upload(httplib::Client& client, const std::string& folder, const json& manifest) {
  json digests = json::array();
  std::map<std::string, std::string> path_of;
  for (auto& [path, digest] : manifest.items()) {
    digests.push_back(digest);
    path_of[digest.get<std::string>()] = path;
  }
  auto missing = client.Post("/api/v1/blobs/missing", json{{"digests", digests}}.dump(), "application/json");
  REQUIRE(missing);
  REQUIRE(missing->status == 200);
  int sent = 0;
  json lacking = Body(missing)["missing"];  // a named value: a loop over a temporary's member dangles
  for (const json& digest : lacking) {
    auto put = client.Put("/api/v1/blobs/" + digest.get<std::string>(),
                          ReadFile(fs::path(folder) / path_of[digest.get<std::string>()]), "application/octet-stream");
    REQUIRE(put);
    REQUIRE(put->status == 201);
    ++sent;
  }
  return sent;
}

// The NDJSON events of an apply or destroy answer.
std::vector<json> Events(const httplib::Result& result) {
  REQUIRE(result);
  INFO(result->body);
  REQUIRE(result->status == 200);
  CHECK(result->get_header_value("Content-Type") == "application/x-ndjson");
  std::vector<json> events;
  std::istringstream lines(result->body);
  for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
  REQUIRE(!events.empty());
  return events;
}

TEST_CASE("workspace server: a Contributor applies the quickstart remotely and the endpoint answers, an Owner destroys it",
          "[server][deploy]") {
  SpecDir dir;
  std::string specs = SourcePath("examples/quickstart");
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string owner_token = server.UserWithToken("alice", "owner");
  httplib::Client bob = server.Client(server.UserWithToken("bob", "contributor"));
  httplib::Client alice = server.Client(owner_token);
  json manifest = ManifestOf(specs);
  json request = {{"manifest", manifest}};

  // Until uploaded, the server says which blobs it lacks; only those go up.
  auto early = bob.Post("/api/v1/plan", request.dump(), "application/json");
  REQUIRE(early);
  CHECK(early->status == 409);
  CHECK(Upload(bob, specs, manifest) == static_cast<int>(manifest.size()));
  CHECK(Upload(bob, specs, manifest) == 0);

  auto plan = bob.Post("/api/v1/plan", request.dump(), "application/json");
  REQUIRE(plan);
  REQUIRE(plan->status == 200);
  CHECK(Body(plan)["format"] == "amlc-plan-1");

  struct DestroyAtEnd {  // no endpoint host outlives the test, whatever fails
    const WorkspaceServerProcess& server;
    std::string folder;
    ~DestroyAtEnd() {
      if (!folder.empty()) server.Cli("destroy --auto-approve " + folder + " > /dev/null 2>&1");
    }
  } cleanup{server, ""};
  for (const auto& entry : fs::directory_iterator(server.home() + "/uploads")) cleanup.folder = entry.path().string();

  std::vector<json> events = Events(bob.Post("/api/v1/apply", request.dump(), "application/json"));
  CHECK(events.front()["type"] == "plan");
  CHECK(events.front()["schema"] == "amlc-apply-events/1");
  CHECK(events.back()["type"] == "summary");
  CHECK(events.back()["outcome"] == "complete");
  CHECK(events.back()["exit_code"] == 0);
  std::string events_file = dir.str() + "/events.ndjson";
  {
    std::ofstream out(events_file);
    for (const json& event : events) out << event.dump() << "\n";
  }
  CHECK(Run("/usr/bin/python3 " + SourcePath("tests/cli/check_apply_events.py") + " " +
            SourcePath("cli/apply_events.schema.json") + " " + events_file) == 0);

  // The endpoint answers, with the key a Contributor may read.
  json deployments = Body(bob.Get("/api/v1/deployments"));
  REQUIRE(deployments.size() == 1);
  std::string key = Body(bob.Get("/api/v1/deployments/blue/keys"))["primary"];
  REQUIRE(!key.empty());
  std::string out;
  Run("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'Authorization: Bearer " + key +
          "' --data @" + SourcePath("examples/quickstart/sample-request.json") + " " +
          deployments[0]["scoring_uri"].get<std::string>(),
      &out);
  CHECK(out == "200");

  // A second apply changes nothing; a Contributor may not destroy.
  std::vector<json> again = Events(bob.Post("/api/v1/apply", request.dump(), "application/json"));
  CHECK(again.back()["outcome"] == "no_changes");
  auto refused = bob.Post("/api/v1/destroy", request.dump(), "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(Body(refused)["message"] == "destroying what specs created needs the owner role; bob is a contributor");

  std::vector<json> destroyed = Events(alice.Post("/api/v1/destroy", request.dump(), "application/json"));
  CHECK(destroyed.back()["outcome"] == "complete");
  CHECK(Body(alice.Get("/api/v1/deployments")) == json::array());
  cleanup.folder.clear();
}

TEST_CASE("workspace server: a Reader's apply, destroy and uploads get 403 and change nothing", "[server]") {
  SpecDir dir;
  dir.Write("specs/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  WorkspaceServerProcess server(dir.str() + "/home");
  httplib::Client alice = server.Client(server.UserWithToken("alice", "owner"));
  httplib::Client rita = server.Client(server.UserWithToken("rita", "reader"));
  json manifest = ManifestOf(dir.str() + "/specs");
  json request = {{"manifest", manifest}};
  json serial_before = Body(alice.Get("/api/v1/status"))["state_serial"];

  std::string digest = manifest["compute.yaml"];
  auto missing = rita.Post("/api/v1/blobs/missing", json{{"digests", {digest}}}.dump(), "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 403);
  auto put = rita.Put("/api/v1/blobs/" + digest, ReadFile(dir.str() + "/specs/compute.yaml"), "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 403);
  CHECK(!fs::exists(server.home() + "/datastore/snapshots/blobs/sha256/" + digest.substr(0, 2) + "/" + digest));

  REQUIRE(Upload(alice, dir.str() + "/specs", manifest) == 1);
  auto apply = rita.Post("/api/v1/apply", request.dump(), "application/json");
  REQUIRE(apply);
  CHECK(apply->status == 403);
  CHECK(Body(apply)["message"] == "applying specs needs the contributor role; rita is a reader");
  auto destroy = rita.Post("/api/v1/destroy", request.dump(), "application/json");
  REQUIRE(destroy);
  CHECK(destroy->status == 403);
  auto plan = rita.Post("/api/v1/plan", request.dump(), "application/json");  // reading: allowed
  REQUIRE(plan);
  CHECK(plan->status == 200);

  CHECK(Body(alice.Get("/api/v1/status"))["state_serial"] == serial_before);
  std::string resources;
  REQUIRE(Run("sqlite3 " + server.home() + "/state.db 'SELECT count(*) FROM resources'", &resources) == 0);
  CHECK(resources == "0\n");
}

TEST_CASE("workspace server: only an Owner's apply may raise a role in the workspace spec", "[server]") {
  SpecDir dir;
  auto workspace_spec = [&](const std::string& carol_role) {
    dir.Write("specs/workspace.yaml", "$schema: workspace.schema.json\nname: team\nroles:\n  owner: [alice]\n  " +
                                          carol_role + ": [carol]\n");
  };
  workspace_spec("reader");
  WorkspaceServerProcess server(dir.str() + "/home");
  httplib::Client alice = server.Client(server.UserWithToken("alice", "owner"));
  httplib::Client bob = server.Client(server.UserWithToken("bob", "contributor"));
  json first = ManifestOf(dir.str() + "/specs");
  Upload(bob, dir.str() + "/specs", first);
  // Declaring roles for the first time takes power away: a Contributor may.
  CHECK(Events(bob.Post("/api/v1/apply", json{{"manifest", first}}.dump(), "application/json")).back()["outcome"] ==
        "complete");

  workspace_spec("contributor");
  json raised = ManifestOf(dir.str() + "/specs");
  Upload(bob, dir.str() + "/specs", raised);
  auto refused = bob.Post("/api/v1/apply", json{{"manifest", raised}}.dump(), "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(Body(refused)["message"] ==
        "raising a role in the workspace spec (carol: reader -> contributor) needs the owner role; bob is a contributor");
  CHECK(Events(alice.Post("/api/v1/apply", json{{"manifest", raised}}.dump(), "application/json")).back()["outcome"] ==
        "complete");
}

}  // namespace
}  // namespace amlc::testing
