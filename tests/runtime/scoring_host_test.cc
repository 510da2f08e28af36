// amlc serve end to end: the real binary, real Python workers running
// scoring scripts written to temp folders, real HTTP requests (curl).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/test_support.h"

using amlc::testing::ReadFile;
using amlc::testing::Run;
using amlc::testing::SourcePath;
using amlc::testing::SpecDir;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
  json Json() const { return json::parse(body, nullptr, false); }
};

struct Request {
  std::string method = "GET";
  std::string path = "/";
  std::string body;
  bool has_body = false;
  bool chunked = false;
  std::vector<std::string> headers;
};

// One HTTP exchange through curl (so the client is not our own code).
Reply Http(int port, const Request& request) {
  static std::atomic<int> counter{0};
  fs::path base = fs::temp_directory_path() /
                  ("amlc-serving-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::string command = "curl -s -S --max-time 30 -X " + request.method + " -D " +
                        Quote(base.string() + ".h") + " -o " + Quote(base.string() + ".b") +
                        " -w '%{http_code}' -H 'Expect:'";
  if (request.has_body || !request.body.empty()) {
    std::ofstream(base.string() + ".in", std::ios::binary) << request.body;
    command +=
        " --data-binary @" + Quote(base.string() + ".in") + " -H 'Content-Type: application/json'";
  }
  if (request.chunked) command += " -H 'Transfer-Encoding: chunked'";
  for (const std::string& header : request.headers) command += " -H " + Quote(header);
  command += " http://127.0.0.1:" + std::to_string(port) + request.path + " 2>/dev/null";
  std::string code;
  Run(command, &code);
  Reply reply;
  reply.status = std::atoi(code.c_str());
  reply.body = ReadFile(base.string() + ".b");
  std::istringstream lines(ReadFile(base.string() + ".h"));
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    reply.headers[name] = value;
  }
  std::error_code error;
  for (const char* suffix : {".h", ".b", ".in"}) fs::remove(base.string() + suffix, error);
  return reply;
}

Reply Get(int port, const std::string& path, std::vector<std::string> headers = {}) {
  Request request;
  request.path = path;
  request.headers = std::move(headers);
  return Http(port, request);
}

Reply Score(int port, const std::string& body, std::vector<std::string> headers = {}) {
  Request request;
  request.method = "POST";
  request.path = "/score";
  request.body = body;
  request.has_body = true;
  request.headers = std::move(headers);
  return Http(port, request);
}

// `amlc serve` as a child process, with its port file and log in `dir`.
class ServeProcess {
 public:
  ServeProcess(const SpecDir& dir, const std::vector<std::string>& args,
               const std::string& name = "serve")
      : log_(dir.path() / (name + ".log")) {
    fs::path port_file = dir.path() / (name + ".port");
    std::vector<std::string> argv = {AMLC_BINARY,        "serve",      "--port-file",
                                     port_file.string(), "--log-file", log_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string stdout_path = (dir.path() / (name + ".stdout")).string();
    pid_ = fork();
    if (pid_ == 0) {
      int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || dup2(out, STDOUT_FILENO) < 0) _exit(127);
      std::vector<char*> raw;
      for (std::string& arg : argv) raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = ReadFile(port_file);
      if (!text.empty() && text.back() == '\n') {
        port_ = std::atoi(text.c_str());
        break;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stdout_ = stdout_path;
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);  // its workers die with it (PR_SET_PDEATHSIG)
      waitpid(pid_, nullptr, 0);
    }
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const { return ReadFile(log_); }
  std::string stdout_text() const { return ReadFile(stdout_); }

  /// Polls GET /health/ready until it says 200 (true) or the time runs out.
  bool WaitReady(double seconds = 20) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Get(port_, "/health/ready").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  /// The worker processes (children of amlc serve).
  std::vector<pid_t> Workers() const {
    std::string out;
    Run("pgrep -P " + std::to_string(pid_), &out);
    std::vector<pid_t> pids;
    std::istringstream in(out);
    for (pid_t pid; in >> pid;) pids.push_back(pid);
    return pids;
  }

  /// Sends SIGTERM and returns the exit code (-1 if it had to be killed).
  int Terminate(double seconds = 15) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    return Wait(seconds);
  }
  int Wait(double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  fs::path log_;
  std::string stdout_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
};

// A scoring script for the error and load tests: run() echoes the JSON it
// gets, sleeps when asked, raises when asked.
const char* kEchoScript = R"(import json, os, time

def init():
    print("echo init, model dir", os.environ.get("AZUREML_MODEL_DIR"), "cwd", os.getcwd())

def run(raw_data):
    data = json.loads(raw_data)
    if "sleep" in data:
        time.sleep(data["sleep"])
    if "fail" in data:
        raise RuntimeError("the script failed on purpose")
    if "numpy" in data:
        import numpy
        return {"array": numpy.arange(3), "scalar": numpy.float32(0.5), "int": numpy.int64(7)}
    if "text" in data:
        return data["text"]
    return {"echo": data, "worker": os.environ.get("AMLC_WORKER_NUMBER"), "extra": os.environ.get("EXTRA")}
)";

