#ifndef AMLC_TESTS_FUZZ_FUZZ_COMMON_H_
#define AMLC_TESTS_FUZZ_FUZZ_COMMON_H_

// What both fuzz targets share: the in-memory folder an input is compiled in,
// and the consumers of a compilation's results (diagnostic rendering, graph
// output), which must survive whatever ranges and text the frontends produce.

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>

#include "compiler/compile.h"
#include "compiler/ir/graph.h"
#include "compiler/support/diagnostics.h"
#include "tests/fuzz/memory_tree.h"

namespace amlc::fuzz {

/// The marker that starts another file of a multi-file input: a line
/// "#@file NAME" (a comment in both YAML and the DSL, so the whole input still
/// parses as one file too). Text before the first marker is the main spec.
inline constexpr std::string_view kFileMarker = "#@file ";
inline constexpr size_t kMaxInputFiles = 8;

/// A folder around the fuzzed input: the files the examples point at (code
/// folders, data, a conda file) and component files a pipeline may name, in
/// both formats, all unlisted (read only when referenced). The input is the
/// listed spec `main_path`, or, when it has "#@file NAME" lines, several files
/// (any name and format: cross-file and cross-format references, duplicates,
/// cycles, component files, parsing on several threads). A NAME that is not
/// a spec file name is a data file a path may point at.
inline MemorySourceTree TreeFromInput(const std::string& main_path, std::string_view input) {
  MemorySourceTree tree;
  tree.Add("src/train.py", "print('train')\n", false);
  tree.Add("score/score.py", "def run(data):\n    return data\n", false);
  tree.Add("data/iris.csv", "sepal_length,species\n5.1,setosa\n", false);
  tree.Add("conda.yaml",
           "name: sklearn-env\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n",
           false);
  tree.Add("components/train.yml",
           "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
           "type: command\n"
           "name: train_component\n"
           "version: 1\n"
           "code: ../src\n"
           "environment: azureml:sklearn-env:1\n"
           "inputs:\n"
           "  data: {type: uri_file}\n"
           "  C: {type: number, default: 1.0}\n"
           "outputs:\n"
           "  model: {type: custom_model}\n"
           "command: python train.py --C ${{inputs.C}} --data ${{inputs.data}} "
           "--model-dir ${{outputs.model}}\n",
           false);
  tree.Add("components/score.aml",
           "component \"score_component\" {\n"
           "  type = command\n"
           "  version = 1\n"
           "  code = \"../score\"\n"
           "  environment = \"azureml:sklearn-env:1\"\n"
           "  inputs { model { type = custom_model } }\n"
           "  command = \"python score.py --model ${inputs.model}\"\n"
           "}\n",
           false);

  std::string path = main_path;
  size_t files = 0;
  size_t start = 0;
  while (true) {
    // The next marker at the start of a line.
    size_t marker = start;
    while (true) {
      marker = input.find(kFileMarker, marker);
      if (marker == std::string_view::npos || marker == 0 || input[marker - 1] == '\n') break;
      ++marker;
    }
    if (marker == std::string_view::npos || ++files >= kMaxInputFiles) {
      tree.Add(path, std::string(input.substr(start)));
      break;
    }
    tree.Add(path, std::string(input.substr(start, marker - start)));
    size_t name_begin = marker + kFileMarker.size();
    size_t line_end = input.find('\n', name_begin);
    if (line_end == std::string_view::npos) line_end = input.size();
    path = std::string(input.substr(name_begin, line_end - name_begin));
    if (path.empty() || path == "." || path.back() == '/') path = main_path + ".more";
    start = std::min(line_end + 1, input.size());
  }
  return tree;
}

/// Uses every result the CLI would: each diagnostic rendered (source line and
/// caret under its range, notes), sorted; every resource's position; the
/// graph as JSON and DOT when the specs are valid. Checks the invariants the
/// compile.h contract states.
inline void ConsumeCompilation(const compiler::Compilation& compilation) {
  const compiler::SourceManager& sources = compilation.sources;
  const compiler::DiagnosticEngine& diagnostics = compilation.diagnostics;
  size_t rendered = 0;
  for (const compiler::Diagnostic& diagnostic : diagnostics.Sorted(sources)) {
    rendered += compiler::RenderDiagnostic(sources, diagnostic, {}).size();
    rendered += compiler::RenderDiagnostic(sources, diagnostic, {.color = true}).size();
  }
  rendered += compiler::SummarizeCounts(diagnostics.error_count(), diagnostics.warning_count()).size();
  for (const compiler::ir::Resource& resource : compilation.graph.resources()) {
    if (resource.range.valid()) {
      compiler::LineColumn at = sources.Resolve(resource.range.file, resource.range.begin);
      rendered += static_cast<size_t>(at.line) + sources.path(resource.range.file).size();
    }
    rendered += resource.id().size();
  }
  if (!diagnostics.has_errors()) {
    // compile.h: without errors the graph is complete and acyclic.
    if (!compilation.graph.FindCycles().empty()) std::abort();
    if (compilation.graph.TopologicalOrder().size() != compilation.graph.size()) std::abort();
    rendered += compiler::ir::GraphToJson(compilation.graph).size();
    rendered += compiler::ir::GraphToDot(compilation.graph).size();
  }
  // Keep the work observable so none of it is optimized away.
  static volatile size_t sink;
  sink = rendered;
}

}  // namespace amlc::fuzz

#endif  // AMLC_TESTS_FUZZ_FUZZ_COMMON_H_
