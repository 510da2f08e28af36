// libFuzzer target for the DSL frontend: the input is one .aml file. It goes
// through dsl::ParseDsl on its own, then through the whole compiler
// (Compile over an in-memory folder: binding, references, expressions,
// graph), and every diagnostic is rendered as the CLI would. Lines
// "#@file NAME" split an input into several files (see fuzz_common.h).
//
//   scripts/fuzz.sh 300 dsl          (build-fuzz/tests/fuzz/amlc_dsl_fuzzer)
#include <cstddef>
#include <cstdint>
#include <string>

#include "compiler/compile.h"
#include "compiler/frontend/dsl/dsl_parser.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amlc;
  std::string text(reinterpret_cast<const char*>(data), size);
  {
    compiler::SourceManager sources;
    compiler::DiagnosticEngine diagnostics;
    compiler::FileId file = sources.AddBuffer("fuzz.aml", text);
    std::vector<compiler::ast::Document> documents = compiler::dsl::ParseDsl(sources, file, diagnostics);
    for (const compiler::Diagnostic& diagnostic : diagnostics.Sorted(sources)) {
      compiler::RenderDiagnostic(sources, diagnostic, {});
    }
  }
  {
    fuzz::MemorySourceTree tree = fuzz::TreeFromInput("spec.aml", text);
    std::unique_ptr<compiler::Compilation> compilation = compiler::Compile(tree);
    fuzz::ConsumeCompilation(*compilation);
  }
  return 0;
}