std::map<std::string, double> ParseMetrics(const std::string& text, bool& well_formed) {
  static const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (\S+)$)");
  static const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  std::map<std::string, double> values;
  well_formed = !text.empty() && text.back() == '\n';
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_match(line, comment)) continue;
    if (!std::regex_match(line, match, sample)) {
      well_formed = false;
      UNSCOPED_INFO("not Prometheus text: " << line);
      continue;
    }
    values[match[1].str() + match[2].str()] = std::stod(match[4].str());
  }
  return values;
}

}  // namespace

TEST_CASE("amlc serve scores with a scikit-learn model that init() loads from AZUREML_MODEL_DIR",
          "[serving]") {
  SpecDir dir;
  dir.Write("train.py", R"(import csv, pickle, sys
from sklearn.linear_model import LogisticRegression
rows = list(csv.DictReader(open(sys.argv[1])))
x = [[float(r[k]) for k in ("sepal_length", "sepal_width", "petal_length", "petal_width")] for r in rows]
model = LogisticRegression(max_iter=500).fit(x, [r["species"] for r in rows])
with open(sys.argv[2] + "/model.pkl", "wb") as f:
    pickle.dump(model, f)
)");
  fs::create_directories(dir.path() / "model");
  REQUIRE(Run("/usr/bin/python3 " + (dir.path() / "train.py").string() + " " +
              SourcePath("examples/quickstart/data/iris.csv") + " " +
              (dir.path() / "model").string()) == 0);
  fs::create_directories(dir.path() / "score");
  fs::copy_file(SourcePath("examples/quickstart/score/score.py"), dir.path() / "score/score.py");

  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score/score.py").string(),
                           "--model-dir", (dir.path() / "model").string(), "--workers", "2"});
  REQUIRE(serve.port() > 0);
  CHECK(serve.stdout_text() == "listening on 127.0.0.1:" + std::to_string(serve.port()) + "\n");
  CHECK(Get(serve.port(), "/").body == "Healthy");
  CHECK(Get(serve.port(), "/v2/health/live").status == 200);
  REQUIRE(serve.WaitReady());
  CHECK(Get(serve.port(), "/v2/health/ready").status == 200);

  Reply reply = Score(serve.port(), R"({"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})",
                      {"x-request-id: my-request-17"});
  CHECK(reply.status == 200);
  CHECK(reply.header("content-type") == "application/json");
  CHECK(reply.Json() == json::parse(R"({"predictions": ["setosa", "virginica"]})"));
  CHECK(reply.header("x-request-id") == "my-request-17");
  double exec_ms = std::atof(reply.header("x-ms-run-fn-exec-ms").c_str());
  CHECK(exec_ms > 0);
  CHECK(exec_ms < 5000);

  // Without an id, one is made up (a UUID) and returned.
  Reply generated = Score(serve.port(), R"({"data": [[5.9, 3.0, 4.2, 1.5]]})");
  CHECK(generated.status == 200);
  CHECK(generated.Json()["predictions"] == json::array({"versicolor"}));
  CHECK(std::regex_match(
      generated.header("x-request-id"),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(Score(serve.port(), "{}").header("x-request-id") != generated.header("x-request-id"));
  CHECK(serve.Terminate() == 0);
}

TEST_CASE(
    "amlc serve answers bad input with 400, script errors with 500, big bodies with 413, and keeps "
    "serving",
    "[serving]") {
  SpecDir dir;
  dir.Write("app/score.py", kEchoScript);
  fs::create_directories(dir.path() / "m");
  ServeProcess serve(
      dir, {"--entry-script", (dir.path() / "app/score.py").string(), "--model-dir",
            (dir.path() / "m").string(), "--max-body-bytes", "1000", "--env", "EXTRA=yes"});
  REQUIRE(serve.WaitReady());
  int port = serve.port();

  Reply ok = Score(port, R"({"a": [1, 2]})");
  CHECK(ok.status == 200);
  CHECK(ok.Json() == json::parse(R"({"echo": {"a": [1, 2]}, "worker": "1", "extra": "yes"})"));

  Reply bad = Score(port, "{not json");
  CHECK(bad.status == 400);
  CHECK(bad.Json()["message"] ==
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)");
  CHECK(!bad.header("x-ms-run-fn-exec-ms").empty());

  Reply failed = Score(port, R"({"fail": 1})");
  CHECK(failed.status == 500);
  CHECK(failed.Json()["message"] == "RuntimeError: the script failed on purpose");
  CHECK(failed.body.find("Traceback") == std::string::npos);

  Reply numbers = Score(port, R"({"numpy": 1})");
  CHECK(numbers.status == 200);
  CHECK(numbers.Json() == json::parse(R"({"array": [0, 1, 2], "scalar": 0.5, "int": 7})"));
  // A str that is JSON is sent as is; other text becomes a JSON string.
  CHECK(Score(port, R"({"text": "[1, 2]"})").body == "[1, 2]");
  CHECK(Score(port, R"({"text": "plain"})").body == "\"plain\"");

  std::string big = "{\"pad\": \"" + std::string(2000, 'x') + "\"}";
  Reply too_big = Score(port, big);
  CHECK(too_big.status == 413);
  CHECK(too_big.Json()["message"].get<std::string>().find("1000 bytes") != std::string::npos);
  CHECK(!too_big.header("x-request-id").empty());
  Request chunked;
  chunked.method = "POST";
  chunked.path = "/score";
  chunked.body = big;
  chunked.chunked = true;
  CHECK(Http(port, chunked).status == 413);

  CHECK(Get(port, "/nowhere").status == 404);
  CHECK(Get(port, "/nowhere").Json()["message"] == "no route GET /nowhere");
  CHECK(Score(port, R"({"after": true})").status == 200);
  // The script's traceback went to the log, prefixed with the worker's number.
  std::string log = serve.log();
  CHECK(log.find("[worker 1] Traceback (most recent call last):") != std::string::npos);
  CHECK(log.find("[worker 1] RuntimeError: the script failed on purpose") != std::string::npos);
  CHECK(log.find("echo init, model dir " + (dir.path() / "m").string() + " cwd " +
                 (dir.path() / "app").string()) != std::string::npos);
}

TEST_CASE("amlc serve answers 504 past the request timeout and replaces the worker", "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score.py").string(),
                           "--request-timeout-ms", "500", "--max-queue-wait-ms", "10000"});
  REQUIRE(serve.WaitReady());
  std::vector<pid_t> before = serve.Workers();
  auto started = std::chrono::steady_clock::now();
  Reply slow = Score(serve.port(), R"({"sleep": 10})");
  CHECK(slow.status == 504);
  CHECK(slow.Json()["message"].get<std::string>().find("500 ms") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  // The next request waits for the new worker's init() and succeeds.
  CHECK(Score(serve.port(), R"({"next": 1})").status == 200);
  CHECK(serve.Workers() != before);
  bool well_formed = false;
  auto metrics = ParseMetrics(Get(serve.port(), "/metrics").body, well_formed);
  CHECK(metrics["amlc_worker_restarts_total"] == 1);
  CHECK(metrics["amlc_requests_total{status=\"504\"}"] == 1);
  CHECK(Get(serve.port(), "/health/ready").status == 200);
}

