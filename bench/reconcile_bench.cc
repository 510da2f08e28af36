// Benchmark of the reconciler (reconciler/loop) on a generated repository.
//
//   reconcile_bench [--n N] [--pushes P] [--keep]
//
// Writes N resources (default 1,000: jobs in chains, fan-out and fan-in,
// pipelines, models; bench/gen_specs.py) into a git repository with a bare
// origin under /tmp/amlc-reconcile-bench-<pid>, converges a workspace on it
// with a first pass (every job runs once; untimed beyond its total), then
// measures in the same run:
//
//   no-change pass   a pass where nothing changed, the commit compiled
//                    already: fetch, resolve, plan against the live state
//                    (median of 10; target: under 100 ms)
//   baseline         what a reconciler without a compiled commit pays per
//                    pass: `git fetch` + `git checkout` of a clone and
//                    `amlc plan` of its specs, as separate processes
//   push to apply    a commit (the workspace's description changed) pushed,
//                    then a signed push webhook POSTed to the running loop's
//                    server: the time from sending the webhook to the loop's
//                    "applying" line (median of P pushes, default 5;
//                    target: under 1 s)
//
// Ratios are printed against the baseline. A benchmark, not a test: the exit
// status is 0 whatever the timings (1 only when the setup fails).

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "reconciler/loop/reconciler.h"
#include "reconciler/server/api_server.h"
#include "runtime/serving/endpoint/http_client.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using amlc::reconciler::Reconciler;

namespace {

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

bool Shell(const std::string& command) {
  if (std::system(command.c_str()) == 0) return true;
  std::fprintf(stderr, "reconcile_bench: failed: %s\n", command.c_str());
  return false;
}

std::string HmacHex(const std::string& secret, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

// Waits for the loop's log to show a line containing `needle` after `mark`
// lines; returns when it was seen.
class LogWatch {
 public:
  void Line(const std::string& line) {
    std::lock_guard lock(mutex_);
    if (echo_) std::fprintf(stderr, "    | %s\n", line.c_str());
    lines_.push_back({Clock::now(), line});
    seen_.notify_all();
  }
  size_t Mark() {
    std::lock_guard lock(mutex_);
    return lines_.size();
  }
  Clock::time_point WaitFor(size_t mark, const std::string& needle) {
    std::unique_lock lock(mutex_);
    for (;;) {
      for (size_t i = mark; i < lines_.size(); ++i) {
        if (lines_[i].second.find(needle) != std::string::npos) return lines_[i].first;
      }
      if (seen_.wait_for(lock, std::chrono::seconds(120)) == std::cv_status::timeout) return Clock::now();
    }
  }

 private:
  bool echo_ = std::getenv("AMLC_BENCH_VERBOSE") != nullptr;
  std::mutex mutex_;
  std::condition_variable seen_;
  std::vector<std::pair<Clock::time_point, std::string>> lines_;
};

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
  int n = 1000, pushes = 5;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--n" && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (arg == "--pushes" && i + 1 < argc) pushes = std::atoi(argv[++i]);
    else if (arg == "--keep") keep = true;
  }
  std::string root = "/tmp/amlc-reconcile-bench-" + std::to_string(getpid());
  std::string work = root + "/work", origin = root + "/origin.git", clone = root + "/clone";
  std::string amlc = fs::canonical("/proc/self/exe").parent_path().parent_path().string() + "/cli/amlc";
  std::string git = "git -C " + work + " -c user.name=bench -c user.email=bench@example.com ";
  fs::create_directories(work);
  // Every compute target local (gen_specs also writes a batch cluster, which
  // this machine cannot run), so each job really runs and is observed.
  if (!Shell("python3 " AMLC_SOURCE_DIR "/bench/gen_specs.py " + std::to_string(n) + " " + work + "/specs") ||
      !Shell("sed -i 's/^type: amlcompute$/type: local/' " + work + "/specs/*.yaml") ||
      !Shell("git init -q -b main " + work) || !Shell(git + "add -A") || !Shell(git + "commit -q -m specs") ||
      !Shell("git clone -q --bare " + work + " " + origin) || !Shell(git + "remote add origin " + origin) ||
      !Shell("git clone -q " + origin + " " + clone)) {
    return 1;
  }

