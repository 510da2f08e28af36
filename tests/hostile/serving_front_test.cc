// Slow, oversize, unauthenticated and malformed clients against the serving
// fronts (issue 12, items 1 to 4): the endpoint host (`amlc endpoint-host`,
// routing to an `amlc serve` replica with keys) and a replica on its own
// port. Real processes, raw sockets, and bench/slow_clients.py for the
// slow-client load; each case asserts what a client sees and, for bodies,
// the peak memory of the process under attack.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "runtime/serving/endpoint/http_client.h"
#include "tests/hostile/raw_http.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
namespace ep = amlc::runtime::endpoint;
using amlc::testing::CheckSlowClientReport;
using amlc::testing::Exchange;
using amlc::testing::RawReply;
using amlc::testing::ReadFile;
using amlc::testing::SlowClientLoad;
using amlc::testing::Run;
using amlc::testing::SourcePath;
using amlc::testing::SpecDir;
using nlohmann::json;

namespace {

// Only a hang reaches these.
constexpr double kPatienceS = 60;
constexpr const char* kKey = "hostile-key";
bool WaitUntil(const std::function<bool()>& condition, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

const char* kScoreScript = R"(import json
def init():
    pass
def run(raw_data):
    return {"length": len(raw_data)}
)";

pid_t Spawn(const std::vector<std::string>& argv, const std::string& output) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    std::vector<char*> raw;
    for (const std::string& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  return pid;
}

// A scoring script, its keys file and the `amlc serve` arguments for them.
struct Scoring {
  SpecDir dir;
  Scoring() {
    dir.Write("score.py", kScoreScript);
    dir.Write("keys.json", std::string("{\"primary\": \"") + kKey + "\", \"secondary\": \"other\"}");
  }
  std::vector<std::string> ServeArgs() const {
    return {AMLC_BINARY, "serve", "--entry-script", dir.str() + "/score.py", "--python", "/usr/bin/python3",
            "--workers", "2", "--keys-file", dir.str() + "/keys.json"};
  }
};

bool Ready(int port) {
  if (port <= 0) return false;
  ep::HttpClient client("127.0.0.1", port, 1, 5);
  auto response = client.Get("/health/ready");
  return response.ok() && response->status == 200;
}

// A process under attack: the endpoint host (routing to one replica) or a replica alone.
class Target {
 public:
  static std::unique_ptr<Target> EndpointHost(const Scoring& scoring) {
    auto target = std::unique_ptr<Target>(new Target);
    json desired = {{"endpoint", "hostile"}, {"host", "127.0.0.1"}, {"port", 0},
                    {"generation", 1}, {"traffic", {{"blue", 100}}},
                    {"deployments", {{"blue", {{"revision", "r1"}, {"command", scoring.ServeArgs()},
                                               {"instance_count", 1},
                                               {"readiness_timeout_s", kPatienceS}}}}}};
    target->state_.Write("desired.json", desired.dump(2));
    target->pid_ = Spawn({AMLC_BINARY, "endpoint-host", "--state-dir", target->state_.str()},
                         target->state_.str() + "/host.out");
    WaitUntil([&] { return Ready(target->ReadPort("status.json")); }, kPatienceS);
    target->port_ = target->ReadPort("status.json");
    return target;
  }

  static std::unique_ptr<Target> Replica(const Scoring& scoring) {
    auto target = std::unique_ptr<Target>(new Target);
    std::vector<std::string> argv = scoring.ServeArgs();
    argv.insert(argv.end(), {"--port-file", target->state_.str() + "/port", "--log-file",
                             target->state_.str() + "/serve.log"});
    target->pid_ = Spawn(argv, target->state_.str() + "/serve.out");
    WaitUntil([&] { return Ready(target->ReadPort("port")); }, kPatienceS);
    target->port_ = target->ReadPort("port");
    return target;
  }

  ~Target() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      if (!WaitUntil([&] { return waitpid(pid_, nullptr, WNOHANG) == pid_; }, 30)) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
    }
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string Log() const {
    std::string text;
    for (const char* name : {"host.out", "endpoint-host.log", "serve.out", "serve.log"}) {
      text += ReadFile(state_.str() + "/" + name);
    }
    return text;
  }

  /// A line of /proc/PID/status in kB ("VmRSS", "VmHWM"), -1 when unreadable.
  int64_t MemoryKb(const std::string& field) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
    }
    return -1;
  }

 private:
  Target() = default;
  int ReadPort(const std::string& file) const {
    std::string text = ReadFile(state_.str() + "/" + file);
    if (file == "status.json") {
      json status = json::parse(text, nullptr, false);
      return status.is_object() ? status.value("port", 0) : 0;
    }
    return text.empty() || text.back() != '\n' ? 0 : std::atoi(text.c_str());
  }

  SpecDir state_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string ScoreHead(const std::string& extra) {
  return "POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra + "\r\n";
}

std::string Auth() { return std::string("Authorization: Bearer ") + kKey + "\r\n"; }

json JsonBody(const RawReply& reply) { return json::parse(reply.body, nullptr, false); }

// bench/slow_clients.py's scoring requests with the key against `port`.
json ScoringLoad(int port, int slow_sockets, int requests) {
  return SlowClientLoad(port, slow_sockets, requests, std::string("--header 'Authorization: Bearer ") + kKey + "'");
}

}  // namespace

TEST_CASE("1,000 slow clients do not stop the endpoint host: normal requests all succeed",
          "[hostile]") {
  Scoring scoring;
  auto host = Target::EndpointHost(scoring);
  INFO(host->Log());
  REQUIRE(host->port() > 0);
  CheckSlowClientReport(ScoringLoad(host->port(), 1000, 500), "endpoint host", 1000, 500);
}

