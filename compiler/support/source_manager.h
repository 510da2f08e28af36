#ifndef AMLC_COMPILER_SUPPORT_SOURCE_MANAGER_H_
#define AMLC_COMPILER_SUPPORT_SOURCE_MANAGER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace amlc::compiler {

/// Index of a buffer in a SourceManager; -1 means "no file".
using FileId = int32_t;
inline constexpr FileId kNoFile = -1;

/// A half-open byte range [begin, end) in one buffer.
struct SourceRange {
  FileId file = kNoFile;
  uint32_t begin = 0;
  uint32_t end = 0;

  bool valid() const { return file != kNoFile; }
  bool operator==(const SourceRange&) const = default;
};

/// 1-based line and column (columns count bytes, as clang does).
struct LineColumn {
  int line = 0;
  int column = 0;
};

/// Owns the text of every spec file of a compilation and maps byte offsets
/// to lines and columns for diagnostics. Paths are kept as given (relative to
/// the directory the user named), so messages read like the user's own paths.
class SourceManager {
 public:
  /// Adds a buffer; the returned id stays valid for the manager's lifetime.
  FileId AddBuffer(std::string path, std::string contents);

  const std::string& path(FileId file) const { return files_[file].path; }
  const std::string& contents(FileId file) const { return files_[file].contents; }
  size_t file_count() const { return files_.size(); }

  /// Line and column of a byte offset (offsets past the end clamp to the end).
  LineColumn Resolve(FileId file, uint32_t offset) const;
  /// Byte offset of a 1-based line and column (clamped to the buffer).
  uint32_t OffsetOf(FileId file, int line, int column) const;
  /// The text of a 1-based line, without its newline.
  std::string_view LineText(FileId file, int line) const;

 private:
  struct File {
    std::string path;
    std::string contents;
    std::vector<uint32_t> line_starts;  // offset of the first byte of each line
  };
  std::vector<File> files_;
};

}  // namespace amlc::compiler

#endif  // AMLC_COMPILER_SUPPORT_SOURCE_MANAGER_H_
