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

using Output = CliOutput;

// The event types of an NDJSON stream, in order.
std::vector<std::string> EventTypes(const std::string& stream) {
  std::vector<std::string> types;
  std::istringstream lines(stream);
  for (std::string line; std::getline(lines, line);) types.push_back(json::parse(line).value("type", ""));
  return types;
}

// runs snapshot --list and -o F.zip remotely print what they print locally; the zips hold the same files.
void CheckSnapshotTwin(const SpecDir& dir, const WorkspaceServerProcess& server, const std::string& token,
                       const std::string& id) {
  for (const std::string& args : std::vector<std::string>{"runs snapshot " + id + " --list", "runs snapshot " + id,
                                                          "runs snapshot nope --list"}) {
    Output remote = Remote(dir, server, token, args), local = Local(dir, server, args);
    INFO("amlc " << args << "\nremote stderr: " << remote.err << "\nlocal stderr: " << local.err);
    CHECK(remote.status == local.status);
    CHECK(remote.out == local.out);
    CHECK(remote.err == local.err);
  }
  Output remote = Remote(dir, server, token, "runs snapshot " + id + " -o " + dir.str() + "/code.zip");
  Output local = Local(dir, server, "runs snapshot " + id + " -o " + dir.str() + "/code.zip");
  CHECK(remote.status == 0);
  CHECK(remote.out == local.out);
  std::string remote_listing, local_listing;
  Run("unzip -Z1 " + dir.str() + "/code.zip | sort", &local_listing);
  REQUIRE(Remote(dir, server, token, "runs snapshot " + id + " -o " + dir.str() + "/code.zip").status == 0);
  Run("unzip -Z1 " + dir.str() + "/code.zip | sort", &remote_listing);
  CHECK(remote_listing == local_listing);
  CHECK(remote_listing.find("low.py") != std::string::npos);
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
        "metrics " + id + " --json", "metrics " + id + " --name loss", "runs logs " + id, "activities --json", "activities", "metrics " + id + " --csv",
        "runs compare " + id + " " + runs[1]["id"].get<std::string>(), "runs compare --only-diff --json " + id + " " + runs[1]["id"].get<std::string>(),
        "lineage " + id, "lineage --json " + id, "lineage clf:1", "lineage nope:9",
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
  Output register_model = Remote(dir, server, rita, "models register --name x --path " + specs + "/src/low.py");
  CHECK(register_model.status == 2);
  CHECK(register_model.err.find("'amlc models register' works on a local workspace folder only") != std::string::npos);

  // runs snapshot: the same file list, and a zip holding the same files.
  CheckSnapshotTwin(dir, server, rita, id);

  // runs download writes the same files, bytes and result remotely (streamed from the server).
  Output remote_download = Remote(dir, server, rita, "runs download " + id + " -o " + dir.str() + "/remote --json");
  Output local_download = Local(dir, server, "runs download " + id + " -o " + dir.str() + "/local --json");
  INFO(remote_download.err << local_download.err);
  REQUIRE(remote_download.status == 0);
  REQUIRE(local_download.status == 0);
  json remote_files = json::parse(remote_download.out), local_files = json::parse(local_download.out);
  CHECK(remote_files["dir"] == dir.str() + "/remote");
  remote_files.erase("dir"), local_files.erase("dir");
  CHECK(remote_files == local_files);
  CHECK(remote_files["files"].size() >= 1);
  for (const json& file : local_files["files"]) {
    std::string path = file;
    CHECK(ReadFile(dir.str() + "/remote/" + path) == ReadFile(dir.str() + "/local/" + path));
  }
  CHECK(ReadFile(dir.str() + "/remote/logs/output.log").find("training") != std::string::npos);
  for (const std::string& args : std::vector<std::string>{"runs download " + id + " --output nope -o " + dir.str() + "/x",
                                                          "runs download no-such-run -o " + dir.str() + "/x"}) {
    Output remote = Remote(dir, server, rita, args), local = Local(dir, server, args);
    CHECK(remote.status == 2);
    CHECK(remote.status == local.status);
    CHECK(remote.err == local.err);
  }
  // Files already there: refused before anything is written, as locally.
  Output again_download = Remote(dir, server, rita, "runs download " + id + " -o " + dir.str() + "/local");
  CHECK(again_download.status == 1);
  CHECK(again_download.err.find("already exist") != std::string::npos);
  Output text_download = Remote(dir, server, rita, "runs download " + id + " -o " + dir.str() + "/text");
  CHECK(text_download.out == "wrote " + std::to_string(local_files["files"].size()) + " files (" +
                                 local_files["bytes"].dump() + " bytes) of run " + id + " to " + dir.str() + "/text\n");
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
  // Logs are readable by a Reader; invoking needs the keys, so a Contributor.
  std::string request = " -r " + SourcePath("examples/quickstart/sample-request.json");
  for (const std::string& args : std::vector<std::string>{"deployments logs blue", "deployments logs nope",
                                                          "endpoints invoke iris" + request,
                                                          "endpoints invoke iris -d blue" + request,
                                                          "endpoints invoke iris -d green" + request,
                                                          "endpoints invoke nope" + request}) {
    Output remote = Remote(dir, server, args.rfind("endpoints", 0) == 0 ? bob : rita, args);
    Output local = Local(dir, server, args);
    INFO("amlc " << args << "\nremote stderr: " << remote.err << "\nlocal stderr: " << local.err);
    CHECK(remote.status == local.status);
    CHECK(remote.out == local.out);
    CHECK(remote.err == local.err);
  }
  CHECK(Remote(dir, server, rita, "deployments logs blue").out.find("== blue-") != std::string::npos);
  Output scored = Remote(dir, server, bob, "endpoints invoke iris" + request);
  CHECK(scored.status == 0);
  CHECK(!scored.out.empty());
  Output reader_invoke = Remote(dir, server, rita, "endpoints invoke iris" + request);
  CHECK(reader_invoke.status == 3);
  CHECK(reader_invoke.err.find("invoking an endpoint needs the contributor role; rita is a reader") !=
        std::string::npos);
  CHECK(reader_invoke.out.empty());
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

  // Deleting a deployment destroys what specs created: an Owner's, as destroy is.
  for (const std::string& token : {rita, bob}) {
    Output refused = Remote(dir, server, token, "deployments delete blue");
    CHECK(refused.status == 3);
    CHECK(refused.err.find("deleting a deployment needs the owner role") != std::string::npos);
  }
  CHECK(Body(client.Get("/api/v1/deployments")).size() == 1);
  CHECK(Remote(dir, server, alice, "deployments delete nope").status == Local(dir, server, "deployments delete nope").status);
  Output deleted = Remote(dir, server, alice, "deployments delete blue");
  INFO(deleted.err);
  CHECK(deleted.status == 0);
  CHECK(deleted.out == "deleted deployment blue (its replicas are stopped; the next apply of its spec brings it back)\n");
  CHECK(Body(client.Get("/api/v1/deployments")) == json::array());
  Output invoke_deleted = Remote(dir, server, bob, "endpoints invoke iris" + request);
  CHECK(invoke_deleted.status == Local(dir, server, "endpoints invoke iris" + request).status);
  CHECK(invoke_deleted.status == 1);

  Output denied = Remote(dir, server, bob, "destroy --auto-approve " + specs);
  CHECK(denied.status == 3);
  CHECK(denied.err.find("destroying what specs created needs the owner role; bob is a contributor") !=
        std::string::npos);
  Output destroyed = Remote(dir, server, alice, "destroy --auto-approve " + specs);
  CHECK(destroyed.status == 0);
}

}  // namespace
}  // namespace amlc::testing
