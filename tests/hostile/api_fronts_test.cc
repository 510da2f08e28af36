// The workspace server (`amlc server`) and the reconciler (`amlc reconcile`)
// against slow, oversize, unframed and header-flooded clients, and clients
// that go around the front (issue 12, item 1 for the API servers). Both face
// clients through the event-driven front (base/http_listener.h's
// FrontedHttpServer) that relays whole requests to their cpp-httplib routes
// on 127.0.0.1. One real process per case, started once: the slow-client load
// (bench/slow_clients.py) runs first, the refusals after.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "tests/hostile/raw_http.h"
#include "tests/reconciler/reconciler_fixtures.h"
#include "tests/server/server_fixtures.h"
#include "tests/test_support.h"

using namespace amlc::testing;
using json = nlohmann::json;

namespace {

constexpr int kSlowSockets = 1000;
constexpr int kEndlessLines = 10;
constexpr int kNormalRequests = 500;

std::string Head(const std::string& method, const std::string& path, const std::string& extra) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

std::string Message(const RawReply& reply) {
  json body = json::parse(reply.body, nullptr, false);
  return body.is_object() ? body.value("message", "") : "";
}

// What the front answers by itself, from the head: a body over the limit
// (413, before a byte of it is sent), more than 100 headers (431), a POST
// without Content-Length (411); each with a JSON message saying why.
void CheckRefusedFromTheHead(int port, const std::string& post_path, const std::string& auth) {
  RawReply oversize = Exchange(port, Head("POST", post_path, auth + "Content-Type: application/json\r\n"
                                                                    "Content-Length: 1099511627776\r\n"));
  CHECK(oversize.status == 413);
  CHECK(Message(oversize).find("larger than the limit") != std::string::npos);
  CHECK(oversize.seconds < 10);

  std::string many;
  for (int i = 0; i < 150; ++i) many += "X-Filler-" + std::to_string(i) + ": x\r\n";
  RawReply crowded = Exchange(port, Head("GET", post_path, auth + many));
  CHECK(crowded.status == 431);
  CHECK(Message(crowded).find("more than the limit of 100") != std::string::npos);

  RawReply unframed = Exchange(port, Head("POST", post_path, auth + "Content-Type: application/json\r\n"));
  CHECK(unframed.status == 411);
  CHECK(Message(unframed) == "a POST request needs a Content-Length header or Transfer-Encoding: chunked");
  CHECK(unframed.seconds < 10);
}

// The ports `pid` listens on, from `ss` (the routes' port behind the front
// is one of them).
std::set<int> ListeningPorts(int front_port) {
  std::string out;
  REQUIRE(Run("ss -Hltnp", &out) == 0);
  std::smatch match;
  std::string pid;
  static const std::regex line(R"(:(\d+)\s.*pid=(\d+),)");
  std::set<std::pair<int, std::string>> listeners;
  std::istringstream lines(out);
  for (std::string text; std::getline(lines, text);) {
    if (!std::regex_search(text, match, line)) continue;
    listeners.insert({std::stoi(match[1]), match[2]});
    if (std::stoi(match[1]) == front_port) pid = match[2];
  }
  std::set<int> ports;
  for (const auto& [port, owner] : listeners) {
    if (owner == pid) ports.insert(port);
  }
  return ports;
}

// A request straight to the routes' port, past the front: refused, with or
// without a guessed secret.
void CheckNoWayAround(int front_port, const std::string& path, const std::string& auth) {
  std::set<int> ports = ListeningPorts(front_port);
  INFO("listening: " << ports.size());
  REQUIRE(ports.count(front_port) == 1);
  REQUIRE(ports.size() == 2);
  int inner = *ports.begin() == front_port ? *ports.rbegin() : *ports.begin();
  RawReply direct = Exchange(inner, Head("GET", path, auth + "Connection: close\r\n"));
  CHECK(direct.status == 403);
  CHECK(Message(direct).find("only amlc's own front") != std::string::npos);
  RawReply guessed = Exchange(inner, Head("GET", path, auth + "X-Amlc-Front-Secret: 0123456789abcdef\r\n"
                                                              "Connection: close\r\n"));
  CHECK(guessed.status == 403);
  // Through the front the same request is answered.
  CHECK(Exchange(front_port, Head("GET", path, auth + "Connection: close\r\n")).status == 200);
}

}  // namespace

