#include "compiler/frontend/spec_set.h"

#include "compiler/frontend/dsl/dsl_parser.h"
#include "compiler/frontend/yaml/yaml_loader.h"

namespace amlc::compiler {

namespace {
// Spec files larger than this are refused rather than parsed (a generated
// 10,000-resource folder is far smaller per file).
constexpr size_t kMaxSpecBytes = 64u << 20;
}  // namespace

std::vector<size_t> SpecSet::Load(const std::string& path, SourceRange from) {
  if (auto it = files_.find(path); it != files_.end()) return it->second;
  std::vector<size_t>& indices = files_[path];
  StatusOr<std::string> contents = tree_.ReadFile(path);
  if (!contents.ok()) {
    diagnostics_.Error(DiagCode::kMissingFile, from, contents.status().message());
    return indices;
  }
  if (contents->size() > kMaxSpecBytes) {
    diagnostics_.Error(DiagCode::kLimit, from,
                       "'" + tree_.DisplayPath(path) + "' is larger than 64 MiB; split it");
    return indices;
  }
  FileId file = sources_.AddBuffer(tree_.DisplayPath(path), std::move(contents.value()));
  bool dsl = path.size() >= 4 && path.compare(path.size() - 4, 4, ".aml") == 0;
  std::vector<ast::Document> parsed = dsl ? dsl::ParseDsl(sources_, file, diagnostics_)
                                          : yaml::LoadYaml(sources_, file, diagnostics_);
  for (ast::Document& document : parsed) {
    indices.push_back(documents_.size());
    documents_.push_back(std::move(document));
    document_paths_.push_back(path);
  }
  return indices;
}

}  // namespace amlc::compiler