TEST_CASE("amlc serve: a worker killed under load fails only the request it held", "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score.py").string(), "--workers", "2",
                           "--max-queue-wait-ms", "20000"});
  REQUIRE(serve.WaitReady());
  std::vector<pid_t> workers = serve.Workers();
  REQUIRE(workers.size() == 2);
  std::mutex mutex;
  std::map<int, int> statuses;
  std::vector<std::thread> clients;
  for (int client = 0; client < 4; ++client) {
    clients.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        int status = Score(serve.port(), R"({"sleep": 0.4})").status;
        std::lock_guard lock(mutex);
        ++statuses[status];
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  kill(workers[0], SIGKILL);
  for (std::thread& client : clients) client.join();
  CHECK(statuses[502] == 1);
  CHECK(statuses[200] == 11);
  // Afterwards every request succeeds again, on both workers.
  for (int i = 0; i < 4; ++i) CHECK(Score(serve.port(), R"({"after": 1})").status == 200);
  CHECK(serve.Workers().size() == 2);
  bool well_formed = false;
  auto metrics = ParseMetrics(Get(serve.port(), "/metrics").body, well_formed);
  CHECK(metrics["amlc_worker_restarts_total"] == 1);
  CHECK(metrics["amlc_workers_ready"] == 2);
  CHECK(serve.log().find(" exited while handling a request (request ") != std::string::npos);
}