TEST_CASE("the workspace server's front: 1,000 slow clients, bad heads, and no way around it",
          "[hostile][server]") {
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home");
  std::string token = server.UserWithToken("alice", "owner");
  std::string auth = "Authorization: Bearer " + token + "\r\n";

  json report = SlowClientLoad(server.port(), kSlowSockets, kNormalRequests,
                               "--endless-lines " + std::to_string(kEndlessLines) +
                                   " --method GET --path /api/v1/runs --header 'Authorization: Bearer " + token + "'");
  INFO(server.log());
  CheckSlowClientReport(report, "workspace server", kSlowSockets + kEndlessLines, kNormalRequests);

  CheckRefusedFromTheHead(server.port(), "/api/v1/users", auth);
  CheckNoWayAround(server.port(), "/api/v1/runs", auth);

  // A client's own word for its address is replaced by the front's: the
  // audit log names the peer the front saw.
  CHECK(Exchange(server.port(), Head("GET", "/api/v1/runs", auth + "X-Amlc-Front-Client: 203.0.113.9\r\n"
                                                                   "Connection: close\r\n"))
            .status == 200);
  auto audit = server.Client(token).Get("/api/v1/audit?limit=5");
  REQUIRE(audit);
  json entries = json::parse(audit->body, nullptr, false);
  REQUIRE(entries.size() == 5);  // newest first
  CHECK(entries[0]["route"] == "/api/v1/runs");
  CHECK(entries[0]["client"] == "127.0.0.1");
  // The front's own refusals are audited too; the requests past it are not
  // (they never reached the routes).
  CHECK(entries[1]["status"] == 200);
  CHECK(entries[2]["status"] == 411);
  CHECK(entries[3]["status"] == 431);
  CHECK(entries[4]["status"] == 413);
  CHECK(entries[4]["route"] == "/api/v1/users");
}

TEST_CASE("the reconciler's front: 1,000 slow clients, bad heads, and no way around it", "[hostile][reconciler]") {
  Origin origin;
  origin.Write("ml/compute.yaml", "$schema: compute.schema.json\nname: local\ntype: local\n");
  origin.CommitAndPush("a compute target");
  SpecDir data;
  const std::string token = "0123456789abcdef-api-token-for-the-front";
  std::ofstream(data.str() + "/token") << token << "\n";
  ReconcilerProcess reconciler(origin, data.str() + "/rec",
                               "--interval 1h --api-token-file " + data.str() + "/token");
  std::string auth = "Authorization: Bearer " + token + "\r\n";

  json report = SlowClientLoad(reconciler.port(), kSlowSockets, kNormalRequests,
                               "--endless-lines " + std::to_string(kEndlessLines) +
                                   " --method GET --path /api/status --header 'Authorization: Bearer " + token + "'");
  INFO(ReadFile(reconciler.log()));
  CheckSlowClientReport(report, "reconciler", kSlowSockets + kEndlessLines, kNormalRequests);

  CheckRefusedFromTheHead(reconciler.port(), "/hooks/github", "");
  CheckNoWayAround(reconciler.port(), "/api/status", auth);
}

TEST_CASE("the workspace server's front terminates TLS and refuses from the head over it", "[hostile][server]") {
  SelfSigned tls;
  SpecDir dir;
  WorkspaceServerProcess server(dir.str() + "/home", 0, {"--tls-cert", tls.cert(), "--tls-key", tls.key()});
  std::string token = server.UserWithToken("alice", "owner");
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  std::string out;
  REQUIRE(Run("curl -s --cacert " + tls.cert() + " -H 'Authorization: Bearer " + token + "' -w '\\n%{http_code}' " +
                  url + "/api/v1/status",
              &out) == 0);
  CHECK(out.substr(out.rfind('\n') + 1) == "200");
  CHECK(json::parse(out.substr(0, out.rfind('\n')), nullptr, false)["you"]["user"] == "alice");
  // Plain HTTP to the TLS port gets no answer; a handshake never started is closed.
  CHECK(Exchange(server.port(), Head("GET", "/api/v1/status", "Connection: close\r\n"), 0, 30).status == 0);
  // The front's refusals over TLS too.
  REQUIRE(Run("curl -s --cacert " + tls.cert() + " -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: "
                  "application/json' -H 'Content-Length: 1099511627776' " + url + "/api/v1/users",
              &out) == 0);
  CHECK(out == "413");
}
