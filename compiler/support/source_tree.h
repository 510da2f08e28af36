#ifndef AMLC_COMPILER_SUPPORT_SOURCE_TREE_H_
#define AMLC_COMPILER_SUPPORT_SOURCE_TREE_H_

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace amlc::compiler {

/// Where spec files come from: a directory on disk now, a git commit's tree
/// for the reconciler. Paths are relative to the tree's root, '/'-separated,
/// and may climb out of it with ".." (Azure ML specs often point at
/// "../shared/conda.yaml"); implementations decide what lies there.
class SourceTree {
 public:
  virtual ~SourceTree() = default;

  /// Spec candidates (*.yaml, *.yml, *.aml) under the root, sorted; hidden
  /// folders (.git, .amlc) are skipped.
  virtual StatusOr<std::vector<std::string>> ListSpecFiles() const = 0;
  virtual StatusOr<std::string> ReadFile(const std::string& path) const = 0;
  virtual bool IsFile(const std::string& path) const = 0;
  virtual bool IsDirectory(const std::string& path) const = 0;
  /// How a path is shown to users (e.g. "examples/quickstart/job.yml").
  virtual std::string DisplayPath(const std::string& path) const = 0;
  /// Whether `path` (relative to the root, normalized) lies inside what specs
  /// may ship: the spec folder here, the whole commit for a git tree. The
  /// check is on the path as written: a symlink the folder's owner placed in
  /// it (examples/quickstart-dsl/src) is theirs to follow; symlinks inside a
  /// code folder that lead out of it are refused by the snapshot store.
  virtual bool Contains(const std::string& path) const;
  /// `path` (relative to the root, or absolute) on this machine, made
  /// absolute, for checking it against allowed roots; "" when the tree has
  /// no place on this machine and the path is relative.
  virtual std::string HostPath(const std::string& path) const;
};

/// A SourceTree over a directory, or over a single spec file (then the
/// directory holding it is the root and that file the only spec listed).
class DiskSourceTree : public SourceTree {
 public:
  /// Fails with kNotFound when `root` does not exist.
  static StatusOr<DiskSourceTree> Open(const std::string& root);

  StatusOr<std::vector<std::string>> ListSpecFiles() const override;
  StatusOr<std::string> ReadFile(const std::string& path) const override;
  bool IsFile(const std::string& path) const override;
  bool IsDirectory(const std::string& path) const override;
  std::string DisplayPath(const std::string& path) const override;
  std::string HostPath(const std::string& path) const override;

 private:
  DiskSourceTree(std::filesystem::path root, std::string display_root, std::string only_file)
      : root_(std::move(root)), display_root_(std::move(display_root)),
        only_file_(std::move(only_file)) {}
  std::filesystem::path root_;
  std::string display_root_;
  std::string only_file_;
};

/// True for the extensions amlc reads specs from.
bool IsSpecFileName(const std::string& name);
/// Joins `base`'s folder with `relative` and normalizes "." and ".." lexically.
std::string ResolveRelative(const std::string& base_file, const std::string& relative);

/// Folders outside the spec folder that specs may name files in (code,
/// model and data paths): $AMLC_ALLOWED_ROOTS, absolute folders separated
/// by ':' (relative entries are ignored). Empty by default.
std::vector<std::string> AllowedRoots();
/// Whether absolute `path` is one of `roots` or lies under one.
bool UnderAnyRoot(const std::string& path, const std::vector<std::string>& roots);

}  // namespace amlc::compiler

#endif  // AMLC_COMPILER_SUPPORT_SOURCE_TREE_H_
