// The reconciler's webhook and status API: signature checks and payload
// parsing as plain functions, then the server on 127.0.0.1 with a recording
// ReconcilerControl and real HTTP requests. Expected signatures come from
// published vectors and from the openssl command, not from the code under test.
#include "reconciler/server/api_server.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reconciler/server/webhook.h"
#include "runtime/serving/endpoint/http_client.h"
#include "tests/test_support.h"

namespace rc = amlc::reconciler;
using amlc::StatusCode;
using amlc::runtime::endpoint::HeaderList;
using amlc::runtime::endpoint::HttpClient;
using amlc::runtime::endpoint::HttpResponse;
using nlohmann::json;

namespace {

constexpr const char* kSecret = "s3cret-for-tests";
constexpr const char* kSha = "0123456789abcdef0123456789abcdef01234567";

// HMAC-SHA256 of `body` as hex, computed by the openssl command.
std::string OpensslHmac(const std::string& secret, const std::string& body) {
  amlc::testing::SpecDir dir;
  dir.Write("body", body);
  std::string output;
  int status = amlc::testing::Run(
      "openssl dgst -sha256 -hmac '" + secret + "' -r '" + dir.str() + "/body'", &output);
  REQUIRE(status == 0);
  REQUIRE(output.size() >= 64);
  return output.substr(0, 64);
}

std::string PushBody(const std::string& ref, const std::string& after = kSha) {
  return json{{"ref", ref},
              {"before", std::string(40, '1')},
              {"after", after},
              {"pusher", {{"name", "alice"}, {"email", "alice@example.com"}}},
              {"sender", {{"login", "alice-gh"}}},
              {"head_commit", {{"id", after}, {"message", "Tune the learning rate"}}}}
      .dump();
}

std::string PullRequestBody(const std::string& action, const std::string& base = "main") {
  return json{{"action", action},
              {"number", 7},
              {"pull_request",
               {{"number", 7},
                {"title", "Try a deeper model"},
                {"head", {{"ref", "deeper"}, {"sha", kSha}}},
                {"base", {{"ref", base}, {"sha", std::string(40, '2')}}}}},
              {"repository", {{"full_name", "team/ml-specs"}}}}
      .dump();
}

/// Records what the server asks of the reconciler; the status API answers
/// from fixed values.
class RecordingControl : public rc::ReconcilerControl {
 public:
  std::string Branch() const override { return "main"; }
  void RequestPass(const std::string& reason) override {
    std::lock_guard lock(mutex_);
    passes_.push_back(reason);
  }
  void RequestPreview(const rc::PullRequestEvent& pull_request) override {
    std::lock_guard lock(mutex_);
    previews_.push_back(pull_request);
  }
  json Status() override { return {{"tracked_commit", kSha}, {"healthy", true}}; }
  json Syncs(int limit) override {
    std::lock_guard lock(mutex_);
    sync_limits_.push_back(limit);
    json syncs = json::array();
    for (int id = limit; id >= 1; --id) syncs.push_back({{"id", id}});
    return syncs;
  }
  std::optional<json> Sync(int64_t id) override {
    if (id > 10) return std::nullopt;
    return json{{"id", id}, {"plan", "Plan: 1 to add"}};
  }

  std::vector<std::string> passes() {
    std::lock_guard lock(mutex_);
    return passes_;
  }
  std::vector<rc::PullRequestEvent> previews() {
    std::lock_guard lock(mutex_);
    return previews_;
  }
  std::vector<int> sync_limits() {
    std::lock_guard lock(mutex_);
    return sync_limits_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> passes_;
  std::vector<rc::PullRequestEvent> previews_;
  std::vector<int> sync_limits_;
};

/// A started server and a client talking to it. The client is declared
/// last so that its kept-alive connection closes before the server stops.
struct Harness {
  explicit Harness(const std::string& secret = kSecret) : server(control, secret) {
    server.set_log([this](const std::string& line) {
      std::lock_guard lock(log_mutex);
      log.push_back(line);
    });
    amlc::Status started = server.Start("127.0.0.1", 0);
    REQUIRE(started.ok());
    REQUIRE(server.port() > 0);
    client = std::make_unique<HttpClient>("127.0.0.1", server.port(), 2, 10);
  }

