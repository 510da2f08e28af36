// Webhooks against a real `amlc reconcile` process (issue 12, items 3 and
// 10): large form-encoded deliveries, replays of one signed delivery, and
// signatures without the form their forge sends. Passes are counted in what
// the reconciler shows: its log lines, its HTTP answers, its /api/syncs.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "base/url.h"
#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using json = nlohmann::json;

namespace {

struct CurlReply {
  int status = 0;
  std::string body;
};

// curl's answer: the body, then the status code on a line of its own.
CurlReply Curl(const std::string& args) {
  std::string out;
  Run("curl -s -w '\\n%{http_code}' " + args, &out);
  CurlReply reply;
  size_t newline = out.rfind('\n');
  if (newline == std::string::npos) return reply;
  reply.status = std::atoi(out.c_str() + newline + 1);
  reply.body = out.substr(0, newline);
  return reply;
}

// HMAC-SHA256 of a file's bytes as hex, by the openssl command.
std::string OpensslHmac(const std::string& file) {
  std::string out;
  REQUIRE(Run("openssl dgst -sha256 -hmac '" + std::string(kSecret) + "' -r '" + file + "'", &out) == 0);
  REQUIRE(out.size() >= 64);
  return out.substr(0, 64);
}

// A workspace that syncs in a moment: a compute target and an environment.
void WriteTinySpecs(const Origin& origin, const std::string& description) {
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  origin.Write("ml/env.yaml", "$schema: environment.schema.json\nname: py\nversion: 1\npython: /usr/bin/python3\n"
                              "description: " + description + "\n");
}

json PushPayload(const std::string& commit, size_t padding = 0) {
  json commits = json::array();
  // Commit messages with characters a form must encode, to make the body large.
  while (commits.dump().size() < padding) {
    commits.push_back({{"id", commit}, {"message", "tune {\"C\": 2.0} & retrain = better?"}});
  }
  return {{"ref", "refs/heads/main"},
          {"after", commit},
          {"pusher", {{"name", "alice"}}},
          {"head_commit", {{"id", commit}, {"message", "tune"}}},
          {"commits", commits}};
}

int CountOf(const std::string& text, const std::string& what) {
  int count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

int SyncsTriggeredBy(const ReconcilerProcess& reconciler, const std::string& trigger) {
  int count = 0;
  for (const json& sync : reconciler.Get("/api/syncs")) count += sync.value("trigger", "") == trigger;
  return count;
}

// A reconciler on the tiny specs, synced at its first commit; passes come
// only from webhooks (the interval is an hour).
struct Synced {
  Synced() {
    WriteTinySpecs(origin, "first");
    std::string first = origin.CommitAndPush("tiny specs");
    reconciler = std::make_unique<ReconcilerProcess>(origin, data.str() + "/rec", "--interval 1h");
    REQUIRE_LOGGED(*reconciler, reconciler->WaitForSynced(first, 120));
    WriteTinySpecs(origin, "second");
    pushed = origin.CommitAndPush("describe the environment");
  }
  // Writes `body` to a file and POSTs it with `headers` (curl -H arguments).
  CurlReply Post(const std::string& hook, const std::string& body, const std::string& headers) const {
    std::string file = data.str() + "/body";
    std::ofstream(file, std::ios::binary) << body;
    return Curl(headers + " --data-binary @" + file + " " + reconciler->url() + "/hooks/" + hook);
  }
  std::string Sign(const std::string& body) const {
    std::string file = data.str() + "/signed";
    std::ofstream(file, std::ios::binary) << body;
    return OpensslHmac(file);
  }

  Origin origin;
  SpecDir data;
  std::unique_ptr<ReconcilerProcess> reconciler;
  std::string pushed;
};

}  // namespace

TEST_CASE("a 20 KiB form-encoded GitHub webhook starts one pass", "[hostile][reconciler]") {
  Synced s;
  std::string json_text = PushPayload(s.pushed, 20 * 1024).dump();
  std::string body = "payload=" + amlc::PercentEncode(json_text);
  REQUIRE(body.size() > 20 * 1024);  // cpp-httplib refused form bodies over 8 KiB
  CurlReply reply = s.Post("github", body,
                           "-H 'Content-Type: application/x-www-form-urlencoded' -H 'X-GitHub-Event: push' "
                           "-H 'X-GitHub-Delivery: form-1' -H 'X-Hub-Signature-256: sha256=" +
                               s.Sign(body) + "'");
  INFO("reply: " << reply.body);
  CHECK(reply.status == 202);
  CHECK(json::parse(reply.body, nullptr, false).value("accepted", "") == "pass");
  REQUIRE_LOGGED(*s.reconciler, s.reconciler->WaitForSynced(s.pushed, 120));
  std::string trigger = "push " + s.pushed.substr(0, 7) + " by alice";
  CHECK(SyncsTriggeredBy(*s.reconciler, trigger) == 1);
  CHECK(CountOf(ReadFile(s.reconciler->log()), "webhook: push to main accepted") == 1);

  // Gitea signs the JSON inside the form, in bare hex.
  json other = PushPayload(s.pushed, 20 * 1024);
  other["ref"] = "refs/heads/elsewhere";
  std::string gitea_json = other.dump();
  CurlReply gitea = s.Post("gitea", "payload=" + amlc::PercentEncode(gitea_json),
                           "-H 'Content-Type: application/x-www-form-urlencoded' -H 'X-Gitea-Event: push' "
                           "-H 'X-Gitea-Delivery: form-2' -H 'X-Gitea-Signature: " +
                               s.Sign(gitea_json) + "'");
  INFO("gitea reply: " << gitea.body);
  CHECK(gitea.status == 202);
  CHECK(gitea.body.find("ignored") != std::string::npos);  // another branch: read, verified, ignored
}

TEST_CASE("one signed delivery sent 30 times starts one pass, across a restart too", "[hostile][reconciler]") {
  Synced s;
  std::string body = PushPayload(s.pushed).dump();
  std::string headers = "-H 'Content-Type: application/json' -H 'X-GitHub-Event: push' "
                        "-H 'X-Hub-Signature-256: sha256=" + s.Sign(body) + "'";
  int accepted = 0, replays = 0;
  for (int i = 0; i < 30; ++i) {
    CurlReply reply = s.Post("github", body, headers + " -H 'X-GitHub-Delivery: 72d3162e-cc78-11e3'");
    accepted += reply.status == 202;
    replays += reply.status == 200 && reply.body.find("\"replay\"") != std::string::npos;
  }
  CHECK(accepted == 1);
  CHECK(replays == 29);
  // The same body under a new delivery id is the same delivery.
  CurlReply renamed = s.Post("github", body, headers + " -H 'X-GitHub-Delivery: another-id'");
  CHECK(renamed.status == 200);
  CHECK(renamed.body.find("\"replay\"") != std::string::npos);

  REQUIRE_LOGGED(*s.reconciler, s.reconciler->WaitForSynced(s.pushed, 120));
  std::string trigger = "push " + s.pushed.substr(0, 7) + " by alice";
  CHECK(SyncsTriggeredBy(*s.reconciler, trigger) == 1);
  std::string log = ReadFile(s.reconciler->log());
  CHECK(CountOf(log, "webhook: push to main accepted") == 1);
  CHECK(CountOf(log, "is a replay: nothing started") == 30);

  // Remembered across a restart, in a file only its owner reads.
  REQUIRE(s.reconciler->Stop() == 0);
  std::string remembered = s.data.str() + "/rec/webhook-deliveries";
  struct stat info {};
  REQUIRE(stat(remembered.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  ReconcilerProcess restarted(s.origin, s.data.str() + "/rec", "--interval 1h");
  CurlReply again = Curl(headers + " -H 'X-GitHub-Delivery: 72d3162e-cc78-11e3' --data-binary @" + s.data.str() +
                         "/body " + restarted.url() + "/hooks/github");
  CHECK(again.status == 200);
  CHECK(again.body.find("\"replay\"") != std::string::npos);
  CHECK(CountOf(ReadFile(restarted.log()), "webhook: push to main accepted") == 0);
}

TEST_CASE("a signature without the form its forge sends is refused", "[hostile][reconciler]") {
  Synced s;
  std::string body = PushPayload(s.pushed).dump();
  std::string hex = s.Sign(body);
  std::string json_type = "-H 'Content-Type: application/json' ";
  // GitHub always writes "sha256=": the bare digest is not its header.
  CHECK(s.Post("github", body, json_type + "-H 'X-GitHub-Event: push' -H 'X-Hub-Signature-256: " + hex + "'")
            .status == 401);
  // Gitea's own header is bare hex, its copy of GitHub's is prefixed: not the other way round.
  CHECK(s.Post("gitea", body, json_type + "-H 'X-Gitea-Event: push' -H 'X-Gitea-Signature: sha256=" + hex + "'")
            .status == 401);
  CHECK(s.Post("gitea", body, json_type + "-H 'X-Gitea-Event: push' -H 'X-Hub-Signature-256: " + hex + "'")
            .status == 401);
  std::string log = ReadFile(s.reconciler->log());
  CHECK(CountOf(log, "signature does not match") == 3);
  CHECK(CountOf(log, "webhook: push to main accepted") == 0);
  // What Gitea does send passes.
  CHECK(s.Post("gitea", body,
               json_type + "-H 'X-Gitea-Event: push' -H 'X-Gitea-Delivery: g-1' -H 'X-Gitea-Signature: " + hex +
                   "' -H 'X-Hub-Signature-256: sha256=" + hex + "'")
            .status == 202);
}

TEST_CASE("webhook bodies over 25 MiB are refused with 413", "[hostile][reconciler]") {
  Synced s;
  std::string big = s.data.str() + "/big";
  REQUIRE(Run("head -c 27000000 /dev/zero | tr '\\0' 'x' > " + big) == 0);
  std::string headers = "-H 'Content-Type: application/json' -H 'X-GitHub-Event: push' "
                        "-H 'X-Hub-Signature-256: sha256=" + std::string(64, '0') + "' ";
  CurlReply sized = Curl(headers + "--data-binary @" + big + " " + s.reconciler->url() + "/hooks/github");
  CHECK(sized.status == 413);
  CHECK(sized.body.find("larger than the limit") != std::string::npos);
  // Chunked, with no length in the head: cut off where it crosses the limit.
  CurlReply chunked = Curl(headers + "-H 'Transfer-Encoding: chunked' --data-binary @" + big + " " +
                           s.reconciler->url() + "/hooks/github");
  CHECK(chunked.status == 413);
  CHECK(CountOf(ReadFile(s.reconciler->log()), "webhook: push to main accepted") == 0);
  CHECK(s.reconciler->Get("/api/status").is_object());  // still answering

  // A head of 150 headers is refused before any route runs.
  std::string many;
  for (int i = 0; i < 150; ++i) many += "-H 'X-Filler-" + std::to_string(i) + ": x' ";
  CurlReply crowded = Curl(many + s.reconciler->url() + "/api/status");
  CHECK(crowded.status == 431);
  CHECK(crowded.body.find("headers, more than the limit of 100") != std::string::npos);
}
