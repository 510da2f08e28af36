#ifndef AMLC_RUNTIME_ARTIFACTS_REGISTRY_LINEAGE_H_
#define AMLC_RUNTIME_ARTIFACTS_REGISTRY_LINEAGE_H_

// Lineage: from what answers a request back to the code that made it. A
// deployment serves an image (by digest), an image packages model versions,
// a model version was registered from a run, a run ran a code snapshot from
// a commit of the specs. `amlc lineage` prints this chain from any link.

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime {

/// The chain from `start` back to the spec commit, as
/// {"start": {"kind", "name"}, "deployment": {...}, "image": {...},
///  "models": [{..., "run": {...}}]}, each part present when the chain
/// passes through it. `start` is a deployment name, IMAGE:VERSION,
/// MODEL:VERSION (or `image/NAME:V`, `model/NAME:V` when a name is both), or
/// a run id. kNotFound, saying which forms were tried, when it names nothing.
StatusOr<nlohmann::json> TraceLineage(StateStore& state, const std::string& start);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ARTIFACTS_REGISTRY_LINEAGE_H_