TEST_CASE("amlc serve answers 503 when every worker stays busy past the queue wait", "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  ServeProcess serve(
      dir, {"--entry-script", (dir.path() / "score.py").string(), "--max-queue-wait-ms", "200"});
  REQUIRE(serve.WaitReady());
  std::thread slow([&] { CHECK(Score(serve.port(), R"({"sleep": 1.2})").status == 200); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto started = std::chrono::steady_clock::now();
  Reply busy = Score(serve.port(), R"({"x": 1})");
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(busy.status == 503);
  CHECK(busy.Json()["message"] == "all 1 workers are busy; waited 200 ms for one");
  CHECK(waited >= 0.19);
  CHECK(waited < 1.0);
  CHECK(Get(serve.port(), "/health/ready").status == 200);  // health needs no worker
  slow.join();
  CHECK(Score(serve.port(), R"({"x": 2})").status == 200);
}

TEST_CASE(
    "amlc serve checks keys: 401 without a valid one, both keys work, a rewritten file takes "
    "effect",
    "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  dir.Write("keys.json", R"({"primary": "key-one", "secondary": "key-two"})");
  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score.py").string(), "--keys-file",
                           (dir.path() / "keys.json").string()});
  REQUIRE(serve.WaitReady());  // health routes need no key
  int port = serve.port();
  Reply missing = Score(port, "{}");
  CHECK(missing.status == 401);
  CHECK(missing.Json()["message"].get<std::string>().find("Authorization: Bearer KEY") !=
        std::string::npos);
  CHECK(Score(port, "{}", {"Authorization: Bearer key-three"}).status == 401);
  CHECK(Score(port, "{}", {"Authorization: key-one"}).status == 401);
  CHECK(Score(port, "{}", {"Authorization: Bearer key-one"}).status == 200);
  CHECK(Score(port, "{}", {"Authorization: Bearer key-two"}).status == 200);

  // The secondary key is regenerated (written aside and renamed, as a key tool does).
  dir.Write("keys.new", R"({"primary": "key-one", "secondary": "key-four"})");
  fs::rename(dir.path() / "keys.new", dir.path() / "keys.json");
  CHECK(Score(port, "{}", {"Authorization: Bearer key-two"}).status == 401);
  CHECK(Score(port, "{}", {"Authorization: Bearer key-four"}).status == 200);
  CHECK(Score(port, "{}", {"Authorization: Bearer key-one"}).status == 200);
  // Rewritten in place too.
  dir.Write("keys.json", R"({"primary": "key-five", "secondary": "key-four"})");
  CHECK(Score(port, "{}", {"Authorization: Bearer key-one"}).status == 401);
  CHECK(Score(port, "{}", {"Authorization: Bearer key-five"}).status == 200);
}

