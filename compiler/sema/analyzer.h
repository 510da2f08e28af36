#ifndef AMLC_COMPILER_SEMA_ANALYZER_H_
#define AMLC_COMPILER_SEMA_ANALYZER_H_

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/frontend/spec_set.h"
#include "compiler/ir/graph.h"
#include "compiler/sema/binder.h"
#include "compiler/sema/schedule.h"
#include "compiler/sema/schema.h"

namespace amlc::compiler::sema {

struct ExpressionScope;  // expressions.cc

/// A resource as analysis sees it: the IR resource being built plus where it
/// came from, so later checks can point at source ranges.
struct Declared {
  ir::Resource resource;
  const KindSchema* schema = nullptr;
  const ast::Node* body = nullptr;  // the mapping it was bound from
  std::string spec_file;            // tree path of its file
  std::vector<PendingRef> refs;
  std::vector<std::pair<size_t, PendingRef>> edges;  // resolved: (target, why)
};

/// Semantic analysis: ast documents in, a checked ir::Graph out. The steps run
/// in order over all resources, each reporting every problem it finds:
///   1. Declare   - classify each document, bind it to its schema, name it
///                  (duplicates reported), split pipelines into steps
///   2. Resolve   - turn references into graph edges (dangling ones reported)
///   3. Check     - expressions (${{...}}), cross-field values and schedules
///   4. Build     - the graph, its cycle check and digests
class Analyzer {
 public:
  Analyzer(const SourceTree& tree, SpecSet& specs, DiagnosticEngine& diagnostics)
      : tree_(tree), specs_(specs), diagnostics_(diagnostics),
        registry_(SchemaRegistry::Builtin()) {}

  /// Step 1 for every document the front end parsed from `path`: problems
  /// (an unknown kind, a duplicate name) go to the diagnostics; nothing fails.
  void DeclareFile(const std::string& path);
  /// Steps 2-4 over everything declared: the graph, possibly partial; callers
  /// check the diagnostics for errors before they use it.
  ir::Graph Finish();
  /// After Finish: the mapping each graph resource was bound from, by its
  /// index in the graph (the lowering pass points carets into them).
  std::vector<const ast::Node*> Bodies() const;

 private:
  // analyzer.cc
  void DeclareDocument(size_t document_index);
  const KindSchema* Classify(const ast::Document& document);
  const KindSchema* ClassifyBySchema(const ast::Node& schema_node);
  const KindSchema* ClassifyByType(const ast::Document& document, const ast::Node& type_node);
  std::string DefaultName(const std::string& spec_file) const;
  size_t Register(Declared declared);
  void SplitPipelineSteps(size_t pipeline);
  // resolve.cc
  void ResolveAll();
  void Resolve(size_t from, PendingRef& ref);
  /// The component or job declared in the file a reference names (./train.yml).
  std::optional<size_t> FindSpecFile(const PendingRef& ref);
  std::optional<size_t> Lookup(const PendingRef& ref, std::string& resolved_id);
  void ReportUnresolved(const PendingRef& ref);
  // expressions.cc
  void CheckExpressions(size_t index);
  /// What the expressions of resource `index` may name (its inputs, outputs,
  /// search space, and for a pipeline step its pipeline's and siblings').
  ExpressionScope ScopeOf(size_t index) const;
  void CheckPipelineComponentSteps(size_t index, const ExpressionScope& component_scope);
  /// The component a job or step runs, when it is declared in these specs.
  const ir::Value* ComponentOf(const Declared& step) const;
  // checks.cc
  void CheckValues(size_t index);
  void CheckEndpointTraffic(size_t index);
  void CheckCompute(size_t index);
  void CheckDeployment(size_t index);
  void CheckSearchSpace(size_t index);
  // schedule.cc
  void CheckSchedule(size_t index);
  std::optional<std::string> ScheduledJob(size_t index);
  void ReportScheduleProblem(size_t index, const ast::Node* trigger, const ScheduleProblem& problem);
  SourceRange ScheduleProblemRange(size_t index, const ast::Node* trigger, const ScheduleProblem& problem) const;
  bool HasErrorAt(SourceRange range) const;
  // graph building (analyzer.cc)
  ir::Graph BuildGraph();

  const ast::Node* FieldNode(size_t index, std::initializer_list<std::string_view> path) const;
  SourceRange FieldRange(size_t index, std::initializer_list<std::string_view> path) const;
  /// The range of a top-level field's key ("traffic:"), or the resource's range.
  SourceRange KeyRange(size_t index, std::string_view key) const;

  const SourceTree& tree_;
  SpecSet& specs_;
  DiagnosticEngine& diagnostics_;
  const SchemaRegistry& registry_;
  std::vector<Declared> declared_;
  std::unordered_map<std::string, size_t> by_id_;
  std::map<std::string, std::vector<size_t>> by_kind_name_;  // "kind/name" -> every version
  std::map<std::string, std::vector<size_t>> by_file_;       // spec file -> resources in it
};

}  // namespace amlc::compiler::sema

#endif  // AMLC_COMPILER_SEMA_ANALYZER_H_
