#ifndef AMLC_TESTS_FUZZ_MEMORY_TREE_H_
#define AMLC_TESTS_FUZZ_MEMORY_TREE_H_

// An in-memory SourceTree for the fuzz targets: no disk I/O per input, so
// libFuzzer runs fast and inputs cannot touch the file system. Paths are
// compared after ResolveRelative-style normalization, exactly as the
// analyzer builds them ("dir/../a.yml" -> "a.yml").

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "compiler/support/source_tree.h"

namespace amlc::fuzz {

class MemorySourceTree : public compiler::SourceTree {
 public:
  /// Adds (or replaces) a file. `listed` files are the spec candidates that
  /// ListSpecFiles returns; unlisted ones are only found through references
  /// (a pipeline's `component: ./components/train.yml`, `code: ./src`).
  void Add(const std::string& path, std::string contents, bool listed = true) {
    files_[path] = std::move(contents);
    if (listed) {
      listed_.insert(path);
    } else {
      listed_.erase(path);
    }
  }

  StatusOr<std::vector<std::string>> ListSpecFiles() const override {
    std::vector<std::string> specs;
    for (const std::string& path : listed_) {
      if (compiler::IsSpecFileName(path) && !Hidden(path)) specs.push_back(path);
    }
    std::sort(specs.begin(), specs.end());
    return specs;
  }

  StatusOr<std::string> ReadFile(const std::string& path) const override {
    auto it = files_.find(Normal(path));
    if (it == files_.end()) {
      return Status(StatusCode::kNotFound,
                              "cannot read '" + DisplayPath(path) + "'");
    }
    return it->second;
  }

  bool IsFile(const std::string& path) const override { return files_.count(Normal(path)) > 0; }

  bool IsDirectory(const std::string& path) const override {
    std::string dir = Normal(path);
    if (dir == ".") return true;  // the root
    if (files_.count(dir)) return false;
    std::string prefix = dir + "/";
    auto it = files_.lower_bound(prefix);
    return it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
  }

  std::string DisplayPath(const std::string& path) const override { return "fuzz/" + path; }

 private:
  // "a/./b" and "a/x/../b" name "a/b"; paths climbing out of the root keep
  // their leading ".." and so name nothing here.
  static std::string Normal(const std::string& path) {
    return compiler::ResolveRelative("x", path);  // "x" has an empty folder: path alone
  }

  static bool Hidden(const std::string& path) {
    size_t start = 0;
    while (start < path.size()) {
      if (path[start] == '.' && path.compare(start, 3, "../") != 0) return true;
      size_t slash = path.find('/', start);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return false;
  }

  std::map<std::string, std::string> files_;
  std::set<std::string> listed_;
};

}  // namespace amlc::fuzz

#endif  // AMLC_TESTS_FUZZ_MEMORY_TREE_H_
