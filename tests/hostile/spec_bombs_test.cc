// Specs built to exhaust memory or time, replayed against the amlc binary:
// a YAML "billion laughs" (nine anchors of nine aliases each, a few hundred
// bytes that once took validate to 19 GB), and maps of hundreds of thousands
// of keys (8 MB of `tags:` once took 16.7 s; 60 MB never finished). Peak
// memory is measured from outside, by wait4's ru_maxrss of the process;
// a watchdog kills it past a bound only a regression reaches, so a broken
// build fails the test instead of the machine.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_support.h"

namespace amlc::testing {
namespace {

struct Watched {
  int exit_code = -1;   // -1 when killed or not started
  bool killed = false;  // by the watchdog: over the memory or time bound
  long max_rss_kb = 0;  // ru_maxrss of the process
  double seconds = 0;
  std::string output;  // stdout and stderr
};

// Resident set of a running process, from /proc (0 when gone).
long ResidentKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Runs the amlc binary with `args` (no shell between, so wait4 reports amlc
// itself), killing it once its resident set passes `kill_rss_kb` or it runs
// `hang_seconds`.
Watched RunAmlcWatched(const std::vector<std::string>& args, long kill_rss_kb, double hang_seconds) {
  Watched result;
  SpecDir scratch;
  std::string log = scratch.str() + "/output.txt";
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(AMLC_BINARY)};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(AMLC_BINARY, argv.data());
    _exit(127);
  }
  REQUIRE(pid > 0);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, WNOHANG, &usage) == 0) {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.killed && (ResidentKb(pid) > kill_rss_kb || elapsed > hang_seconds)) {
      kill(pid, SIGKILL);
      result.killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.max_rss_kb = usage.ru_maxrss;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.output = ReadFile(log);
  return result;
}

constexpr char kJobHead[] =
    "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
    "type: command\n"
    "name: bomb\n"
    "command: echo hi\n"
    "environment: {image: python}\n";

// Nine anchors of nine aliases each: 9^9 (387 million) strings once expanded.
std::string BillionLaughs() {
  std::string text = std::string(kJobHead) + "tags:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char name = 'b'; name <= 'i'; ++name) {
    text += std::string("  ") + name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) text += std::string(i ? "," : "") + "*" + static_cast<char>(name - 1);
    text += "]\n";
  }
  return text;
}

// A job whose `tags:` mapping has keys until the file holds `bytes`.
std::string HugeTags(size_t bytes, size_t* keys) {
  std::string text = std::string(kJobHead) + "tags:\n";
  *keys = 0;
  // Keys in no particular order (a multiplicative hash of the index), as people write them.
  while (text.size() < bytes) {
    uint64_t scrambled = (*keys + 1) * 0x9E3779B97F4A7C15ull;
    char line[64];
    std::snprintf(line, sizeof line, "  k%012llx_%zu: v%zu\n",
                  static_cast<unsigned long long>(scrambled >> 16), *keys, *keys);
    text += line;
    ++*keys;
  }
  return text;
}

// Kills a regression long before it takes the machine: the bomb took 19 GB.
constexpr long kKillRssKb = 2L << 20;

TEST_CASE("a YAML billion laughs is refused at the alias that crosses the bound, in bounded memory",
          "[hostile]") {
  SpecDir dir;
  std::string bomb = BillionLaughs();
  REQUIRE(bomb.size() < 600);
  dir.Write("job.yaml", bomb);

  Watched validate = RunAmlcWatched({"validate", dir.str()}, kKillRssKb, 120);
  INFO(validate.output);
  UNSCOPED_INFO("validate: " << validate.max_rss_kb << " KB peak, " << validate.seconds << " s");
  CHECK_FALSE(validate.killed);
  CHECK(validate.exit_code == 1);
  // Where: the first alias of `f` (line 12) is the one whose copy crosses 100,000 values.
  CHECK(validate.output.find("job.yaml:12:") != std::string::npos);
  CHECK(validate.output.find("error: alias '*e' expands past 100000 aliased values in this file") !=
        std::string::npos);
  CHECK(validate.max_rss_kb < 512 * 1024);

  // preview compiles the same file from a commit's tree.
  REQUIRE(Run("git init -q -b main " + dir.str() + " && git -C " + dir.str() +
              " add job.yaml && git -C " + dir.str() +
              " -c user.name=t -c user.email=t@127.0.0.1 commit -q -m bomb") == 0);
  Watched preview = RunAmlcWatched(
      {"preview", "--repo", dir.str(), "--head", "main", "--data-dir", dir.str() + "/rec"}, kKillRssKb, 120);
  INFO(preview.output);
  CHECK_FALSE(preview.killed);
  CHECK(preview.exit_code != 0);
  CHECK(preview.output.find("alias '*e' expands past 100000 aliased values") != std::string::npos);
  CHECK(preview.max_rss_kb < 512 * 1024);
}

