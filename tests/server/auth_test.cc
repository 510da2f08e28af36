// Identity and roles against a real `amlc server`: tokens are checked on
// every call, roles per route, and every call is in the audit log.
#include <catch2/catch.hpp>

#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

TEST_CASE("workspace server: forged, expired, revoked and query-string tokens are refused with 401 or 400",
          "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string owner = server.UserWithToken("alice", "owner");
  std::string expiring = server.UserWithToken("carol", "reader", "1s");

  auto ok = server.Client(owner).Get("/api/v1/whoami");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(Body(ok) == json{{"user", "alice"}, {"role", "owner"}, {"token_id", 1}});

  auto none = server.Client().Get("/api/v1/runs");
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(none->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);

  // Same shape as a real token, never issued.
  auto forged = server.Client("amlc_" + std::string(40, 'a')).Get("/api/v1/runs");
  REQUIRE(forged);
  CHECK(forged->status == 401);
  CHECK(Body(forged)["message"].get<std::string>().find("not known") != std::string::npos);

  // A real token in the query string is refused, even with a valid header.
  auto in_query = server.Client(owner).Get("/api/v1/runs?token=" + owner);
  REQUIRE(in_query);
  CHECK(in_query->status == 400);
  CHECK(Body(in_query)["message"].get<std::string>().find("query string") != std::string::npos);
  auto access_token = server.Client().Get("/api/v1/runs?access_token=" + owner);
  REQUIRE(access_token);
  CHECK(access_token->status == 400);

  // carol's token lives one second: wait for the clock, not a fixed time.
  int expired_status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto answer = server.Client(expiring).Get("/api/v1/whoami");
    REQUIRE(answer);
    expired_status = answer->status;
    if (expired_status == 401) {
      CHECK(Body(answer)["message"].get<std::string>().find("expired") != std::string::npos);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(expired_status == 401);

  // An owner revokes bob's token over the API: its next call gets 401.
  std::string bob = server.UserWithToken("bob", "contributor");
  REQUIRE(server.Client(bob).Get("/api/v1/runs")->status == 200);
  json tokens = Body(server.Client(owner).Get("/api/v1/tokens?user=bob"));
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0]["state"] == "active");
  CHECK(bob.rfind(tokens[0]["prefix"].get<std::string>(), 0) == 0);
  auto revoked = server.Client(owner).Delete("/api/v1/tokens/" + std::to_string(tokens[0]["id"].get<int>()));
  REQUIRE(revoked);
  CHECK(revoked->status == 200);
  auto after = server.Client(bob).Get("/api/v1/runs");
  REQUIRE(after);
  CHECK(after->status == 401);
  CHECK(Body(after)["message"].get<std::string>().find("revoked") != std::string::npos);
  CHECK(Body(server.Client(owner).Get("/api/v1/tokens?user=bob"))[0]["state"] == "revoked");
}

TEST_CASE("workspace server: the state store holds token hashes only, never a secret", "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string token = server.UserWithToken("alice", "owner");
  CHECK(token.rfind("amlc_", 0) == 0);
  CHECK(token.size() == 45);
  std::string dump;
  REQUIRE(Run("sqlite3 " + server.home() + "/state.db .dump", &dump) == 0);
  CHECK(dump.find("api_tokens") != std::string::npos);
  CHECK(dump.find(token) == std::string::npos);
  CHECK(dump.find(token.substr(5)) == std::string::npos);
}