TEST_CASE("amlc serve stays not ready when init() fails, with the traceback in its log",
          "[serving]") {
  SpecDir dir;
  dir.Write("score.py", R"(import os

def init():
    path = os.path.join(os.environ.get("AZUREML_MODEL_DIR", ""), "model.pkl")
    open(path, "rb")

def run(raw_data):
    return raw_data
)");
  fs::create_directories(dir.path() / "empty-model");
  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score.py").string(), "--model-dir",
                           (dir.path() / "empty-model").string(), "--workers", "2"});
  REQUIRE(serve.port() > 0);
  CHECK(Get(serve.port(), "/").status == 200);
  // Wait until the workers have reported.
  Reply ready;
  for (int i = 0; i < 200; ++i) {
    ready = Get(serve.port(), "/health/ready");
    if (ready.body.find("init() failed") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(ready.status == 503);
  std::string expected = "FileNotFoundError: [Errno 2] No such file or directory: '" +
                         (dir.path() / "empty-model/model.pkl").string() + "'";
  CHECK(ready.Json()["reason"].get<std::string>().find(expected) != std::string::npos);
  CHECK(ready.Json()["ready"] == false);
  CHECK(Get(serve.port(), "/v2/health/ready").status == 503);
  Reply scored = Score(serve.port(), "{}");
  CHECK(scored.status == 503);
  CHECK(scored.Json()["message"].get<std::string>().find(expected) != std::string::npos);
  std::string log = serve.log();
  CHECK(log.find("] Traceback (most recent call last):") != std::string::npos);
  CHECK(log.find("] " + expected) != std::string::npos);
  CHECK(log.find("open(path, \"rb\")") != std::string::npos);
  CHECK(Get(serve.port(), "/v2/health/live").body == "Healthy");
  CHECK(serve.Terminate() == 0);
}

TEST_CASE("amlc serve's /metrics is Prometheus text whose counts match the requests sent",
          "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score.py").string(), "--workers", "2"});
  REQUIRE(serve.WaitReady());
  for (int i = 0; i < 3; ++i) CHECK(Score(serve.port(), "{}").status == 200);
  for (int i = 0; i < 2; ++i) CHECK(Score(serve.port(), "nope").status == 400);
  CHECK(Score(serve.port(), R"({"fail": 1})").status == 500);
  Get(serve.port(), "/");  // health and metrics requests are not counted

  Reply reply = Get(serve.port(), "/metrics");
  CHECK(reply.status == 200);
  CHECK(reply.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  bool well_formed = false;
  auto metrics = ParseMetrics(reply.body, well_formed);
  CHECK(well_formed);
  CHECK(metrics["amlc_requests_total{status=\"200\"}"] == 3);
  CHECK(metrics["amlc_requests_total{status=\"400\"}"] == 2);
  CHECK(metrics["amlc_requests_total{status=\"500\"}"] == 1);
  CHECK(metrics["amlc_request_duration_seconds_count"] == 6);
  CHECK(metrics["amlc_request_duration_seconds_bucket{le=\"+Inf\"}"] == 6);
  CHECK(metrics["amlc_request_duration_seconds_sum"] > 0);
  CHECK(metrics["amlc_request_duration_seconds_bucket{le=\"0.001\"}"] <=
        metrics["amlc_request_duration_seconds_bucket{le=\"10\"}"]);
  CHECK(metrics["amlc_requests_in_flight"] == 0);
  CHECK(metrics["amlc_worker_restarts_total"] == 0);
  CHECK(metrics["amlc_workers_ready"] == 2);
  CHECK(reply.body.find("# TYPE amlc_request_duration_seconds histogram\n") != std::string::npos);
}

