#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_AUTOSCALER_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_AUTOSCALER_H_

#include <string>
#include <vector>

#include "runtime/serving/endpoint/desired_state.h"

namespace amlc::runtime::endpoint {

/// One measurement: the average number of in-flight requests per ready
/// replica over one polling interval that ended at `time_s` (any clock).
struct LoadSample {
  double time_s = 0;
  double per_replica = 0;
};

enum class ScaleDirection { kNone, kUp, kDown };

struct ScaleDecision {
  ScaleDirection direction = ScaleDirection::kNone;
  int to = 0;          // the new replica count (== replicas when kNone)
  std::string reason;  // the measurement that decided it, for events.jsonl
};

/// Decides from the samples since the last scaling event (oldest first):
/// one replica more when the load stayed above target_in_flight for
/// scale_up_after_s (and replicas < max), one fewer when it stayed below
/// target_in_flight / 2 for scale_down_after_s (and replicas > min). "Stayed"
/// means every sample from the first one over (or under) the line up to the
/// newest, and that run spans the whole period. A count outside [min, max]
/// (after an autoscale change) moves one step towards the range at once.
ScaleDecision DecideScale(const AutoscaleSpec& spec, const std::vector<LoadSample>& samples,
                          int replicas);

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_AUTOSCALER_H_
