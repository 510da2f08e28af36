#include "compiler/compile.h"

#include "compiler/frontend/spec_set.h"
#include "compiler/lower/lower.h"
#include "compiler/sema/analyzer.h"

namespace amlc::compiler {

std::unique_ptr<Compilation> Compile(const SourceTree& tree) {
  auto compilation = std::make_unique<Compilation>();
  StatusOr<std::vector<std::string>> files = tree.ListSpecFiles();
  if (!files.ok()) {
    compilation->diagnostics.Error(DiagCode::kMissingFile, {}, files.status().message());
    return compilation;
  }
  if (files->empty()) {
    compilation->diagnostics
        .Error(DiagCode::kMissingFile, {}, "no spec files (*.yaml, *.yml, *.aml) in '" +
                                               tree.DisplayPath(".") + "'")
        .Hint("point amlc at the folder holding your specs");
    return compilation;
  }
  compilation->spec_files = static_cast<int>(files->size());
  SpecSet specs(tree, compilation->sources, compilation->diagnostics);
  sema::Analyzer analyzer(tree, specs, compilation->diagnostics);
  specs.LoadAll(*files);
  for (const std::string& file : *files) analyzer.DeclareFile(file);
  compilation->graph = analyzer.Finish();
  // Lowering reads a checked graph: after sema's errors its input is not one.
  if (!compilation->diagnostics.has_errors()) {
    lower::LowerJobs(compilation->graph, analyzer.Bodies(), compilation->sources, compilation->diagnostics);
  }
  return compilation;
}

std::string DiagnosticsText(const Compilation& compilation, bool color) {
  std::string out;
  for (const Diagnostic& d : compilation.diagnostics.Sorted(compilation.sources)) {
    out += RenderDiagnostic(compilation.sources, d, {color});
  }
  return out;
}

}  // namespace amlc::compiler
