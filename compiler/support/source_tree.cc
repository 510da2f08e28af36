#include "compiler/support/source_tree.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace amlc::compiler {

namespace fs = std::filesystem;

bool IsSpecFileName(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".yaml") || ends_with(".yml") || ends_with(".aml");
}

std::string ResolveRelative(const std::string& base_file, const std::string& relative) {
  fs::path joined = fs::path(base_file).parent_path() / relative;
  std::string normal = joined.lexically_normal().generic_string();
  if (normal.empty()) return ".";
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

bool SourceTree::Contains(const std::string& path) const {
  return path != ".." && path.rfind("../", 0) != 0 && (path.empty() || path[0] != '/');
}

std::string SourceTree::HostPath(const std::string& path) const {
  return !path.empty() && path[0] == '/' ? fs::path(path).lexically_normal().generic_string() : "";
}

std::vector<std::string> AllowedRoots() {
  std::vector<std::string> roots;
  const char* setting = std::getenv("AMLC_ALLOWED_ROOTS");
  std::string text = setting ? setting : "";
  for (size_t start = 0; start <= text.size();) {
    size_t colon = std::min(text.find(':', start), text.size());
    std::string entry = text.substr(start, colon - start);
    if (!entry.empty() && entry[0] == '/') roots.push_back(fs::path(entry).lexically_normal().generic_string());
    start = colon + 1;
  }
  return roots;
}

bool UnderAnyRoot(const std::string& path, const std::vector<std::string>& roots) {
  fs::path normal = fs::path(path).lexically_normal();
  for (const std::string& root : roots) {
    fs::path relative = normal.lexically_relative(fs::path(root).lexically_normal());
    std::string text = relative.generic_string();
    if (!text.empty() && text != ".." && text.rfind("../", 0) != 0) return true;
  }
  return false;
}

StatusOr<DiskSourceTree> DiskSourceTree::Open(const std::string& root) {
  std::error_code error;
  fs::file_status status = fs::status(root, error);
  if (error || !fs::exists(status)) {
    return Status(StatusCode::kNotFound, "'" + root + "' does not exist");
  }
  if (fs::is_directory(status)) {
    std::string display = root;
    while (display.size() > 1 && display.back() == '/') display.pop_back();
    return DiskSourceTree(fs::path(root), display == "." ? "" : display, "");
  }
  fs::path file(root);
  std::string parent = file.parent_path().generic_string();
  return DiskSourceTree(parent.empty() ? fs::path(".") : fs::path(parent), parent,
                        file.filename().generic_string());
}

StatusOr<std::vector<std::string>> DiskSourceTree::ListSpecFiles() const {
  if (!only_file_.empty()) return std::vector<std::string>{only_file_};
  std::vector<std::string> files;
  std::error_code error;
  fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, error);
  if (error) return Status(StatusCode::kUnavailable, "cannot list '" + root_.string() + "': " +
                                                         error.message());
  for (fs::recursive_directory_iterator end; it != end; it.increment(error)) {
    if (error) return Status(StatusCode::kUnavailable, "cannot list '" + root_.string() +
                                                           "': " + error.message());
    std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(error) && IsSpecFileName(name)) {
      files.push_back(it->path().lexically_relative(root_).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

StatusOr<std::string> DiskSourceTree::ReadFile(const std::string& path) const {
  std::ifstream in(root_ / path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot read '" + DisplayPath(path) + "'");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

bool DiskSourceTree::IsFile(const std::string& path) const {
  std::error_code error;
  return fs::is_regular_file(root_ / path, error);
}

bool DiskSourceTree::IsDirectory(const std::string& path) const {
  std::error_code error;
  return fs::is_directory(root_ / path, error);
}

std::string DiskSourceTree::DisplayPath(const std::string& path) const {
  if (display_root_.empty()) return path;
  return (fs::path(display_root_) / path).lexically_normal().generic_string();
}

}  // namespace amlc::compiler

namespace amlc::compiler {

std::string DiskSourceTree::HostPath(const std::string& path) const {
  if (!path.empty() && path[0] == '/') return SourceTree::HostPath(path);
  std::error_code error;
  fs::path absolute = fs::absolute(root_ / path, error);
  std::string normal = error ? "" : absolute.lexically_normal().generic_string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

}  // namespace amlc::compiler
