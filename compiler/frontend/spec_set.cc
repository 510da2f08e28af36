#include "compiler/frontend/spec_set.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "compiler/frontend/dsl/dsl_parser.h"
#include "compiler/frontend/yaml/yaml_loader.h"

namespace amlc::compiler {

namespace {
// Spec files larger than this are refused rather than parsed (a generated
// 10,000-resource folder is far smaller per file).
constexpr size_t kMaxSpecBytes = 64u << 20;
}  // namespace

namespace {

// ANTLR's generated parsers share their DFA caches between instances; the
// runtime Debian ships does not promise to guard them, so DSL parses take
// turns while YAML files parse alongside.
std::mutex dsl_parser_mutex;

bool IsDslPath(const std::string& path) {
  return path.size() >= 4 && path.compare(path.size() - 4, 4, ".aml") == 0;
}

std::vector<ast::Document> Parse(const SourceManager& sources, FileId file, bool dsl,
                                 DiagnosticEngine& diagnostics) {
  if (!dsl) return yaml::LoadYaml(sources, file, diagnostics);
  std::lock_guard<std::mutex> lock(dsl_parser_mutex);
  return dsl::ParseDsl(sources, file, diagnostics);
}

}  // namespace

void SpecSet::LoadAll(const std::vector<std::string>& paths) {
  struct Pending {
    std::string path;
    FileId file = kNoFile;
    std::vector<ast::Document> documents;
    DiagnosticEngine diagnostics;
  };
  // Reading is serial (the SourceManager grows); parsing, the costly part, is not.
  std::vector<Pending> pending(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) {
    pending[i].path = paths[i];
    if (files_.count(paths[i])) continue;
    StatusOr<std::string> contents = tree_.ReadFile(paths[i]);
    if (!contents.ok()) {
      pending[i].diagnostics.Error(DiagCode::kMissingFile, {}, contents.status().message());
    } else if (contents->size() > kMaxSpecBytes) {
      pending[i].diagnostics.Error(DiagCode::kLimit, {},
                                   "'" + tree_.DisplayPath(paths[i]) + "' is larger than 64 MiB; split it");
    } else {
      pending[i].file = sources_.AddBuffer(tree_.DisplayPath(paths[i]), std::move(contents.value()));
    }
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < pending.size();) {
      if (pending[i].file == kNoFile) continue;
      pending[i].documents = Parse(sources_, pending[i].file, IsDslPath(pending[i].path), pending[i].diagnostics);
    }
  };
  size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), pending.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  for (Pending& p : pending) {
    if (files_.count(p.path)) continue;
    diagnostics_.Absorb(p.diagnostics);
    std::vector<size_t>& indices = files_[p.path];
    for (ast::Document& document : p.documents) {
      indices.push_back(documents_.size());
      documents_.push_back(std::move(document));
      document_paths_.push_back(p.path);
    }
  }
}

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
  std::vector<ast::Document> parsed = Parse(sources_, file, IsDslPath(path), diagnostics_);
  for (ast::Document& document : parsed) {
    indices.push_back(documents_.size());
    documents_.push_back(std::move(document));
    document_paths_.push_back(path);
  }
  return indices;
}

}  // namespace amlc::compiler
