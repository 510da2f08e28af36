#ifndef AMLC_COMPILER_SUPPORT_CURATED_NAMES_H_
#define AMLC_COMPILER_SUPPORT_CURATED_NAMES_H_

// Azure ML's curated environments are named, never declared: no specs folder
// or workspace holds "AzureML-sklearn-1.5". Sema and the planner let such
// references through, and the job driver resolves them through amlc's
// catalog (runtime/compute/curated_environments.h); all three read the name
// here, so they agree on what counts as curated.

#include <optional>
#include <string>

namespace amlc::compiler {

/// The curated name a reference writes ("sklearn-1.5"), or nullopt when it
/// names no curated environment. Accepts an environment reference target
/// ("environment/AzureML-sklearn-1.5@latest", "AzureML-sklearn-1.5:3") and
/// azureml://registries/azureml/environments/NAME/(labels/L|versions/V).
std::optional<std::string> CuratedEnvironmentName(const std::string& reference);

}  // namespace amlc::compiler

#endif  // AMLC_COMPILER_SUPPORT_CURATED_NAMES_H_