TEST_CASE("amlc serve writes telemetry lines, with bodies at sample rate 1.0 and without at 0.0",
          "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  for (const char* rate : {"1.0", "0.0"}) {
    std::string file = (dir.path() / (std::string("telemetry-") + rate + ".jsonl")).string();
    ServeProcess serve(dir,
                       {"--entry-script", (dir.path() / "score.py").string(), "--telemetry-file",
                        file, "--telemetry-sample-rate", rate},
                       std::string("serve-") + rate);
    REQUIRE(serve.WaitReady());
    CHECK(Score(serve.port(), R"({"n": 1})", {"x-request-id: t-1"}).status == 200);
    CHECK(Score(serve.port(), "bad", {"x-request-id: t-2"}).status == 400);
    std::string big = "{\"pad\": \"" + std::string(6000, 'y') + "\"}";
    CHECK(Score(serve.port(), big, {"x-request-id: t-3"}).status == 200);
    // Buffered, but written at least once a second.
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    std::vector<json> lines;
    std::istringstream in(ReadFile(file));
    for (std::string line; std::getline(in, line);)
      lines.push_back(json::parse(line, nullptr, false));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["request_id"] == "t-1");
    CHECK(lines[0]["status"] == 200);
    CHECK(lines[1]["status"] == 400);
    CHECK(lines[0]["latency_ms"].get<double>() > 0);
    CHECK(lines[0]["time"].get<int64_t>() > 1700000000000);
    if (std::string(rate) == "1.0") {
      CHECK(lines[0]["request_body"] == R"({"n": 1})");
      CHECK(json::parse(lines[0]["response_body"].get<std::string>())["echo"] ==
            json::parse(R"({"n": 1})"));
      CHECK(lines[1]["request_body"] == "bad");
      CHECK(lines[2]["request_body"].get<std::string>().size() == 4096);
    } else {
      for (const json& line : lines) {
        CHECK(!line.contains("request_body"));
        CHECK(!line.contains("response_body"));
      }
    }
    CHECK(serve.Terminate() == 0);
  }
}

