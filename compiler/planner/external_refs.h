#ifndef AMLC_COMPILER_PLANNER_EXTERNAL_REFS_H_
#define AMLC_COMPILER_PLANNER_EXTERNAL_REFS_H_

// References written in Azure ML's style (azureml:NAME, azureml:NAME:VERSION,
// azureml:NAME@latest, or a plain compute name) may name what lives only in
// the workspace, so the compiler lets them through with a warning. At plan
// time the workspace is known: a reference it cannot satisfy either is an
// error, never a silent fallback (a job on an unknown compute used to run on
// `local`).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace amlc::compiler::planner {

/// Checks the external references of resources against the graph and the
/// workspace. `in_workspace(kind)` lists what the workspace holds ("NAME",
/// "NAME:VERSION"); it is asked once per kind.
class ExternalReferences {
 public:
  using Lister = std::function<std::vector<std::string>(const std::string& kind)>;

  ExternalReferences(const ir::Graph& graph, Lister in_workspace)
      : graph_(graph), in_workspace_(std::move(in_workspace)) {}

  /// One message per reference of `resource` that nothing satisfies:
  /// "job train-a: compute 'gpu-cluster' is neither in these specs nor in
  /// the workspace (did you mean 'cpu-cluster'?)".
  std::vector<std::string> Missing(const ir::Resource& resource);

 private:
  const std::vector<std::string>& Held(const std::string& kind);
  std::string Check(const ir::Resource& resource, const ir::Ref& ref);

  const ir::Graph& graph_;
  Lister in_workspace_;
  std::map<std::string, std::vector<std::string>> held_;  // kind -> workspace entries
};

}  // namespace amlc::compiler::planner

#endif  // AMLC_COMPILER_PLANNER_EXTERNAL_REFS_H_
