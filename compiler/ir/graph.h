#ifndef AMLC_COMPILER_IR_GRAPH_H_
#define AMLC_COMPILER_IR_GRAPH_H_

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/ir/job_spec.h"
#include "compiler/ir/schedule.h"
#include "compiler/ir/value.h"
#include "compiler/support/source_manager.h"

namespace amlc::compiler::ir {

/// One declared resource with its stable identity (kind/name, plus :version
/// for versioned assets) and its checked desired state.
struct Resource {
  std::string kind;     // "job", "model", ...
  std::string type;     // the kind's shape: "command", "sweep", "pipeline", "slurm", ... ("" if one)
  std::string name;
  std::string version;  // "" when the registry assigns it
  std::string parent;   // id of the enclosing pipeline, for pipeline steps
  Value spec;           // every field, typed, defaults applied, references resolved
  SourceRange range;    // where it is declared
  std::string digest;   // SHA-256 of the canonical desired state
  // What the reconciler starts on a schedule, parsed from `spec` by sema
  // (a job's `schedule`, a schedule spec's `trigger`); unset for everything
  // else and for schedules that cannot run (sema said why).
  std::optional<ScheduledRun> scheduled;
  // A job's spec as it runs, and a sweep's trial's, from the lowering pass
  // (compiler/lower/); unset for everything else. `spec` stays as written:
  // digests and the graph's JSON are taken of it.
  std::optional<JobSpec> effective;
  std::optional<JobSpec> trial;

  /// "kind/name" or "kind/name:version".
  std::string id() const;
};

/// An edge: `from` needs `to` (a job needs its compute target). `field` is
/// the spec path that made the edge ("compute", "inputs.data").
struct Dependency {
  size_t from = 0;
  size_t to = 0;
  std::string field;
  SourceRange range;
};

/// The typed dependency graph of a compilation. Resources are nodes of a
/// Boost.Graph adjacency list; the algorithms (cycle search, topological
/// order) live in graph.cc, the only file that includes Boost.
class Graph {
 public:
  Graph();
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;

  /// Adds a resource; its id must not be present yet (callers check).
  size_t AddResource(Resource resource);
  /// Records that `from` depends on `to`; a repeated (from, to) pair is kept once.
  void AddDependency(size_t from, size_t to, std::string field, SourceRange range);

  size_t size() const { return resources_.size(); }
  const Resource& resource(size_t index) const { return resources_[index]; }
  Resource& resource(size_t index) { return resources_[index]; }
  const std::vector<Resource>& resources() const { return resources_; }
  const std::vector<Dependency>& dependencies() const { return dependencies_; }
  std::optional<size_t> Find(const std::string& id) const;

  /// Every elementary cycle found, each as the edges walked in order; empty
  /// for a DAG. One cycle is reported per strongly connected component.
  std::vector<std::vector<size_t>> FindCycles() const;
  /// Resources with dependencies before dependents. Precondition: no cycles.
  std::vector<size_t> TopologicalOrder() const;
  /// Fills every resource's digest from its canonical JSON.
  void ComputeDigests();

 private:
  struct BoostGraph;
  std::vector<Resource> resources_;
  std::vector<Dependency> dependencies_;
  std::unordered_map<std::string, size_t> by_id_;
  std::unordered_map<uint64_t, size_t> edge_index_;
  std::unique_ptr<BoostGraph> boost_;
};

/// The graph as JSON: resources (sorted by id) with spec, digest and
/// dependencies, then the topological order. No source locations, so a YAML
/// spec and its DSL twin print the same text.
std::string GraphToJson(const Graph& graph);
/// The graph in Graphviz DOT; edges point from a dependency to its user.
std::string GraphToDot(const Graph& graph);

}  // namespace amlc::compiler::ir

#endif  // AMLC_COMPILER_IR_GRAPH_H_
