// Benchmark of hostile spec shapes through `amlc validate` (issue 12, item 5).
//
//   spec_limits_bench [--amlc PATH] [--sizes-mb "1 8 60"]
//
// For each size, writes a job whose `tags:` mapping has keys (in no order)
// until the file holds that many MB, and times `amlc validate` on it as a
// child process: wall seconds, CPU seconds and peak RSS (wait4's ru_maxrss).
// The baseline, measured in the same run over the same bytes, is yaml-cpp's
// event parser with a handler that does nothing: the floor any YAML front end
// pays. `cpu/base` is the ratio, and `exp` the growth exponent of amlc's CPU
// time against the previous size (1.00 is linear; the vector-of-pairs map
// with a linear duplicate scan was 2). Then the 469-byte "billion laughs"
// spec: its wall time, peak RSS and exit status (1: refused). A benchmark,
// not a test: the exit status is 0 whatever the timings.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Measured {
  double wall = 0, cpu = 0;
  long rss_mb = 0;
  int exit_code = -1;
};

Measured RunValidate(const std::string& amlc, const std::string& dir) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(amlc.c_str(), amlc.c_str(), "validate", dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  Measured m;
  m.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  m.rss_mb = usage.ru_maxrss / 1024;
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return m;
}

class NoOpHandler : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

double ParseFloorSeconds(const std::string& text) {
  auto start = std::clock();
  std::istringstream input(text);
  YAML::Parser parser(input);
  NoOpHandler handler;
  while (parser.HandleNextDocument(handler)) {
  }
  return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
}

constexpr char kJobHead[] =
    "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
    "type: command\nname: bench\ncommand: echo hi\nenvironment: {image: python}\n";

std::string HugeTags(size_t bytes) {
  std::string text = std::string(kJobHead) + "tags:\n";
  for (size_t i = 0; text.size() < bytes; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "  k%012llx_%zu: v%zu\n",
                  static_cast<unsigned long long>(((i + 1) * 0x9E3779B97F4A7C15ull) >> 16), i, i);
    text += line;
  }
  return text;
}

std::string BillionLaughs() {
  std::string text = std::string(kJobHead) + "tags:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char name = 'b'; name <= 'i'; ++name) {
    text += std::string("  ") + name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) text += std::string(i ? "," : "") + "*" + static_cast<char>(name - 1);
    text += "]\n";
  }
  return text;
}

void WriteSpec(const fs::path& dir, const std::string& text) {
  fs::create_directories(dir);
  std::ofstream(dir / "job.yaml") << text;
}

}  // namespace

int main(int argc, char** argv) {
  std::string amlc = "build/cli/amlc";
  std::vector<int> sizes{1, 8, 60};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--amlc") == 0) amlc = argv[i + 1];
    if (std::strcmp(argv[i], "--sizes-mb") == 0) {
      sizes.clear();
      std::istringstream list(argv[i + 1]);
      for (int mb; list >> mb;) sizes.push_back(mb);
    }
  }
  fs::path root = fs::temp_directory_path() / ("amlc-spec-limits-bench-" + std::to_string(getpid()));
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  std::printf("amlc: %s   load average: %.2f\n\n", amlc.c_str(), load);
  std::printf("%-10s %8s %8s %8s %8s %9s %6s %5s\n", "tags", "wall_s", "cpu_s", "base_s", "rss_mb", "cpu/base",
              "exp", "exit");
  double previous_cpu = 0;
  int previous_mb = 0;
  for (int mb : sizes) {
    std::string text = HugeTags(static_cast<size_t>(mb) << 20);
    fs::path dir = root / ("tags" + std::to_string(mb));
    WriteSpec(dir, text);
    double base = ParseFloorSeconds(text);
    Measured m = RunValidate(amlc, dir.string());
    double growth = previous_cpu > 0 ? std::log(m.cpu / previous_cpu) / std::log(double(mb) / previous_mb) : 0;
    std::printf("%-10s %8.2f %8.2f %8.2f %8ld %9.2f %6s %5d\n", (std::to_string(mb) + " MB").c_str(), m.wall,
                m.cpu, base, m.rss_mb, m.cpu / base,
                previous_cpu > 0 ? std::to_string(growth).substr(0, 4).c_str() : "-", m.exit_code);
    previous_cpu = m.cpu;
    previous_mb = mb;
    fs::remove_all(dir);
  }
  std::string bomb = BillionLaughs();
  WriteSpec(root / "bomb", bomb);
  Measured m = RunValidate(amlc, (root / "bomb").string());
  std::printf("\nbillion laughs (%zu bytes): wall %.2f s, cpu %.2f s, peak RSS %ld MB, exit %d (1: refused)\n",
              bomb.size(), m.wall, m.cpu, m.rss_mb, m.exit_code);
  fs::remove_all(root);
  return 0;
}
