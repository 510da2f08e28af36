// The reconciler's API against a real `amlc reconcile` process (issue 12,
// item 11): with a token it answers nothing without it, over TLS; webhooks
// stay on their signature; and an address beyond loopback without a token
// and TLS is refused before anything starts. Everything listens on
// 127.0.0.1: the refusals are read from the startup error, never by binding
// a network address.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/hostile/raw_http.h"
#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using json = nlohmann::json;

namespace {

constexpr const char* kToken = "0123456789abcdef-api-token-for-tests";

struct CurlReply {
  int status = 0;
  std::string body;
  std::string headers;
};

CurlReply Curl(const std::string& args, const std::string& scratch) {
  std::string out;
  Run("curl -s -D " + scratch + "/headers -o " + scratch + "/reply -w '%{http_code}' " + args, &out);
  return {std::atoi(out.c_str()), ReadFile(scratch + "/reply"), ReadFile(scratch + "/headers")};
}

// `amlc reconcile ARGS` that must refuse to start: its stderr. The repository
// does not exist, so even a missing check could not get as far as binding.
std::string Refusal(const std::string& args, const std::string& env = "") {
  std::string out;
  int status = Run("AMLC_RECONCILER_TOKEN= " + env + " " +
                       Amlc("reconcile --repo /nonexistent/repo.git --data-dir /nonexistent/data " + args) +
                       " 2>&1",
                   &out);
  CHECK(status != 0);
  return out;
}

}  // namespace

TEST_CASE("with a token the API answers only bearers of it, over TLS", "[hostile][reconciler]") {
  SelfSigned tls;
  Origin origin;
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  std::string commit = origin.CommitAndPush("a compute target");
  SpecDir data;
  std::string token_file = data.str() + "/token";
  std::ofstream(token_file) << kToken << "\n";
  ReconcilerProcess reconciler(
      origin, data.str() + "/rec",
      "--api-token-file " + token_file + " --tls-cert " + tls.cert() + " --tls-key " + tls.key());
  REQUIRE(reconciler.url().starts_with("https://"));
  std::string cacert = "--cacert " + tls.cert() + " ";
  std::string scratch = data.str();

  for (std::string path : {"/api/status", "/api/syncs", "/api/syncs/1", "/api/nothing", "/"}) {
    INFO(path);
    CurlReply anonymous = Curl(cacert + reconciler.url() + path, scratch);
    CHECK(anonymous.status == 401);
    CHECK(anonymous.headers.find("WWW-Authenticate: Bearer") != std::string::npos);
    CHECK(json::parse(anonymous.body, nullptr, false).value("message", "").find("Bearer") != std::string::npos);
    CHECK(anonymous.body.find(commit) == std::string::npos);
  }
  CHECK(Curl(cacert + "-H 'Authorization: Bearer wrong-token' " + reconciler.url() + "/api/status", scratch)
            .status == 401);
  CHECK(Curl(cacert + "-H 'Authorization: Bearer " + std::string(kToken) + "x' " + reconciler.url() + "/api/status",
             scratch)
            .status == 401);

  std::string bearer = "-H 'Authorization: Bearer " + std::string(kToken) + "' ";
  reconciler.set_curl_options(cacert + bearer);
  REQUIRE_LOGGED(reconciler, reconciler.WaitForSynced(commit, 120));
  CurlReply authorized = Curl(cacert + bearer + reconciler.url() + "/api/status", scratch);
  CHECK(authorized.status == 200);
  CHECK(json::parse(authorized.body, nullptr, false).value("commit", "") == commit);

  // Plain HTTP to the TLS port gets nothing.
  std::string plain = "http://127.0.0.1:" + std::to_string(reconciler.port());
  CHECK(Curl("--max-time 10 " + bearer + plain + "/api/status", scratch).status != 200);

  // Webhooks carry no token: their signature is their credential.
  reconciler.set_curl_options(cacert);
  CHECK(reconciler.Webhook("push", {{"ref", "refs/heads/main"}, {"after", commit}}) == 202);
  CHECK(reconciler.Webhook("push", {{"ref", "refs/heads/main"}, {"after", commit}}, "not-the-secret") == 401);

  // amlc status reads the token from the environment and checks the certificate.
  std::string table;
  CHECK(Run("AMLC_RECONCILER_TOKEN=" + std::string(kToken) + " " +
                Amlc("status --server " + reconciler.url() + " --ca-cert " + tls.cert()),
            &table) == 0);
  CHECK(table.find("Status      Synced") != std::string::npos);
  CHECK(Run("AMLC_RECONCILER_TOKEN= " + Amlc("status --server " + reconciler.url() + " --ca-cert " + tls.cert()) +
                " 2>&1",
            &table) != 0);
  CHECK(table.find("answered 401") != std::string::npos);
  CHECK(Run("AMLC_RECONCILER_TOKEN=" + std::string(kToken) + " " + Amlc("status --server " + reconciler.url()) +
                " 2>&1",
            &table) != 0);  // a self-signed certificate is not trusted without --ca-cert
  CHECK(table.find("--ca-cert") != std::string::npos);
  CHECK(ReadFile(reconciler.log()).find(kToken) == std::string::npos);
}

TEST_CASE("listening beyond loopback without a token and TLS is refused at startup", "[hostile][reconciler]") {
  std::string none = Refusal("--listen 0.0.0.0:18787");
  CHECK(none.find("--listen 0.0.0.0:18787 is not a loopback address") != std::string::npos);
  CHECK(none.find("an API token (--api-token-file FILE or $AMLC_RECONCILER_TOKEN)") != std::string::npos);
  CHECK(none.find("TLS (--tls-cert FILE --tls-key FILE)") != std::string::npos);

  std::string token_only = Refusal("--listen 0.0.0.0:18787", "AMLC_RECONCILER_TOKEN=" + std::string(kToken));
  CHECK(token_only.find("needs TLS (--tls-cert FILE --tls-key FILE)") != std::string::npos);
  CHECK(token_only.find("API token") == std::string::npos);

  std::string tls_only = Refusal("--listen [::]:18787 --tls-cert c.pem --tls-key k.pem");
  CHECK(tls_only.find("is not a loopback address") != std::string::npos);
  CHECK(tls_only.find("needs an API token") != std::string::npos);
  CHECK(tls_only.find("TLS (") == std::string::npos);

  CHECK(Refusal("--listen localhost:18787").find("is not a loopback address") != std::string::npos);
  SpecDir dir;
  dir.Write("short", "abc\n");
  CHECK(Refusal("--listen 127.0.0.1:0 --api-token-file " + dir.str() + "/short").find("shorter than 16") !=
        std::string::npos);
}