  HttpResponse Post(const std::string& target, const std::string& body, const HeaderList& headers) {
    auto response = client->Post(target, body, "application/json", headers);
    REQUIRE(response.ok());
    return *response;
  }
  HttpResponse Get(const std::string& target) {
    auto response = client->Get(target);
    REQUIRE(response.ok());
    return *response;
  }
  HttpResponse GitHub(const std::string& event, const std::string& body,
                      const std::string& signature) {
    // A new delivery id each time: a repeated one is a replay.
    HeaderList headers = {{"X-GitHub-Event", event},
                          {"X-GitHub-Delivery", "d-" + std::to_string(++deliveries)}};
    if (!signature.empty()) headers.emplace_back("X-Hub-Signature-256", signature);
    return Post("/hooks/github", body, headers);
  }
  HttpResponse SignedGitHub(const std::string& event, const std::string& body) {
    return GitHub(event, body, "sha256=" + OpensslHmac(kSecret, body));
  }
  std::vector<std::string> Log() {
    std::lock_guard lock(log_mutex);
    return log;
  }

  int deliveries = 0;
  RecordingControl control;
  rc::ApiServer server;
  std::mutex log_mutex;
  std::vector<std::string> log;
  std::unique_ptr<HttpClient> client;
};

json Body(const HttpResponse& response) {
  CHECK(response.Header("Content-Type") == "application/json");
  return json::parse(response.body);
}

bool Contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

// ---- VerifySignature --------------------------------------------------------

TEST_CASE("VerifySignature accepts published HMAC-SHA256 vectors", "[reconciler][webhook]") {
  // RFC 4231, test case 2, in Gitea's bare-hex form.
  CHECK(rc::VerifySignature("Jefe", "what do ya want for nothing?",
                            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                            rc::SignatureForm::kBareHex));
  // GitHub's documentation example, in X-Hub-Signature-256 form.
  CHECK(rc::VerifySignature(
      "It's a Secret to Everybody", "Hello, World!",
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      rc::SignatureForm::kPrefixed));
  // Hex digits of either case.
  CHECK(rc::VerifySignature(
      "It's a Secret to Everybody", "Hello, World!",
      "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17",
      rc::SignatureForm::kPrefixed));
}

TEST_CASE("VerifySignature agrees with openssl dgst -hmac", "[reconciler][webhook]") {
  std::string body = PushBody("refs/heads/main");
  std::string hex = OpensslHmac(kSecret, body);
  CHECK(rc::VerifySignature(kSecret, body, "sha256=" + hex, rc::SignatureForm::kPrefixed));
  CHECK(rc::VerifySignature(kSecret, body, hex, rc::SignatureForm::kBareHex));
}

TEST_CASE("VerifySignature accepts each form only where its forge sends it",
          "[reconciler][webhook]") {
  const std::string good = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  const std::string secret = "It's a Secret to Everybody";
  CHECK_FALSE(rc::VerifySignature(secret, "Hello, World!", good, rc::SignatureForm::kPrefixed));
  CHECK_FALSE(
      rc::VerifySignature(secret, "Hello, World!", "sha256=" + good, rc::SignatureForm::kBareHex));
  CHECK_FALSE(
      rc::VerifySignature(secret, "Hello, World!", "SHA256=" + good, rc::SignatureForm::kPrefixed));
}

TEST_CASE("VerifySignature rejects anything else", "[reconciler][webhook]") {
  const std::string good = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  const std::string secret = "It's a Secret to Everybody";
  auto bare = [&](std::string_view s, std::string_view body, std::string_view header) {
    return rc::VerifySignature(s, body, header, rc::SignatureForm::kBareHex);
  };
  auto prefixed = [&](std::string_view s, std::string_view body, std::string_view header) {
    return rc::VerifySignature(s, body, header, rc::SignatureForm::kPrefixed);
  };
  CHECK_FALSE(bare(secret, "Hello, World?", good));  // body changed
  CHECK_FALSE(bare("another secret", "Hello, World!", good));
  CHECK_FALSE(bare("", "Hello, World!", good));    // no secret
  CHECK_FALSE(bare(secret, "Hello, World!", ""));  // no header
  CHECK_FALSE(prefixed(secret, "Hello, World!", "sha256="));
  CHECK_FALSE(prefixed(secret, "Hello, World!", "sha256=" + good.substr(0, 40)));
  CHECK_FALSE(prefixed(secret, "Hello, World!", "sha1=" + good));
  CHECK_FALSE(bare(secret, "Hello, World!", good + "00"));
  std::string not_hex = good;
  not_hex[0] = 'g';
  CHECK_FALSE(bare(secret, "Hello, World!", not_hex));
}

TEST_CASE("WebhookPayloadText decodes form-encoded deliveries", "[reconciler][webhook]") {
  CHECK(*rc::WebhookPayloadText("application/json", R"({"a":1})") == R"({"a":1})");
  CHECK(*rc::WebhookPayloadText("application/x-www-form-urlencoded",
                                "payload=%7B%22a%22%3A+1%7D") == R"({"a": 1})");
  CHECK(*rc::WebhookPayloadText("Application/X-WWW-Form-Urlencoded; charset=utf-8",
                                "other=x&payload=%7B%7D") == "{}");
  auto no_payload = rc::WebhookPayloadText("application/x-www-form-urlencoded", "payloads=x");
  REQUIRE_FALSE(no_payload.ok());
  CHECK_THAT(no_payload.status().message(), Catch::Contains("\"payload\""));
}

// ---- ParseWebhook -----------------------------------------------------------

TEST_CASE("ParseWebhook reads a GitHub push", "[reconciler][webhook]") {
  auto event = rc::ParseWebhook("github", "push", PushBody("refs/heads/main"));
  REQUIRE(event.ok());
  CHECK(event->kind == rc::WebhookEvent::kPush);
  CHECK(event->ref == "refs/heads/main");
  CHECK(event->after == kSha);
  CHECK(event->pusher == "alice");
  CHECK(event->head_commit_message == "Tune the learning rate");
}

TEST_CASE("ParseWebhook reads a Gitea push", "[reconciler][webhook]") {
  json body = {{"ref", "refs/heads/main"},
               {"after", kSha},
               {"pusher", {{"login", "bob"}, {"username", "bob"}}},
               {"commits", {{{"message", "first"}}, {{"message", "second"}}}}};
  auto event = rc::ParseWebhook("gitea", "push", body.dump());
  REQUIRE(event.ok());
  CHECK(event->pusher == "bob");
  CHECK(event->head_commit_message == "second");
}

TEST_CASE("ParseWebhook reads GitHub's form-encoded payload", "[reconciler][webhook]") {
  std::string body = "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%2C%22after%22%3A%22" +
                     std::string(kSha) + "%22%2C%22sender%22%3A%7B%22login%22%3A%22carol%22%7D%7D";
  auto event = rc::ParseWebhook("github", "push", body);
  REQUIRE(event.ok());
  CHECK(event->ref == "refs/heads/main");
  CHECK(event->pusher == "carol");
}

TEST_CASE("ParseWebhook reads a pull request", "[reconciler][webhook]") {
  auto event = rc::ParseWebhook("github", "pull_request", PullRequestBody("opened"));
  REQUIRE(event.ok());
  CHECK(event->kind == rc::WebhookEvent::kPullRequest);
  const rc::PullRequestEvent& pr = event->pull_request;
  CHECK(pr.number == 7);
  CHECK(pr.action == "opened");
  CHECK(pr.repository == "team/ml-specs");
  CHECK(pr.title == "Try a deeper model");
  CHECK(pr.head_ref == "deeper");
  CHECK(pr.head_sha == kSha);
  CHECK(pr.base_ref == "main");

  auto gitea = rc::ParseWebhook("gitea", "pull_request", PullRequestBody("synchronized"));
  REQUIRE(gitea.ok());
  CHECK(gitea->pull_request.action == "synchronize");
}

TEST_CASE("ParseWebhook sorts events and explains malformed ones", "[reconciler][webhook]") {
  CHECK(rc::ParseWebhook("github", "ping", R"({"zen":"Keep it simple."})")->kind ==
        rc::WebhookEvent::kPing);
  CHECK(rc::ParseWebhook("github", "issues", R"({"action":"opened"})")->kind ==
        rc::WebhookEvent::kOther);

  auto not_json = rc::ParseWebhook("github", "push", "{\"ref\": ");
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(not_json.status().message(), Catch::Contains("not valid JSON"));

  auto no_ref = rc::ParseWebhook("github", "push", R"({"after":"abc"})");
  REQUIRE_FALSE(no_ref.ok());
  CHECK_THAT(no_ref.status().message(), Catch::Contains("\"ref\""));

  auto no_head = rc::ParseWebhook("github", "pull_request",
                                  R"({"action":"opened","number":3,"pull_request":{}})");
  REQUIRE_FALSE(no_head.ok());
  CHECK_THAT(no_head.status().message(), Catch::Contains("head"));

  auto no_header = rc::ParseWebhook("gitea", "", "{}");
  REQUIRE_FALSE(no_header.ok());
  CHECK_THAT(no_header.status().message(), Catch::Contains("X-Gitea-Event"));

  CHECK_FALSE(rc::ParseWebhook("bitbucket", "push", "{}").ok());
}

// ---- the server -------------------------------------------------------------

TEST_CASE("a signed push to the tracked branch requests a pass", "[reconciler][webhook]") {
  Harness h;
  HttpResponse response = h.SignedGitHub("push", PushBody("refs/heads/main"));
  CHECK(response.status == 202);
  CHECK(Body(response)["accepted"] == "pass");
  CHECK(h.control.passes() == std::vector<std::string>{"push 0123456 by alice"});
  CHECK(Contains(h.Log(), "webhook: push to main accepted"));
}

TEST_CASE("a push whose signature does not match does nothing", "[reconciler][webhook]") {
  Harness h;
  std::string body = PushBody("refs/heads/main");
  std::string wrong = "sha256=" + OpensslHmac("not the secret", body);
  HttpResponse response = h.GitHub("push", body, wrong);
  CHECK(response.status == 401);
  CHECK(Body(response)["message"] == "signature does not match");

  HttpResponse unsigned_push = h.GitHub("push", body, "");
  CHECK(unsigned_push.status == 401);
  CHECK(Body(unsigned_push)["message"] == "signature does not match");

  // Signed, then altered on the way.
  std::string signature = "sha256=" + OpensslHmac(kSecret, body);
  HttpResponse altered =
      h.GitHub("push", PushBody("refs/heads/main", std::string(40, 'f')), signature);
  CHECK(altered.status == 401);

  CHECK(h.control.passes().empty());
  CHECK(h.control.previews().empty());
}

TEST_CASE("Gitea deliveries are signed with bare hex", "[reconciler][webhook]") {
  Harness h;
  json payload = {{"ref", "refs/heads/main"}, {"after", kSha}, {"pusher", {{"login", "bob"}}}};
  std::string body = payload.dump();
  HttpResponse response =
      h.Post("/hooks/gitea", body,
             {{"X-Gitea-Event", "push"}, {"X-Gitea-Signature", OpensslHmac(kSecret, body)}});
  CHECK(response.status == 202);
  CHECK(h.control.passes() == std::vector<std::string>{"push 0123456 by bob"});
}

TEST_CASE("a push to another branch is ignored", "[reconciler][webhook]") {
  Harness h;
  HttpResponse response = h.SignedGitHub("push", PushBody("refs/heads/feature"));
  CHECK(response.status == 202);
  CHECK(Body(response)["ignored"] == "push to refs/heads/feature, tracking main");
  HttpResponse deleted = h.SignedGitHub("push", PushBody("refs/heads/main", std::string(40, '0')));
  CHECK(deleted.status == 202);
  CHECK(Body(deleted).contains("ignored"));
  CHECK(h.control.passes().empty());
}

TEST_CASE("an opened pull request requests a preview", "[reconciler][webhook]") {
  Harness h;
  HttpResponse response = h.SignedGitHub("pull_request", PullRequestBody("opened"));
  CHECK(response.status == 202);
  CHECK(Body(response)["accepted"] == "preview");
  std::vector<rc::PullRequestEvent> previews = h.control.previews();
  REQUIRE(previews.size() == 1);
  CHECK(previews[0].number == 7);
  CHECK(previews[0].action == "opened");
  CHECK(previews[0].repository == "team/ml-specs");
  CHECK(previews[0].title == "Try a deeper model");
  CHECK(previews[0].head_ref == "deeper");
  CHECK(previews[0].head_sha == kSha);
  CHECK(previews[0].base_ref == "main");

  for (std::string action : {"synchronize", "reopened", "edited", "ready_for_review"}) {
    CHECK(h.SignedGitHub("pull_request", PullRequestBody(action)).status == 202);
  }
  CHECK(h.control.previews().size() == 5);
}

TEST_CASE("closed pull requests, other bases and other events are ignored",
          "[reconciler][webhook]") {
  Harness h;
  HttpResponse closed = h.SignedGitHub("pull_request", PullRequestBody("closed"));
  CHECK(closed.status == 202);
  CHECK(Body(closed).contains("ignored"));
  HttpResponse other_base = h.SignedGitHub("pull_request", PullRequestBody("opened", "release"));
  CHECK(other_base.status == 202);
  CHECK(Body(other_base).contains("ignored"));
  HttpResponse issue = h.SignedGitHub("issues", R"({"action":"opened"})");
  CHECK(issue.status == 202);
  CHECK(Body(issue).contains("ignored"));
  CHECK(h.control.previews().empty());
  CHECK(h.control.passes().empty());
}

TEST_CASE("a ping answers pong", "[reconciler][webhook]") {
  Harness h;
  HttpResponse response = h.SignedGitHub("ping", R"({"zen":"Design for failure.","hook_id":1})");
  CHECK(response.status == 200);
  CHECK(Body(response)["message"] == "pong");
}

TEST_CASE("a signed but malformed body is a 400", "[reconciler][webhook]") {
  Harness h;
  HttpResponse response = h.SignedGitHub("push", "{\"ref\": \"refs/heads/main\",");
  CHECK(response.status == 400);
  CHECK_THAT(Body(response)["message"].get<std::string>(), Catch::Contains("not valid JSON"));
  CHECK(h.control.passes().empty());
}

TEST_CASE("without a webhook secret the hooks answer 403", "[reconciler][webhook]") {
  Harness h("");
  HttpResponse response = h.SignedGitHub("push", PushBody("refs/heads/main"));
  CHECK(response.status == 403);
  CHECK_THAT(Body(response)["message"].get<std::string>(), Catch::Contains("--webhook-secret-env"));
  CHECK(h.control.passes().empty());
  CHECK(h.Get("/api/status").status == 200);  // the status API still works
}

TEST_CASE("a body over 25 MB is a 413", "[reconciler][webhook]") {
  Harness h;
  HttpResponse response = h.GitHub("push", std::string(25 * 1024 * 1024 + 1, ' '), "sha256=00");
  CHECK(response.status == 413);
  CHECK(Body(response).contains("message"));
}

TEST_CASE("the status API answers from the control", "[reconciler][webhook]") {
  Harness h;
  HttpResponse status = h.Get("/api/status");
  CHECK(status.status == 200);
  CHECK(Body(status)["tracked_commit"] == kSha);

  HttpResponse syncs = h.Get("/api/syncs?limit=2");
  CHECK(syncs.status == 200);
  CHECK(Body(syncs) == json::array({{{"id", 2}}, {{"id", 1}}}));
  CHECK(h.Get("/api/syncs").status == 200);
  CHECK(h.control.sync_limits() == std::vector<int>{2, 50});

  HttpResponse sync = h.Get("/api/syncs/3");
  CHECK(sync.status == 200);
  CHECK(Body(sync)["id"] == 3);

  HttpResponse unknown = h.Get("/api/syncs/999");
  CHECK(unknown.status == 404);
  CHECK(Body(unknown)["message"] == "no sync 999");
}

TEST_CASE("the status API rejects bad arguments", "[reconciler][webhook]") {
  Harness h;
  for (std::string limit : {"abc", "0", "-3", "1001", "5x", ""}) {
    HttpResponse response = h.Get("/api/syncs?limit=" + limit);
    INFO("limit=" << limit);
    CHECK(response.status == 400);
    CHECK(Body(response).contains("message"));
  }
  CHECK(h.Get("/api/syncs/abc").status == 400);
  CHECK(h.Get("/api/syncs/0").status == 400);
  CHECK(h.control.sync_limits().empty());

  HttpResponse unknown = h.Get("/api/nothing");
  CHECK(unknown.status == 404);
  CHECK(Body(unknown)["message"] == "no route GET /api/nothing");
}

TEST_CASE("curl reaches the server like a forge would", "[reconciler][webhook]") {
  Harness h;
  amlc::testing::SpecDir dir;
  std::string body = PushBody("refs/heads/main");
  dir.Write("body.json", body);
  std::string output;
  int status = amlc::testing::Run(
      "curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
      "-H 'X-GitHub-Event: push' -H 'X-Hub-Signature-256: sha256=" +
          OpensslHmac(kSecret, body) + "' --data-binary @'" + dir.str() +
          "/body.json' http://127.0.0.1:" + std::to_string(h.server.port()) + "/hooks/github",
      &output);
  CHECK(status == 0);
  CHECK(output == "202");
  CHECK(h.control.passes().size() == 1);
}

TEST_CASE("a port in use is reported with its address", "[reconciler][webhook]") {
  Harness h;
  RecordingControl control;
  rc::ApiServer second(control, kSecret);
  amlc::Status started = second.Start("127.0.0.1", h.server.port());
  REQUIRE_FALSE(started.ok());
  CHECK_THAT(started.message(), Catch::Contains("127.0.0.1:" + std::to_string(h.server.port())) &&
                                    Catch::Contains("address in use"));
  CHECK_FALSE(second.Start("", 0).ok());  // no default address
  h.server.Stop();
  h.server.Stop();  // twice is fine
}
