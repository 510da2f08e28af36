#include "compiler/ast/node.h"

namespace amlc::compiler::ast {

const Node* Node::Find(std::string_view key) const {
  for (const Entry& entry : entries) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

std::string Node::ScalarAt(std::string_view key) const {
  const Node* node = Find(key);
  return node && node->kind == NodeKind::kScalar ? node->text : std::string();
}

const SourceRange* KeyIndex::Repeated(const std::string& key, SourceRange range) {
  auto [it, inserted] = first_given_.try_emplace(key, range);
  return inserted ? nullptr : &it->second;
}

namespace {

// Where the scalar's text starts in `source` when it is written there
// verbatim, bare or between one pair of quotes; npos otherwise.
size_t VerbatimStart(const Node& scalar, std::string_view source) {
  if (scalar.range.end > source.size() || scalar.range.end < scalar.range.begin) return std::string_view::npos;
  const size_t begin = scalar.range.begin, size = scalar.range.end - scalar.range.begin;
  std::string_view written = source.substr(begin, size);
  if (written == scalar.text) return begin;
  bool quoted = size == scalar.text.size() + 2 && (written.front() == '"' || written.front() == '\'') &&
                written.back() == written.front();
  return quoted && written.substr(1, scalar.text.size()) == scalar.text ? begin + 1 : std::string_view::npos;
}

}  // namespace

SourceRange PartRange(const Node& scalar, std::string_view source, size_t offset, size_t length) {
  if (!scalar.range.valid() || offset + length > scalar.text.size()) return scalar.range;
  auto at = [&](size_t start) {
    return SourceRange{scalar.range.file, static_cast<uint32_t>(start), static_cast<uint32_t>(start + length)};
  };
  if (size_t start = VerbatimStart(scalar, source); start != std::string_view::npos) return at(start + offset);
  constexpr size_t kSearchWindow = 1 << 16;
  size_t found = source.find(std::string_view(scalar.text).substr(offset, length), scalar.range.begin);
  if (found == std::string_view::npos || found > scalar.range.begin + kSearchWindow) return scalar.range;
  return at(found);
}

}  // namespace amlc::compiler::ast
