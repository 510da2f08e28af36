// The CLI as a client of a real `amlc server` for who-may-do-what and the
// reconciler's record: secrets, users, tokens and audit print remotely what
// they print on the workspace folder, with the server's roles enforced (a
// Reader gets exit status 3 and changes nothing); syncs list|show and status
// show the rows a reconciler working on the same workspace shows.
#include <catch2/catch.hpp>

#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;

using Output = CliOutput;

// Runs `args` both ways and checks they print the same and end the same.
void CheckSame(const SpecDir& dir, const WorkspaceServerProcess& server, const std::string& token,
               const std::string& args) {
  Output remote = Remote(dir, server, token, args);
  Output local = Local(dir, server, args);
  INFO("amlc " << args << "\nremote stderr: " << remote.err << "\nlocal stderr: " << local.err);
  CHECK(remote.status == local.status);
  CHECK(remote.out == local.out);
  CHECK((!remote.out.empty() || remote.status != 0));
}

TEST_CASE("cli client: secrets, users, tokens and audit print remotely what they print locally", "[server][cli]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string alice = server.UserWithToken("alice", "owner");
  std::string rita = server.UserWithToken("rita", "reader");

  CheckSame(dir, server, alice, "secrets list");  // none yet
  Output set = Remote(dir, server, alice, "secrets set db-password --from-env VALUE", "VALUE=hunter2");
  INFO(set.err);
  REQUIRE(set.status == 0);
  CHECK(set.out == Local(dir, server, "secrets set db-password --from-env VALUE", "VALUE=hunter2").out);
  CHECK(set.out.find("Secret 'db-password' set in workspace ") == 0);
  CHECK(Remote(dir, server, alice, "secrets set api-key --from-env VALUE --json", "VALUE=k").out ==
        json({{"name", "api-key"}, {"action", "set"}, {"workspace", server.home()}}).dump() + "\n");
  for (const std::string& args : std::vector<std::string>{
           "secrets list", "secrets list --json", "secrets list -o tsv", "users list", "users list -o json",
           "users list -o yaml", "tokens list", "tokens list --user rita -o tsv", "tokens list --json"}) {
    CheckSame(dir, server, alice, args);
  }
  // Values never come back, not even to an Owner.
  CHECK(Remote(dir, server, alice, "secrets list --json").out.find("hunter2") == std::string::npos);
  // An empty value or a bad name is refused before any call, as locally.
  CHECK(Remote(dir, server, alice, "secrets set empty --from-env VALUE", "VALUE=").status == 2);
  CHECK(Remote(dir, server, alice, "secrets set 'bad name' --from-env VALUE", "VALUE=x").status == 2);

  // The audit log: the local read sees the remote one's own call as its newest entry.
  Output remote_audit = Remote(dir, server, alice, "audit --limit 20 --json");
  Output local_audit = Local(dir, server, "audit --limit 21 --json");
  REQUIRE(remote_audit.status == 0);
  json remote_rows = json::parse(remote_audit.out), local_rows = json::parse(local_audit.out);
  REQUIRE(local_rows.size() == remote_rows.size() + 1);
  CHECK(local_rows[0]["route"] == "/api/v1/audit");
  local_rows.erase(local_rows.begin());
  CHECK(remote_rows == local_rows);
  CHECK(Remote(dir, server, alice, "audit -o tsv --limit 1").out.rfind("time\tuser\tmethod\troute\t", 0) == 0);

  // Changes: each prints what the local command prints.
  Output added = Remote(dir, server, alice, "users add carol --role reader");
  CHECK(added.status == 0);
  CHECK(added.out == "Added user carol as reader. Give them a token: amlc tokens create --user carol\n");
  Output role = Remote(dir, server, alice, "users set-role carol --role contributor --json");
  CHECK(json::parse(role.out) == json({{"name", "carol"}, {"role", "contributor"}}));
  CHECK(Remote(dir, server, alice, "users set-role carol --role reader").out == "carol is now a reader.\n");
  Output token = Remote(dir, server, alice, "tokens create --user carol --name ci --expires 30d --json");
  REQUIRE(token.status == 0);
  json issued = json::parse(token.out);
  std::string carol = issued["token"];
  CHECK(issued["user"] == "carol");
  CHECK(issued["name"] == "ci");
  CHECK(Remote(dir, server, carol, "tokens list --json").status == 0);
  Output text_token = Remote(dir, server, alice, "tokens create --user carol");
  CHECK(text_token.out.find("It is shown this once and stored only as a hash.") != std::string::npos);
  std::string id = issued["id"].dump();
  Output revoked = Remote(dir, server, alice, "tokens revoke " + id);
  CHECK(revoked.out == "Revoked token " + id + ".\n");
  Output after = Remote(dir, server, carol, "tokens list");
  CHECK(after.status == 3);
  CHECK(after.err.find("does not accept this token") != std::string::npos);
  CHECK(Remote(dir, server, alice, "users remove carol").out == "Removed user carol and revoked their tokens.\n");
  Output deleted = Remote(dir, server, alice, "secrets delete api-key");
  CHECK(deleted.out == "Secret 'api-key' deleted.\n");

  // Names that are not there: the exit status of the local command.
  for (const std::string& args : std::vector<std::string>{"secrets delete api-key", "users set-role nobody --role reader",
                                                          "users remove nobody", "tokens revoke 9999",
                                                          "tokens create --user nobody", "users add rita --role owner",
                                                          "tokens create --user rita --expires soon"}) {
    Output remote = Remote(dir, server, alice, args), local = Local(dir, server, args);
    INFO("amlc " << args << "\nremote stderr: " << remote.err << "\nlocal stderr: " << local.err);
    CHECK(remote.status != 0);
    CHECK(remote.status == local.status);
  }
}

