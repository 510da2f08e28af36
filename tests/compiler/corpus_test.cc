// The real Azure ML CLI v2 specs in ../shared/corpus/azureml (written outside
// this project): every file is read without a crash; the kinds amlc carries
// out compile with no error but missing local files (their scripts and data
// are not in the corpus) and placeholder syntax the examples' scripts fill in.
#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "tests/test_support.h"

using namespace amlc::compiler;
using namespace amlc::testing;
namespace fs = std::filesystem;

namespace {

struct KindCounts {
  int files = 0;
  int compiled = 0;        // no error at all
  int missing_files = 0;   // only missing local files
  int skipped = 0;         // skipped with a warning naming the feature, or not a spec
  int other_errors = 0;
};

std::map<std::string, std::string> ReadIndex(const fs::path& index) {
  std::map<std::string, std::string> kinds;
  std::ifstream in(index);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string path, kind;
    std::getline(fields, path, '\t');
    std::getline(fields, kind, '\t');
    kinds[path] = kind;
  }
  return kinds;
}

const std::set<std::string> kMustCompile = {
    "commandJob", "sweepJob", "environment", "model", "amlCompute", "computeInstance",
    "vmCompute", "kubernetesCompute", "data", "managedOnlineEndpoint", "managedOnlineDeployment",
    "kubernetesOnlineEndpoint", "kubernetesOnlineDeployment"};

}  // namespace

TEST_CASE("the Azure ML corpus compiles without crashes or unexplained errors", "[corpus]") {
  fs::path corpus = SourcePath("../shared/corpus/azureml");
  if (!fs::exists(corpus / "INDEX.tsv")) {
    WARN("no corpus at " << corpus << "; nothing to check");
    return;
  }
  std::map<std::string, std::string> kinds = ReadIndex(corpus / "INDEX.tsv");
  std::map<std::string, KindCounts> counts;
  int total = 0;
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
    std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() && (extension == ".yml" || extension == ".yaml")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::string relative = fs::relative(file, corpus).generic_string();
    std::string kind = kinds.count(relative) ? kinds[relative] : "(not in INDEX.tsv)";
    auto c = CompilePath(file.string());
    REQUIRE(c);
    ++total;
    KindCounts& k = counts[kind];
    ++k.files;
    bool syntax_only_placeholder = false;
    int missing = 0, others = 0, unsupported = 0;
    for (const Diagnostic& d : c->diagnostics.diagnostics()) {
      if (d.code == DiagCode::kUnsupported || d.code == DiagCode::kNotASpec) ++unsupported;
      if (d.severity != Severity::kError) continue;
      // Compiled file by file, the examples' shared folders (../model-1) lie
      // outside each file's folder: as good as missing here.
      if (d.code == DiagCode::kMissingFile || d.code == DiagCode::kOutsideRoot) {
        ++missing;
      } else if (d.code == DiagCode::kSyntax) {
        syntax_only_placeholder = true;  // {{PLACEHOLDER}} templates are not YAML yet
      } else {
        ++others;
      }
    }
    if (others > 0) {
      ++k.other_errors;
    } else if (missing > 0 || syntax_only_placeholder) {
      ++k.missing_files;
    } else if (c->graph.size() == 0 && unsupported > 0) {
      ++k.skipped;
    } else {
      ++k.compiled;
    }
    if (kMustCompile.count(kind)) {
      INFO(relative << "\n" << Rendered(*c));
      CHECK(others == 0);
    }
  }
  std::cout << "\nAzure ML corpus: " << total << " files\n"
            << "kind\tfiles\tcompiled\tonly-missing-local-files-or-placeholders\tskipped-with-warning\tother-errors\n";
  for (const auto& [kind, k] : counts) {
    std::cout << kind << '\t' << k.files << '\t' << k.compiled << '\t' << k.missing_files << '\t'
              << k.skipped << '\t' << k.other_errors << '\n';
  }
  CHECK(total == static_cast<int>(files.size()));
  CHECK(total >= 117);
}
