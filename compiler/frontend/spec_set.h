#ifndef AMLC_COMPILER_FRONTEND_SPEC_SET_H_
#define AMLC_COMPILER_FRONTEND_SPEC_SET_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "compiler/ast/node.h"
#include "compiler/support/diagnostics.h"
#include "compiler/support/source_tree.h"

namespace amlc::compiler {

/// The spec files of one compilation, loaded from a SourceTree and parsed by
/// the frontend their extension names (*.yaml/*.yml: YAML, *.aml: the DSL).
/// Files are loaded once; a file first met through a reference (a pipeline's
/// `component: ./train.yml`) is loaded on demand.
class SpecSet {
 public:
  SpecSet(const SourceTree& tree, SourceManager& sources, DiagnosticEngine& diagnostics)
      : tree_(tree), sources_(sources), diagnostics_(diagnostics) {}

  /// Loads and parses `path` (a tree path) unless already loaded; returns the
  /// indices of its documents. A file that cannot be read is reported at `from`.
  std::vector<size_t> Load(const std::string& path, SourceRange from = {});
  /// Loads and parses many files at once, on as many threads as there are
  /// cores; their documents are then in `paths` order, as if Load had been
  /// called on each in turn.
  void LoadAll(const std::vector<std::string>& paths);
  bool loaded(const std::string& path) const { return files_.count(path) > 0; }

  const ast::Document& document(size_t index) const { return documents_[index]; }
  size_t document_count() const { return documents_.size(); }
  /// The tree path of the file a document came from.
  const std::string& path_of(size_t index) const { return document_paths_[index]; }
  const SourceManager& sources() const { return sources_; }

 private:
  const SourceTree& tree_;
  SourceManager& sources_;
  DiagnosticEngine& diagnostics_;
  std::deque<ast::Document> documents_;  // deque: documents never move once added
  std::vector<std::string> document_paths_;
  std::map<std::string, std::vector<size_t>> files_;
};

}  // namespace amlc::compiler

#endif  // AMLC_COMPILER_FRONTEND_SPEC_SET_H_
