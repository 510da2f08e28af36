#ifndef AMLC_COMPILER_FRONTEND_YAML_YAML_LOADER_H_
#define AMLC_COMPILER_FRONTEND_YAML_YAML_LOADER_H_

#include <cstdint>
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
/// It holds for the tree after aliases are expanded, too.
inline constexpr int kMaxNesting = 64;

/// What aliases may add to one file in all when they are expanded: each alias
/// stands for a copy of its anchor's value, so nine anchors of nine aliases
/// each (a "billion laughs" spec of 469 bytes) would copy 9^9 values. The
/// alias that would cross either bound is reported and the file is not read.
/// Real specs alias a few small values (the Azure ML corpus has none). At
/// 1,000,000 values the bomb was refused, but only after copying ~650 MB
/// under the fuzzers' sanitizers (150 MB without), past their 512 MB limit.
inline constexpr uint64_t kMaxAliasNodes = 100'000;
inline constexpr uint64_t kMaxAliasBytes = uint64_t{16} << 20;

}  // namespace amlc::compiler::yaml

#endif  // AMLC_COMPILER_FRONTEND_YAML_YAML_LOADER_H_
