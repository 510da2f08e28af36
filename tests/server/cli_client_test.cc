// The CLI as a client of a real `amlc server` (--server / AMLC_SERVER with
// AMLC_TOKEN or the credentials file of `amlc login`): plan, apply, destroy
// and the runs family print what they print on the local folder, and the
// server's refusals are exit status 3 naming what is missing.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <regex>

#include "tests/server/server_fixtures.h"

namespace amlc::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

// `amlc ARGS` with `env` ("AMLC_SERVER=... AMLC_TOKEN=..."), stdout and stderr apart.
Output AmlcWith(const SpecDir& dir, const std::string& env, const std::string& args) {
  Output result;
  std::string err_file = dir.str() + "/stderr.txt";
  result.status = Run("env -u AMLC_SERVER -u AMLC_TOKEN " + env + " " + Amlc(args) + " 2> " + err_file, &result.out);
  result.err = ReadFile(err_file);
  return result;
}

std::string ServerUrl(const WorkspaceServerProcess& server) {
  return "http://127.0.0.1:" + std::to_string(server.port());
}

// The same command remotely with `token`, and locally on the server's folder.
Output Remote(const SpecDir& dir, const WorkspaceServerProcess& server, const std::string& token,
              const std::string& args) {
  return AmlcWith(dir, "AMLC_SERVER=" + ServerUrl(server) + " AMLC_TOKEN=" + token, args);
}
Output Local(const SpecDir& dir, const WorkspaceServerProcess& server, const std::string& args) {
  return AmlcWith(dir, "", args + " --workspace " + server.home());
}

// The event types of an NDJSON stream, in order.
std::vector<std::string> EventTypes(const std::string& stream) {
  std::vector<std::string> types;
  std::istringstream lines(stream);
  for (std::string line; std::getline(lines, line);) types.push_back(json::parse(line).value("type", ""));
  return types;
}

TEST_CASE("cli client: a Contributor applies remotely and every runs command prints what it prints locally",
          "[server][cli]") {
  SpecDir dir;
  WriteTwoJobs(dir);
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string bob = server.UserWithToken("bob", "contributor");
  std::string rita = server.UserWithToken("rita", "reader");
  std::string specs = dir.str() + "/specs";

  Output applied = Remote(dir, server, bob, "apply --auto-approve " + specs);
  INFO(applied.out << applied.err);
  REQUIRE(applied.status == 0);
  CHECK(applied.out.find("Plan: ") != std::string::npos);
  CHECK(std::regex_search(applied.out, std::regex("Apply complete: 4 succeeded, 0 failed, 0 skipped\\.")));
  CHECK(applied.out.find("job/high") != std::string::npos);

  json runs = json::parse(Local(dir, server, "runs list --json").out);
  REQUIRE(runs.size() == 2);
  // A registered model, for the registry's twins.
  REQUIRE(Local(dir, server, "models register --name clf --framework sklearn --tag stage=dev --path " + specs +
                                 "/src/low.py").status == 0);
  std::string id = runs[0]["id"];
  for (const std::string& args : std::vector<std::string>
       {"runs list --json", "runs list", "runs list --where 'metrics.accuracy > 0.9' --json",
        "runs list --order-by 'metrics.accuracy desc'", "runs show " + id + " --json", "runs show " + id,
        "metrics " + id + " --json", "metrics " + id + " --name loss", "runs logs " + id, "activities --json",
        "experiments list", "experiments list -o yaml", "endpoints list --json", "endpoints list -o tsv",
        "models list", "models list --json", "models list -o tsv --tag stage --framework sklearn",
        "models list --name nope", "models show clf", "models show clf:1 --json", "models show clf@latest",
        "models show clf:7", "models show nope", "images list", "images list -o yaml", "images show nope",
        "plan " + specs, "plan --json " + specs, "plan --detailed-exitcode " + specs}) {
    // A Reader may plan, but uploading the specs needs a Contributor (server/README.md).
    Output remote = Remote(dir, server, args.rfind("plan", 0) == 0 ? bob : rita, args);
    Output local = Local(dir, server, args);
    INFO("amlc " << args << "\nremote stderr: " << remote.err << "\nlocal stderr: " << local.err);
    CHECK(remote.status == local.status);
    if (args.rfind("plan --json", 0) == 0) {  // where the specs were read from differs, nothing else
      json remote_plan = json::parse(remote.out), local_plan = json::parse(local.out);
      for (json* plan : {&remote_plan, &local_plan}) plan->erase("specs_dir"), plan->erase("workspace");
      CHECK(remote_plan == local_plan);
      continue;
    }
    CHECK(remote.out == local.out);
    CHECK((!remote.out.empty() || remote.status != 0));
  }

  // A second apply, as a stream of events: nothing to do, as locally.
  Output again = Remote(dir, server, bob, "apply --auto-approve --json " + specs);
  CHECK(again.status == 0);
  CHECK(EventTypes(again.out) == EventTypes(Local(dir, server, "apply --auto-approve --json " + specs).out));
  CHECK(EventTypes(again.out) == std::vector<std::string>{"plan", "summary"});

  // Errors keep their exit status and message.
  Output missing = Remote(dir, server, rita, "runs show no-such-run");
  CHECK(missing.status == Local(dir, server, "runs show no-such-run").status);
  CHECK(missing.err == "amlc: error: no run 'no-such-run' in this workspace\n");
  // A workspace command without a remote twin says so instead of reading a local folder.
  Output secrets = Remote(dir, server, rita, "secrets list");
  CHECK(secrets.status == 2);
  CHECK(secrets.err.find("'amlc secrets list' works on a local workspace folder only") != std::string::npos);
}