  LogWatch watch;
  amlc::reconciler::ReconcileOptions options;
  options.repository = origin;
  options.path = "specs";
  options.data_dir = root + "/data";
  options.interval_seconds = 3600;  // passes come from the bench, not the timer
  options.log = [&watch](const std::string& line) { watch.Line(line); };
  auto loop = Reconciler::Create(options);
  if (!loop.ok()) {
    std::fprintf(stderr, "reconcile_bench: %s\n", loop.status().message().c_str());
    return 1;
  }
  Reconciler& reconciler = *loop.value();

  std::printf("reconcile_bench: %d resources in %s\n", n, work.c_str());
  auto started = Clock::now();
  amlc::reconciler::PassOutcome first = reconciler.RunPass("bench: converge");
  std::printf("  first pass (every job runs)   %8.1f s   %s\n", Seconds(started), first.result.c_str());
  amlc::reconciler::PassOutcome settle = reconciler.RunPass("bench: settle");
  if (settle.result != "Synced") std::printf("  (second pass: %s)\n", settle.result.c_str());

  std::vector<double> passes;
  for (int i = 0; i < 10; ++i) {
    auto t = Clock::now();
    amlc::reconciler::PassOutcome outcome = reconciler.RunPass("bench: no change");
    passes.push_back(Seconds(t));
    if (outcome.applied) std::printf("  (a no-change pass applied something: %s)\n", outcome.result.c_str());
  }
  std::vector<double> baselines;
  for (int i = 0; i < 3; ++i) {
    auto t = Clock::now();
    Shell("git -C " + clone + " fetch -q origin && git -C " + clone + " checkout -q origin/main && " + amlc +
          " plan " + clone + "/specs --workspace " + root + "/data/workspace > /dev/null 2>&1");
    baselines.push_back(Seconds(t));
  }
  double pass = Median(passes), baseline = Median(baselines);
  std::printf("  baseline: fetch+checkout+plan %8.1f ms\n", baseline * 1000);
  std::printf("  no-change pass                %8.1f ms   %.3fx baseline   (target < 100 ms)\n", pass * 1000,
              pass / baseline);

  // Push to apply, through the webhook server and the running loop.
  const std::string secret = "bench-secret";
  amlc::reconciler::ApiServer server(reconciler, secret);
  if (!server.Start("127.0.0.1", 0).ok()) return 1;
  std::thread runner([&] { reconciler.Run(); });
  amlc::runtime::endpoint::HttpClient client("127.0.0.1", server.port());
  std::vector<double> latencies;
  for (int i = 0; i < pushes; ++i) {
    std::ofstream(work + "/specs/zz-bench-push.yaml")
        << "$schema: compute.schema.json\nname: bench-push\ntype: local\ndescription: push "
        << i << "\n";
    if (!Shell(git + "add -A") || !Shell(git + "commit -q -m push") || !Shell(git + "push -q origin main 2>/dev/null")) {
      break;
    }
    std::string head;
    if (FILE* rev = popen(("git -C " + work + " rev-parse HEAD").c_str(), "r")) {
      char text[64] = {0};
      if (fgets(text, sizeof text, rev)) head = std::string(text).substr(0, 40);
      pclose(rev);
    }
    std::string body = R"({"ref": "refs/heads/main", "after": ")" + head + R"(", "pusher": {"name": "bench"}})";
    size_t mark = watch.Mark();
    auto sent = Clock::now();
    auto response = client.Post("/hooks/github", body, "application/json",
                                {{"X-GitHub-Event", "push"}, {"X-Hub-Signature-256", "sha256=" + HmacHex(secret, body)}});
    if (!response.ok() || response->status != 202) {
      std::fprintf(stderr, "reconcile_bench: the webhook was not accepted\n");
      break;
    }
    Clock::time_point applying = watch.WaitFor(mark, ": applying ");
    latencies.push_back(std::chrono::duration<double>(applying - sent).count());
    watch.WaitFor(mark, ": Synced at ");  // let the apply finish before the next push
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  reconciler.Stop();
  runner.join();
  server.Stop();
  double latency = Median(latencies);
  std::printf("  push to apply (webhook)       %8.1f ms   %.3fx baseline   (target < 1 s; median of %zu)\n",
              latency * 1000, latency / baseline, latencies.size());
  if (!keep) fs::remove_all(root);
  return 0;
}
