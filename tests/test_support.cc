#include "tests/test_support.h"

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

namespace amlc::testing {

namespace fs = std::filesystem;

SpecDir::SpecDir() {
  std::random_device random;
  path_ = fs::temp_directory_path() / ("amlc-test-" + std::to_string(getpid()) + "-" +
                                       std::to_string(random()));
  fs::create_directories(path_);
}

SpecDir::~SpecDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

void SpecDir::Write(const std::string& relative, const std::string& contents) {
  fs::path file = path_ / relative;
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << contents;
}

std::unique_ptr<compiler::Compilation> CompilePath(const std::string& path) {
  auto tree = compiler::DiskSourceTree::Open(path);
  if (!tree.ok()) return nullptr;
  return compiler::Compile(tree.value());
}

std::unique_ptr<compiler::Compilation> CompileFiles(const std::map<std::string, std::string>& files) {
  SpecDir dir;
  for (const auto& [name, contents] : files) dir.Write(name, contents);
  return CompilePath(dir.str());
}

std::string Rendered(const compiler::Compilation& compilation) {
  std::string out;
  for (const compiler::Diagnostic& d : compilation.diagnostics.Sorted(compilation.sources)) {
    out += compiler::RenderDiagnostic(compilation.sources, d, {false});
  }
  return out;
}

std::vector<std::string> ErrorLocations(const compiler::Compilation& compilation) {
  std::vector<std::string> out;
  for (const compiler::Diagnostic& d : compilation.diagnostics.Sorted(compilation.sources)) {
    if (d.severity != compiler::Severity::kError) continue;
    std::string where = "-";
    if (d.range.valid()) {
      compiler::LineColumn at = compilation.sources.Resolve(d.range.file, d.range.begin);
      where = fs::path(compilation.sources.path(d.range.file)).filename().string() + ":" +
              std::to_string(at.line) + ":" + std::to_string(at.column);
    }
    out.push_back(where + ": " + compiler::DiagCodeName(d.code));
  }
  return out;
}

int Run(const std::string& command, std::string* output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) text.append(buffer, n);
  int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string SourcePath(const std::string& relative) {
  return std::string(AMLC_SOURCE_DIR) + "/" + relative;
}

std::string Amlc(const std::string& args) { return std::string(AMLC_BINARY) + " " + args; }

nlohmann::json AmlcJson(const std::string& dir, const std::string& args) {
  std::string out;
  if (Run(Amlc(args + " --json --workspace " + dir + "/.amlc"), &out) != 0) return nlohmann::json();
  return nlohmann::json::parse(out, nullptr, false);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string TestServersDir() {
  const char* env = std::getenv("AMLC_TEST_SERVERS_DIR");
  return env != nullptr && *env != '\0' ? env : AMLC_TEST_SERVERS_DIR;
}

std::string TestServerAddress(const std::string& name) {
  std::filesystem::path file = std::filesystem::path(TestServersDir()) / (name + ".addr");
  if (!std::filesystem::exists(file)) {
    FAIL("the registry test servers are not running (no " + file.string() +
         "). Run the [registry] tests through ctest (its fixture 'registry' starts them: "
         "ctest --test-dir build -L registry), or start them yourself with\n  " +
         SourcePath("tests/servers/registry.sh") + " start " + TestServersDir() +
         "\nand stop them with '... stop " + TestServersDir() + "'");
  }
  std::string address = ReadFile(file);
  while (!address.empty() && (address.back() == '\n' || address.back() == ' ')) address.pop_back();
  return address;
}

QuickstartFolder::QuickstartFolder() {
  std::filesystem::copy(SourcePath("examples/quickstart"), dir_.path(), std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(dir_.path() / ".amlc");
}

QuickstartFolder::~QuickstartFolder() { Run(Amlc("destroy --auto-approve " + dir_.str() + " > /dev/null 2>&1")); }

int QuickstartFolder::Apply(std::string* out) { return Run(Amlc("apply --auto-approve " + str() + " 2>&1"), out); }

std::string QuickstartFolder::Key() { return AmlcJson(str(), "deployments keys blue").value("primary", ""); }

std::string QuickstartFolder::ScoringUri() {
  nlohmann::json list = AmlcJson(str(), "deployments list");
  return list.is_array() && !list.empty() ? list[0].value("scoring_uri", "") : "";
}

int QuickstartFolder::Score(const std::string& key, std::string* body) {
  std::string out;
  std::string auth = key.empty() ? "" : " -H 'Authorization: Bearer " + key + "'";
  Run("curl -s -o /dev/stdout -w '\\n%{http_code}' -H 'Content-Type: application/json'" + auth + " --data @" +
          SourcePath("examples/quickstart/sample-request.json") + " " + ScoringUri(),
      &out);
  size_t newline = out.rfind('\n');
  if (body) *body = out.substr(0, newline);
  return newline == std::string::npos ? 0 : std::atoi(out.c_str() + newline + 1);
}

void WriteTwoStepPipeline(SpecDir& dir, const std::string& compute, const std::string& experiment) {
  dir.Write("prep/prep.sh", "echo \"$1\" | tr a-z A-Z > \"$2/clean.txt\"\n");
  dir.Write("count/count.sh", "echo \"input $1\"\nwc -c < \"$1/clean.txt\" | tr -d ' ' > \"$2/count.txt\"\n");
  dir.Write("pipeline.yaml",
            "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
            "type: pipeline\nname: p\nexperiment_name: " + experiment + "\ncompute: azureml:" + compute + "\n"
            "inputs:\n  text: hello\njobs:\n"
            "  prep:\n    code: ./prep\n    command: sh prep.sh ${{inputs.text}} ${{outputs.clean}}\n"
            "    inputs:\n      text: ${{parent.inputs.text}}\n    outputs:\n      clean:\n"
            "  count:\n    code: ./count\n    command: sh count.sh ${{inputs.data}} ${{outputs.n}}\n"
            "    inputs:\n      data: ${{parent.jobs.prep.outputs.clean}}\n    outputs:\n      n:\n");
}

BusyboxImage::BusyboxImage() {
  if (Run("command -v podman >/dev/null && test -x /usr/bin/busybox") != 0 || Podman("info") != 0) {
    missing_ = "podman or busybox-static is missing or podman cannot run here: run scripts/install-deps.sh";
    return;
  }
  std::string root = store_.str();
  store_.Write("rootfs/etc/amlc-image", "inside the busybox image\n");
  if (Run("mkdir -p " + root + "/rootfs/bin && cp /usr/bin/busybox " + root + "/rootfs/bin/ && "
          "for a in sh echo cat date sleep; do ln -s busybox " + root + "/rootfs/bin/$a; done && "
          "tar -C " + root + "/rootfs -cf " + root + "/rootfs.tar .") != 0 ||
      Podman("import " + root + "/rootfs.tar " + name()) != 0) {
    missing_ = "podman could not import an image made from busybox";
  }
}

BusyboxImage::~BusyboxImage() {
  if (missing_.empty()) Podman("rmi --all --force");
}

std::string BusyboxImage::env() const {
  return "AMLC_PODMAN_ROOT=" + store_.str() + "/storage AMLC_PODMAN_RUNROOT=" + store_.str() + "/run ";
}

int BusyboxImage::Podman(const std::string& args, std::string* out) const {
  std::string ignored;
  return Run(env() + SourcePath("scripts/podman.sh") + " " + args + (out ? " 2>/dev/null" : " >/dev/null 2>&1"),
             out ? out : &ignored);
}

}  // namespace amlc::testing