TEST_CASE("1,000 slow clients do not stop a replica's port: normal requests all succeed", "[hostile]") {
  Scoring scoring;
  auto replica = Target::Replica(scoring);
  INFO(replica->Log());
  REQUIRE(replica->port() > 0);
  CheckSlowClientReport(ScoringLoad(replica->port(), 1000, 500), "replica", 1000, 500);
}

TEST_CASE("unauthenticated 50 MB bodies are refused 401 from the head, and the host's memory stays bounded",
          "[hostile]") {
  Scoring scoring;
  auto host = Target::EndpointHost(scoring);
  INFO(host->Log());
  REQUIRE(host->port() > 0);
  constexpr size_t kFifty = 50u << 20;
  std::string head = ScoreHead("Content-Length: " + std::to_string(kFifty) + "\r\n");
  // Only the head is sent: the answer cannot have waited for the body.
  RawReply refused = Exchange(host->port(), head, 0, kPatienceS);
  CHECK(refused.status == 401);
  CHECK(JsonBody(refused)["message"].get<std::string>().find("a valid key is required") != std::string::npos);
  CHECK(refused.head.find("WWW-Authenticate: Bearer") != std::string::npos);
  // Three at once, each pushing its whole 50 MB: answered, and none of it kept.
  std::vector<RawReply> replies(3);
  std::vector<std::thread> senders;
  for (RawReply& reply : replies) {
    senders.emplace_back([&] { reply = Exchange(host->port(), head, kFifty, kPatienceS); });
  }
  for (std::thread& sender : senders) sender.join();
  for (const RawReply& reply : replies) CHECK(reply.status == 401);
  int64_t peak_kb = host->MemoryKb("VmHWM");
  std::printf("endpoint host after 3 unauthenticated 50 MB POSTs: peak RSS %lld kB, 401 in %.3f s\n",
              static_cast<long long>(peak_kb), refused.seconds);
  CHECK(peak_kb > 0);
  CHECK(peak_kb < 64 * 1024);  // before the fix: 828 MB
  // The host still serves.
  RawReply scored = Exchange(host->port(), ScoreHead(Auth() + "Content-Length: 2\r\n") + "{}");
  CHECK(scored.status == 200);
}

TEST_CASE("the endpoint host refuses oversize, unframed and header-flooded requests from the head",
          "[hostile]") {
  Scoring scoring;
  auto host = Target::EndpointHost(scoring);
  INFO(host->Log());
  REQUIRE(host->port() > 0);

  // 200 MB with a valid key: over the deployment's 10 MiB limit, answered
  // before a byte of the body is sent.
  RawReply oversize = Exchange(host->port(), ScoreHead(Auth() + "Content-Length: 209715200\r\n"));
  CHECK(oversize.status == 413);
  CHECK(JsonBody(oversize)["error"]["message"] == "the request body is larger than the limit of 10485760 bytes");

  // Neither Content-Length nor chunked: 411 at once, with a body saying why.
  RawReply unframed = Exchange(host->port(), ScoreHead(Auth()));
  CHECK(unframed.status == 411);
  CHECK(JsonBody(unframed)["error"]["message"] ==
        "a POST request needs a Content-Length header or Transfer-Encoding: chunked");

  // 50,000 headers: 431 once the head passes 16 KiB, without reading the rest.
  std::string flood = "POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 50000; ++i) flood += "X-a: b\r\n";
  RawReply flooded = Exchange(host->port(), flood + "\r\n");
  CHECK(flooded.status == 431);
  CHECK(JsonBody(flooded)["error"]["message"] == "the request head is larger than the limit of 16384 bytes");
  // Few bytes but many headers: 431 for the count.
  std::string many = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": b\r\n";
  RawReply counted = Exchange(host->port(), many + "\r\n");
  CHECK(counted.status == 431);
  CHECK(JsonBody(counted)["error"]["message"] == "the request has 151 headers, more than the limit of 100");

  // A 20 KiB form-encoded scoring body is read like any other (no 8 KiB form limit).
  std::string form = "data=" + std::string(20 * 1024, 'f');
  ep::HttpClient client("127.0.0.1", host->port(), 5, kPatienceS);
  auto scored = client.Post("/score", form, "application/x-www-form-urlencoded",
                            {{"Authorization", std::string("Bearer ") + kKey}});
  REQUIRE(scored.ok());
  CHECK(scored->status == 200);
  CHECK(json::parse(scored->body, nullptr, false)["length"] == form.size());
}

TEST_CASE("a replica answers 411 and 431 at once, with a body saying why", "[hostile]") {
  Scoring scoring;
  auto replica = Target::Replica(scoring);
  INFO(replica->Log());
  REQUIRE(replica->port() > 0);
  RawReply unframed = Exchange(replica->port(), ScoreHead(Auth()));
  CHECK(unframed.status == 411);
  CHECK(JsonBody(unframed)["message"] == "a POST request needs a Content-Length header or Transfer-Encoding: chunked");
  std::string flood = "POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 50000; ++i) flood += "X-a: b\r\n";
  RawReply flooded = Exchange(replica->port(), flood + "\r\n");
  CHECK(flooded.status == 431);
  CHECK(JsonBody(flooded)["message"] == "the request head is larger than the limit of 16384 bytes");
  RawReply unauthenticated = Exchange(replica->port(), ScoreHead("Content-Length: 52428800\r\n"));
  CHECK(unauthenticated.status == 401);
}