TEST_CASE("workspace server: a Reader's writes, secret read and key read get 403 naming the role and change nothing",
          "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string owner = server.UserWithToken("alice", "owner");
  std::string reader = server.UserWithToken("rita", "reader");
  REQUIRE(server.Client(owner).Put("/api/v1/secrets/db-password", R"({"value": "s3cret"})", "application/json")->status ==
          200);
  std::string users_before, secrets_before;
  REQUIRE(server.Cli("users list --json", &users_before) == 0);
  REQUIRE(server.Cli("secrets list --json", &secrets_before) == 0);

  httplib::Client client = server.Client(reader);
  auto secrets = client.Get("/api/v1/secrets");
  REQUIRE(secrets);
  CHECK(secrets->status == 403);
  CHECK(Body(secrets)["message"] == "listing secrets needs the owner role; rita is a reader");
  auto set_secret = client.Put("/api/v1/secrets/db-password", R"({"value": "mine"})", "application/json");
  REQUIRE(set_secret);
  CHECK(set_secret->status == 403);
  auto keys = client.Get("/api/v1/deployments/blue/keys");
  REQUIRE(keys);
  CHECK(keys->status == 403);
  CHECK(Body(keys)["message"] == "reading a deployment's keys needs the contributor role; rita is a reader");
  auto cancel = client.Post("/api/v1/runs/some-run/cancel");
  REQUIRE(cancel);
  CHECK(cancel->status == 403);
  auto promote = client.Put("/api/v1/users/rita", R"({"role": "owner"})", "application/json");
  REQUIRE(promote);
  CHECK(promote->status == 403);
  auto add = client.Post("/api/v1/users", R"({"name": "mallory", "role": "owner"})", "application/json");
  REQUIRE(add);
  CHECK(add->status == 403);
  auto token_for_alice = client.Post("/api/v1/tokens", R"({"user": "alice"})", "application/json");
  REQUIRE(token_for_alice);
  CHECK(token_for_alice->status == 403);
  auto audit = client.Get("/api/v1/audit");
  REQUIRE(audit);
  CHECK(audit->status == 403);

  std::string users_after, secrets_after;
  REQUIRE(server.Cli("users list --json", &users_after) == 0);
  REQUIRE(server.Cli("secrets list --json", &secrets_after) == 0);
  CHECK(users_after == users_before);
  CHECK(secrets_after == secrets_before);
  std::string tokens;
  REQUIRE(server.Cli("tokens list --user alice --json", &tokens) == 0);
  CHECK(json::parse(tokens).size() == 1);
}

TEST_CASE("workspace server: the audit log lists each call with user, route template, status and client",
          "[server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string owner = server.UserWithToken("alice", "owner");
  std::string reader = server.UserWithToken("rita", "reader");
  REQUIRE(server.Client(reader).Get("/api/v1/runs/no-such-run")->status == 404);
  REQUIRE(server.Client(reader).Get("/api/v1/secrets")->status == 403);
  REQUIRE(server.Client("amlc_" + std::string(40, '0')).Get("/api/v1/runs")->status == 401);
  REQUIRE(server.Client().Get("/api/v1/runs?token=x")->status == 400);
  REQUIRE(server.Client(reader).Get("/api/v1/nothing-here")->status == 404);

  auto audit = server.Client(owner).Get("/api/v1/audit?limit=10");
  REQUIRE(audit);
  REQUIRE(audit->status == 200);
  json entries = Body(audit);
  REQUIRE(entries.size() == 5);  // newest first; this call is audited after it answers
  CHECK(entries[4]["user"] == "rita");
  CHECK(entries[4]["route"] == "/api/v1/runs/{id}");
  CHECK(entries[4]["target"] == "no-such-run");
  CHECK(entries[4]["status"] == 404);
  CHECK(entries[4]["client"] == "127.0.0.1");
  CHECK(entries[3]["route"] == "/api/v1/secrets");
  CHECK(entries[3]["status"] == 403);
  CHECK(entries[2]["user"] == "");
  CHECK(entries[2]["status"] == 401);
  CHECK(entries[1]["status"] == 400);
  CHECK(entries[0]["route"] == "/api/v1/nothing-here");
  CHECK(entries[0]["status"] == 404);

  // The CLI reads the same log, this last call included.
  std::string out;
  REQUIRE(server.Cli("audit --json", &out) == 0);
  json cli = json::parse(out);
  REQUIRE(cli.size() == 6);
  CHECK(cli[0]["route"] == "/api/v1/audit");
  CHECK(cli[0]["user"] == "alice");
  CHECK(cli[1] == entries[0]);
}

TEST_CASE("amlc server refuses plain HTTP off loopback, before binding", "[server]") {
  SpecDir dir;
  std::string out;
  int status = Run(Amlc("server --listen 0.0.0.0:0 --workspace " + dir.str() + "/home 2>&1"), &out);
  CHECK(status == 1);
  CHECK(out.find("refusing to listen on 0.0.0.0:0 over plain HTTP") != std::string::npos);
  CHECK(out.find("--tls-cert") != std::string::npos);
  CHECK(Run(Amlc("server --listen nonsense --workspace " + dir.str() + "/home 2>/dev/null")) == 2);
}

}  // namespace
}  // namespace amlc::testing