TEST_CASE("cli client: a Reader's secrets, users, others' tokens and audit are exit status 3 and change nothing",
          "[server][cli]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string alice = server.UserWithToken("alice", "owner");
  std::string rita = server.UserWithToken("rita", "reader");
  REQUIRE(Remote(dir, server, alice, "secrets set db --from-env VALUE", "VALUE=v").status == 0);
  std::string alice_id = Body(server.Client(alice).Get("/api/v1/whoami"))["token_id"].dump();
  std::string users = Local(dir, server, "users list --json").out;
  std::string secrets = Local(dir, server, "secrets list --json").out;

  for (auto [args, role] : std::vector<std::pair<std::string, std::string>>{
           {"secrets list", "owner"},
           {"secrets set db --from-env VALUE", "owner"},
           {"secrets delete db", "owner"},
           {"users add mallory --role owner", "owner"},
           {"users list", "owner"},
           {"users set-role rita --role owner", "owner"},
           {"users remove alice", "owner"},
           {"tokens create --user alice", "owner"},
           {"tokens list --user alice", "owner"},
           {"tokens revoke " + alice_id, "owner"},
           {"audit", "owner"}}) {
    Output refused = Remote(dir, server, rita, args, "VALUE=stolen");
    INFO("amlc " << args << "\nstderr: " << refused.err);
    CHECK(refused.status == 3);
    CHECK(refused.out.empty());
    CHECK(refused.err.find("needs the " + role + " role") != std::string::npos);
  }
  CHECK(Local(dir, server, "users list --json").out == users);
  CHECK(Local(dir, server, "secrets list --json").out == secrets);
  CHECK(Remote(dir, server, alice, "tokens list --json").status == 0);  // alice's token still works
  // Her own tokens a Reader may list and make.
  CHECK(Remote(dir, server, rita, "tokens list").status == 0);
  CHECK(Remote(dir, server, rita, "tokens create --user rita --json").status == 0);
  // A forged token: 401, exit status 3.
  Output forged = Remote(dir, server, "amlc_forged_token", "secrets list");
  CHECK(forged.status == 3);
  CHECK(forged.err.find("does not accept this token") != std::string::npos);
}

TEST_CASE("cli client: syncs list|show and status show what a reconciler on the same workspace shows",
          "[server][cli][reconciler]") {
  Origin origin;
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  std::string commit = origin.CommitAndPush("a compute target");
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string rita = server.UserWithToken("rita", "reader");
  ReconcilerProcess reconciler(origin, dir.str() + "/rec", "--interval 1h --workspace " + server.home());
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(commit, 120));
  std::string at_reconciler = " --server " + reconciler.url();

  for (const std::string& args : std::vector<std::string>{"syncs list", "syncs list -o json", "syncs list -o tsv",
                                                          "syncs list --limit 1 -o yaml", "syncs show 1",
                                                          "syncs show 1 --json", "syncs show 999"}) {
    Output remote = Remote(dir, server, rita, args);
    Output local = AmlcWith(dir, "", args + at_reconciler);
    INFO("amlc " << args << "\nremote stderr: " << remote.err << "\nlocal stderr: " << local.err);
    CHECK(remote.status == local.status);
    if (remote.status == 0) CHECK(remote.out == local.out);
  }
  CHECK(Remote(dir, server, rita, "syncs list").out.find(commit.substr(0, 7)) != std::string::npos);

  // status: the workspace server's view, whose last sync and resources are the reconciler's.
  Output status = Remote(dir, server, rita, "status");
  Output reconciler_status = AmlcWith(dir, "", "status" + at_reconciler);
  INFO(status.out << status.err << reconciler_status.out);
  REQUIRE(status.status == 0);
  REQUIRE(reconciler_status.status == 0);
  CHECK(status.out.find("You         rita (reader)\n") != std::string::npos);
  CHECK(status.out.find("Runs        0 queued, 0 running, 0 completed, 0 failed, 0 canceled\n") != std::string::npos);
  for (const std::string& from : {std::string("Commit      "), std::string("Last sync   ")}) {
    size_t at = reconciler_status.out.find(from);
    REQUIRE(at != std::string::npos);
    std::string line = reconciler_status.out.substr(at, reconciler_status.out.find('\n', at) - at + 1);
    CHECK(status.out.find(line) != std::string::npos);
  }
  // Both end with the same table of each resource's sync status and health.
  size_t table = reconciler_status.out.find("\nRESOURCE");
  REQUIRE(table != std::string::npos);
  std::string tail = reconciler_status.out.substr(table);
  REQUIRE(status.out.size() > tail.size());
  CHECK(status.out.substr(status.out.size() - tail.size()) == tail);
  json status_json = json::parse(Remote(dir, server, rita, "status --json").out);
  CHECK(status_json["last_sync"]["commit"] == commit);
  CHECK(status_json["you"]["role"] == "reader");
  // With its own --server, status still asks the reconciler, AMLC_SERVER or not.
  CHECK(Remote(dir, server, rita, "status" + at_reconciler).out == reconciler_status.out);
}

}  // namespace
}  // namespace amlc::testing
