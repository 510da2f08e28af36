#include "compiler/support/source_manager.h"

#include <algorithm>
#include <cstring>

namespace amlc::compiler {

FileId SourceManager::AddBuffer(std::string path, std::string contents) {
  File file;
  file.path = std::move(path);
  file.contents = std::move(contents);
  file.line_starts.push_back(0);
  const char* data = file.contents.data();
  const char* end = data + file.contents.size();
  for (const char* p = data; (p = static_cast<const char*>(std::memchr(p, '\n', end - p)));) {
    ++p;
    file.line_starts.push_back(static_cast<uint32_t>(p - data));
  }
  files_.push_back(std::move(file));
  return static_cast<FileId>(files_.size() - 1);
}

LineColumn SourceManager::Resolve(FileId id, uint32_t offset) const {
  const File& file = files_[id];
  offset = std::min<uint32_t>(offset, file.contents.size());
  auto it = std::upper_bound(file.line_starts.begin(), file.line_starts.end(), offset);
  int line = static_cast<int>(it - file.line_starts.begin());
  return {line, static_cast<int>(offset - file.line_starts[line - 1]) + 1};
}

uint32_t SourceManager::OffsetOf(FileId id, int line, int column) const {
  const File& file = files_[id];
  if (line < 1) return 0;
  if (static_cast<size_t>(line) > file.line_starts.size()) return file.contents.size();
  uint64_t offset = file.line_starts[line - 1] + static_cast<uint64_t>(std::max(column, 1) - 1);
  return static_cast<uint32_t>(std::min<uint64_t>(offset, file.contents.size()));
}

std::string_view SourceManager::LineText(FileId id, int line) const {
  const File& file = files_[id];
  if (line < 1 || static_cast<size_t>(line) > file.line_starts.size()) return {};
  uint32_t begin = file.line_starts[line - 1];
  uint32_t end = static_cast<size_t>(line) < file.line_starts.size() ? file.line_starts[line] - 1
                                                                     : file.contents.size();
  std::string_view text(file.contents.data() + begin, end - begin);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

}  // namespace amlc::compiler