TEST_CASE("cli client: a Reader's apply is exit status 3 and changes nothing; a revoked token is refused",
          "[server][cli]") {
  SpecDir dir;
  dir.Write("specs/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string alice = server.UserWithToken("alice", "owner");
  std::string rita = server.UserWithToken("rita", "reader");
  std::string bob = server.UserWithToken("bob", "contributor");

  Output refused = Remote(dir, server, rita, "apply --auto-approve " + dir.str() + "/specs");
  CHECK(refused.status == 3);
  CHECK(refused.err.find("needs the contributor role; rita is a reader") != std::string::npos);
  Output json_refused = Remote(dir, server, rita, "destroy --auto-approve " + dir.str() + "/specs");
  CHECK(json_refused.status == 3);
  std::string resources;
  REQUIRE(Run("sqlite3 " + server.home() + "/state.db 'SELECT count(*) FROM resources'", &resources) == 0);
  CHECK(resources == "0\n");
  CHECK(!fs::exists(server.home() + "/uploads"));

  std::string token_id = Body(server.Client(bob).Get("/api/v1/whoami"))["token_id"].dump();
  REQUIRE(Remote(dir, server, bob, "runs list --json").status == 0);
  auto revoked = server.Client(alice).Delete("/api/v1/tokens/" + token_id);
  REQUIRE(revoked);
  REQUIRE(revoked->status / 100 == 2);
  Output after = Remote(dir, server, bob, "runs list --json");
  CHECK(after.status == 3);
  CHECK(after.err.find("does not accept this token") != std::string::npos);
  CHECK(after.out.empty());
}

TEST_CASE("cli client: login saves the token 0600, a file others may read is refused, logout forgets it",
          "[server][cli]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string rita = server.UserWithToken("rita", "reader");
  dir.Write("token.txt", rita + "\n");
  dir.Write("wrong.txt", "not-a-token-of-this-server\n");
  std::string config = "XDG_CONFIG_HOME=" + dir.str() + "/config";
  std::string url = ServerUrl(server);
  std::string credentials = dir.str() + "/config/amlc/credentials";

  Output wrong = AmlcWith(dir, config, "login --server " + url + " --token-file " + dir.str() + "/wrong.txt");
  CHECK(wrong.status == 3);
  CHECK(!fs::exists(credentials));

  Output login = AmlcWith(dir, config, "login --server " + url + " --token-file " + dir.str() + "/token.txt");
  INFO(login.err);
  REQUIRE(login.status == 0);
  CHECK(login.out.find("as rita (reader)") != std::string::npos);
  struct stat info {};
  REQUIRE(::stat(credentials.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK(ReadFile(credentials).find(rita) != std::string::npos);

  // --server with the saved token, no AMLC_TOKEN.
  CHECK(AmlcWith(dir, config, "--server " + url + " runs list --json").out == "[]\n");

  ::chmod(credentials.c_str(), 0644);
  Output unsafe = AmlcWith(dir, config + " AMLC_SERVER=" + url, "runs list --json");
  CHECK(unsafe.status == 2);
  CHECK(unsafe.err.find("may be read by group or others (mode 0644)") != std::string::npos);
  CHECK(unsafe.err.find("chmod 600 " + credentials) != std::string::npos);
  ::chmod(credentials.c_str(), 0600);

  CHECK(AmlcWith(dir, config, "logout --server " + url).status == 0);
  Output forgotten = AmlcWith(dir, config + " AMLC_SERVER=" + url, "runs list --json");
  CHECK(forgotten.status == 2);
  CHECK(forgotten.err.find("no API token for " + url) != std::string::npos);
}

TEST_CASE("cli client: a Contributor applies the quickstart with --server and the endpoint answers",
          "[server][cli][deploy]") {
  SpecDir dir;
  fs::copy(SourcePath("examples/quickstart"), dir.path() / "quickstart", fs::copy_options::recursive);
  fs::remove_all(dir.path() / "quickstart/.amlc");
  std::string specs = dir.str() + "/quickstart";
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string alice = server.UserWithToken("alice", "owner");
  std::string bob = server.UserWithToken("bob", "contributor");
  struct DestroyAtEnd {  // no endpoint host outlives the test, whatever fails
    const SpecDir& dir;
    const WorkspaceServerProcess& server;
    std::string owner;
    std::string specs;
    ~DestroyAtEnd() { Remote(dir, server, owner, "destroy --auto-approve " + specs); }
  } cleanup{dir, server, alice, specs};

  Output applied = Remote(dir, server, bob, "apply --auto-approve " + specs);
  INFO(applied.out << applied.err);
  REQUIRE(applied.status == 0);
  CHECK(applied.out.find("Apply complete") != std::string::npos);

  httplib::Client client = server.Client(bob);
  json deployments = Body(client.Get("/api/v1/deployments"));
  REQUIRE(deployments.size() == 1);
  std::string key = Body(client.Get("/api/v1/deployments/blue/keys"))["primary"];
  std::string code;
  Run("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'Authorization: Bearer " + key +
          "' --data @" + SourcePath("examples/quickstart/sample-request.json") + " " +
          deployments[0]["scoring_uri"].get<std::string>(),
      &code);
  CHECK(code == "200");

  // The deployments' twins print what the local commands print.
  std::string rita = server.UserWithToken("rita", "reader");
  for (const std::string& args : std::vector<std::string>
       {"deployments list", "deployments list -o json", "deployments keys blue", "deployments keys blue --json",
        "endpoints list",
        "deployments show nope", "deployments keys nope"}) {
    Output remote = Remote(dir, server, bob, args);
    Output local = Local(dir, server, args);
    INFO("amlc " << args << "\nremote stderr: " << remote.err << "\nlocal stderr: " << local.err);
    CHECK(remote.status == local.status);
    CHECK(remote.out == local.out);
  }
  CHECK(Remote(dir, server, rita, "deployments show blue --json").status == 0);
  // Telemetry is for the workspace's members: remotely the token's role decides (a Reader may),
  // locally the OS user's role in the workspace spec, which this test's user lacks.
  Output telemetry = Remote(dir, server, rita, "deployments telemetry blue --json");
  CHECK(telemetry.status == 0);
  CHECK(json::parse(telemetry.out).is_array());
  CHECK(Remote(dir, server, rita, "deployments telemetry blue -o tsv").out.rfind("time\trequest_id\t", 0) == 0);
  // Keys are for Contributors, a new key for Owners: refused, exit status 3, nothing changed.
  Output reader_keys = Remote(dir, server, rita, "deployments keys blue");
  CHECK(reader_keys.status == 3);
  CHECK(reader_keys.out.empty());
  Output regenerate = Remote(dir, server, bob, "deployments keys blue --regenerate primary");
  CHECK(regenerate.status == 3);
  CHECK(regenerate.err.find("owner") != std::string::npos);
  CHECK(Body(client.Get("/api/v1/deployments/blue/keys"))["primary"] == key);
  Output regenerated = Remote(dir, server, alice, "deployments keys blue --regenerate secondary --json");
  CHECK(regenerated.status == 0);
  CHECK(json::parse(regenerated.out)["primary"] == key);
  CHECK(json::parse(regenerated.out) == Body(client.Get("/api/v1/deployments/blue/keys")));

  Output denied = Remote(dir, server, bob, "destroy --auto-approve " + specs);
  CHECK(denied.status == 3);
  CHECK(denied.err.find("destroying what specs created needs the owner role; bob is a contributor") !=
        std::string::npos);
  Output destroyed = Remote(dir, server, alice, "destroy --auto-approve " + specs);
  CHECK(destroyed.status == 0);
  CHECK(Body(client.Get("/api/v1/deployments")) == json::array());
}

}  // namespace
}  // namespace amlc::testing