TEST_CASE("amlc serve drains the request in progress on SIGTERM and exits 0", "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score.py").string()});
  REQUIRE(serve.WaitReady());
  std::vector<pid_t> workers = serve.Workers();
  Reply slow;
  std::thread client([&] { slow = Score(serve.port(), R"({"sleep": 1})"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(serve.Terminate() == 0);
  client.join();
  CHECK(slow.status == 200);
  CHECK(slow.Json()["echo"]["sleep"] == 1);
  // The workers are gone too.
  for (pid_t pid : workers) CHECK(kill(pid, 0) != 0);
  CHECK(serve.log().find("received SIGTERM") != std::string::npos);
}

TEST_CASE("amlc serve refuses bad options with exit code 2", "[serving]") {
  SpecDir dir;
  dir.Write("score.py", kEchoScript);
  std::string out;
  std::string amlc = std::string(AMLC_BINARY) + " serve ";
  CHECK(Run(amlc + "--entry-script " + (dir.path() / "missing.py").string() + " 2>&1", &out) == 2);
  CHECK(out.find("is not a file") != std::string::npos);
  CHECK(Run(amlc + "--entry-script " + (dir.path() / "score.py").string() + " --workers 0 2>&1",
            &out) == 2);
  CHECK(Run(amlc + "--entry-script " + (dir.path() / "score.py").string() + " --env NOEQUALS 2>&1",
            &out) == 2);
  CHECK(Run(amlc + "--entry-script " + (dir.path() / "score.py").string() +
                " --telemetry-sample-rate 2 2>&1",
            &out) == 2);
}

TEST_CASE("amlc serve answers GET /score, swagger.json, @rawhttp and KServe v2 as Azure ML's server does",
          "[serving]") {
  SpecDir dir;
  dir.Write("score.py", R"(import json
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse
from inference_schema.schema_decorators import input_schema, output_schema
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType

def init():
    pass

@rawhttp
def run(request):
    if request.method == "GET":
        return AMLResponse(json.dumps({"name": request.args.get("name")}), 200, {"x-from-script": "yes"}, json_str=True)
    sums = [sum(row) for row in request.get_json()["input_data"]]
    if request.headers.get("x-customer") is None:
        return sums
    return {"sums": sums, "customer": request.headers.get("x-customer"),
            "content_type": request.headers.get("Content-Type")}
)");
  dir.Write("schema/score.py", R"(from inference_schema.schema_decorators import input_schema, output_schema
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType

def init():
    pass

@input_schema("x", StandardPythonParameterType([1.5]))
@output_schema(StandardPythonParameterType(3.0))
def run(x):
    return sum(x)
)");
  fs::create_directories(dir.path() / "models/diabetes/2");
  ServeProcess serve(dir, {"--entry-script", (dir.path() / "score.py").string(), "--model-dir",
                           (dir.path() / "models/diabetes/2").string(), "--answer-header",
                           "x-amlc-models: diabetes:2"});
  REQUIRE(serve.WaitReady());
  Reply get = Get(serve.port(), "/score?name=ada");
  CHECK(get.status == 200);
  CHECK(get.Json() == json::parse(R"({"name": "ada"})"));
  CHECK(get.header("x-from-script") == "yes");
  CHECK(get.header("x-amlc-models") == "diabetes:2");
  // A plain POST /score: the @rawhttp script sees the request's headers, as on Azure.
  Reply posted = Score(serve.port(), R"({"input_data": [[1, 2], [3, 4]]})",
                       {"X-Customer: contoso", "Content-Type: application/json"});
  CHECK(posted.status == 200);
  CHECK(posted.Json() ==
        json::parse(R"({"sums": [3, 7], "customer": "contoso", "content_type": "application/json"})"));
  CHECK(Get(serve.port(), "/swagger.json").status == 404);  // this script declares no schema
  CHECK(Get(serve.port(), "/v2").Json()["name"] == "amlc");
  CHECK(Get(serve.port(), "/v2/models/diabetes").Json()["versions"] == json::parse(R"(["2"])"));
  CHECK(Get(serve.port(), "/v2/models/diabetes/versions/2/ready").status == 200);
  Request infer;
  infer.method = "POST";
  infer.path = "/v2/models/diabetes/infer";
  infer.body = R"({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]}]})";
  Reply inferred = Http(serve.port(), infer);
  CHECK(inferred.status == 200);
  CHECK(inferred.Json()["outputs"][0]["data"] == json::parse("[3, 7]"));
  CHECK(serve.Terminate() == 0);

  ServeProcess schema(dir, {"--entry-script", (dir.path() / "schema/score.py").string()}, "schema");
  REQUIRE(schema.WaitReady());
  Reply swagger = Get(schema.port(), "/swagger.json");
  CHECK(swagger.status == 200);
  CHECK(swagger.Json()["definitions"]["ServiceInput"]["properties"]["x"]["type"] == "array");
  CHECK(Score(schema.port(), R"({"x": [1, 2.5]})").Json() == json::parse("3.5"));
  CHECK(schema.Terminate() == 0);
}