TEST_CASE("an alias that would nest a spec past 64 levels is refused", "[hostile]") {
  // Each anchor holds a list of the previous one: a few bytes per level, and
  // the expanded tree (not the text) is 80 levels deep.
  std::string text = std::string(kJobHead) + "tags:\n  l0: &l0 [x]\n";
  for (int level = 1; level < 80; ++level) {
    text += "  l" + std::to_string(level) + ": &l" + std::to_string(level) + " [*l" +
            std::to_string(level - 1) + "]\n";
  }
  SpecDir dir;
  dir.Write("job.yaml", text);
  Watched validate = RunAmlcWatched({"validate", dir.str()}, kKillRssKb, 120);
  INFO(validate.output);
  CHECK(validate.exit_code == 1);
  CHECK(validate.output.find("nests the spec deeper than 64 levels") != std::string::npos);
}

TEST_CASE("8 MB of tags validates in a time only a hang exceeds", "[hostile]") {
  size_t keys = 0;
  SpecDir dir;
  dir.Write("job.yaml", HugeTags(8u << 20, &keys));
  REQUIRE(keys > 250000);
  Watched validate = RunAmlcWatched({"validate", dir.str()}, kKillRssKb * 2, 120);
  INFO(validate.output);
  UNSCOPED_INFO("validate of " << keys << " tags: " << validate.seconds << " s, " << validate.max_rss_kb
                               << " KB peak");
  CHECK_FALSE(validate.killed);
  CHECK(validate.exit_code == 0);
  CHECK(validate.output.find("1 resource in 1 file, no problems") != std::string::npos);
}

TEST_CASE("a duplicate key in a huge map is reported with both places", "[hostile]") {
  size_t keys = 0;
  std::string text = HugeTags(1u << 20, &keys);
  // Repeat the first tag's key as the last line.
  size_t first = text.find("tags:\n") + 8;
  std::string first_key = text.substr(first, text.find(':', first) - first);
  text += "  " + first_key + ": again\n";
  SpecDir dir;
  dir.Write("job.yaml", text);
  int first_line = 7, last_line = 7 + static_cast<int>(keys);

  Watched validate = RunAmlcWatched({"validate", dir.str()}, kKillRssKb, 120);
  INFO(validate.output);
  CHECK(validate.exit_code == 1);
  CHECK(validate.output.find("job.yaml:" + std::to_string(last_line) + ":3: error: duplicate key '" +
                             first_key + "'") != std::string::npos);
  CHECK(validate.output.find("job.yaml:" + std::to_string(first_line) + ":3: note: first given here") !=
        std::string::npos);
}

TEST_CASE("a duplicate key in a DSL block is reported with both places", "[hostile]") {
  SpecDir dir;
  dir.Write("compute.aml",
            "compute \"local\" {\n"
            "  type = local\n"
            "  max_concurrent = 2\n"
            "  max_concurrent = 3\n"
            "}\n");
  Watched validate = RunAmlcWatched({"validate", dir.str()}, kKillRssKb, 120);
  INFO(validate.output);
  CHECK(validate.exit_code == 1);
  CHECK(validate.output.find("compute.aml:4:3: error: duplicate key 'max_concurrent'") != std::string::npos);
  CHECK(validate.output.find("compute.aml:3:3: note: first given here") != std::string::npos);
}

}  // namespace
}  // namespace amlc::testing
