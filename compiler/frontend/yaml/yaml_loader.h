#ifndef AMLC_COMPILER_FRONTEND_YAML_YAML_LOADER_H_
#define AMLC_COMPILER_FRONTEND_YAML_YAML_LOADER_H_

#include <vector>

#include "compiler/ast/node.h"
#include "compiler/support/diagnostics.h"

namespace amlc::compiler::yaml {

/// Parses one YAML file (possibly several '---' documents) into ast documents.
/// Syntax errors become diagnostics with the parser's location; yaml-cpp's
/// exceptions never leave this function. Empty documents are dropped.
std::vector<ast::Document> LoadYaml(const SourceManager& sources, FileId file,
                                    DiagnosticEngine& diagnostics);

/// Deepest nesting of a spec tree amlc accepts; real specs stay under 12.
inline constexpr int kMaxNesting = 64;

}  // namespace amlc::compiler::yaml

#endif  // AMLC_COMPILER_FRONTEND_YAML_YAML_LOADER_H_
