#ifndef AMLC_COMPILER_COMPILE_H_
#define AMLC_COMPILER_COMPILE_H_

#include <memory>

#include "compiler/ir/graph.h"
#include "compiler/support/diagnostics.h"
#include "compiler/support/source_tree.h"

namespace amlc::compiler {

/// Everything a compilation produced. `graph` is complete and acyclic only
/// when `diagnostics.has_errors()` is false; nothing may be applied otherwise.
struct Compilation {
  SourceManager sources;
  DiagnosticEngine diagnostics;
  ir::Graph graph;
  int spec_files = 0;
};

/// Compiles every spec under `tree`: parse (YAML and DSL), bind to the kinds'
/// schemas, resolve references, check expressions and values, build the
/// dependency graph and check it for cycles, then (without errors so far)
/// lower each job to its effective spec (compiler/lower/). Never throws;
/// every problem is a diagnostic.
std::unique_ptr<Compilation> Compile(const SourceTree& tree);

/// Every diagnostic of `compilation`, sorted and rendered clang-style.
std::string DiagnosticsText(const Compilation& compilation, bool color);

}  // namespace amlc::compiler

#endif  // AMLC_COMPILER_COMPILE_H_
