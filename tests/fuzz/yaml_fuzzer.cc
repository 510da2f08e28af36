// libFuzzer target for the YAML frontend: the input is one .yaml file. It goes
// through yaml::LoadYaml on its own, then through the whole compiler
// (Compile over an in-memory folder: binding, references, expressions,
// graph), and every diagnostic is rendered as the CLI would. Lines
// "#@file NAME" split an input into several files (see fuzz_common.h).
//
//   scripts/fuzz.sh 300 yaml         (build-fuzz/tests/fuzz/amlc_yaml_fuzzer)
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/compile.h"
#include "compiler/frontend/yaml/yaml_loader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amlc;
  std::string text(reinterpret_cast<const char*>(data), size);
  {
    compiler::SourceManager sources;
    compiler::DiagnosticEngine diagnostics;
    compiler::FileId file = sources.AddBuffer("fuzz.yaml", text);
    std::vector<compiler::ast::Document> documents = compiler::yaml::LoadYaml(sources, file, diagnostics);
    for (const compiler::Diagnostic& diagnostic : diagnostics.Sorted(sources)) {
      compiler::RenderDiagnostic(sources, diagnostic, {});
    }
  }
  {
    fuzz::MemorySourceTree tree = fuzz::TreeFromInput("spec.yaml", text);
    std::unique_ptr<compiler::Compilation> compilation = compiler::Compile(tree);
    fuzz::ConsumeCompilation(*compilation);
  }
  return 0;
}
