#ifndef AMLC_COMPILER_AST_NODE_H_
#define AMLC_COMPILER_AST_NODE_H_

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/support/source_manager.h"

namespace amlc::compiler::ast {

enum class NodeKind {
  kNull,       // YAML "~"/empty, DSL "null"
  kScalar,     // text; a plain scalar is typed by its content (1, 2.5, true), a quoted one is text
  kSequence,   // items
  kMapping,    // entries, in source order
  kReference,  // DSL only: compute.local, job.train.outputs.model (text holds the dotted path)
};

enum class ScalarStyle { kPlain, kQuoted };

struct Entry;

/// A format-neutral spec tree: both frontends (YAML and the DSL) produce it,
/// so analysis is written once. Every node keeps its source range.
struct Node {
  NodeKind kind = NodeKind::kNull;
  ScalarStyle style = ScalarStyle::kPlain;
  std::string text;
  SourceRange range;
  std::vector<Node> items;
  std::vector<Entry> entries;

  bool is_mapping() const { return kind == NodeKind::kMapping; }
  bool is_scalar() const { return kind == NodeKind::kScalar; }
  /// The value of `key` in a mapping, or nullptr.
  const Node* Find(std::string_view key) const;
  /// Text of a scalar entry, or "" when absent or not a scalar.
  std::string ScalarAt(std::string_view key) const;
};

struct Entry {
  std::string key;
  SourceRange key_range;
  Node value;
};

/// The keys of one mapping as its entries are read, so a repeated key is found
/// in O(1) however many entries the mapping has (a linear scan per entry made
/// an 8 MB `tags:` mapping take seconds).
class KeyIndex {
 public:
  /// Records `key`, given at `range`. Returns where it was first given when it
  /// was given before (and keeps that first place), nullptr otherwise.
  const SourceRange* Repeated(const std::string& key, SourceRange range);

 private:
  std::unordered_map<std::string, SourceRange> first_given_;
};

/// Where text[offset, offset + length) of a scalar lies in its file, so a
/// caret can underline one part of a value. Exact when the scalar's source
/// is its text verbatim (plain, or quoted without escapes); otherwise the
/// first place that part occurs from the scalar's start (a folded or
/// escaped scalar's text differs from its source); the scalar's whole range
/// when neither holds. `source` is the whole file the range points into.
SourceRange PartRange(const Node& scalar, std::string_view source, size_t offset, size_t length);

/// One spec: a top-level mapping, plus the kind keyword when the DSL names it
/// (`job "train" { ... }`); YAML documents name their kind inside the body
/// ($schema or type).
struct Document {
  FileId file = kNoFile;
  std::string dsl_kind;
  SourceRange kind_range;
  Node body;
};

}  // namespace amlc::compiler::ast

#endif  // AMLC_COMPILER_AST_NODE_H_
