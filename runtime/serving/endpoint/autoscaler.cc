// Implementation notes: the decision is a pure function of the samples so it
// can be tested on synthetic load; the caller owns the clock and clears its
// samples after every scaling event, which is what keeps one burst of load
// from adding several replicas before the first new one has taken its share.
#include "runtime/serving/endpoint/autoscaler.h"

#include <cstdio>

namespace amlc::runtime::endpoint {

namespace {

struct Run {
  double span = 0;  // seconds
  double mean = 0;  // per-replica load over the run
};

// How long the newest samples have all satisfied `holds`: from the time of
// the first sample of that trailing run to the newest. A run of one sample
// spans one polling interval ending at it, so it counts from its start.
template <typename Predicate>
Run TrailingRun(const std::vector<LoadSample>& samples, double interval, Predicate holds) {
  if (samples.empty() || !holds(samples.back().per_replica)) return {};
  size_t first = samples.size() - 1;
  while (first > 0 && holds(samples[first - 1].per_replica)) --first;
  double sum = 0;
  for (size_t i = first; i < samples.size(); ++i) sum += samples[i].per_replica;
  return {samples.back().time_s - samples[first].time_s + interval,
          sum / static_cast<double>(samples.size() - first)};
}

std::string Describe(const char* relation, const Run& run, double line, int replicas) {
  char text[160];
  std::snprintf(text, sizeof text,
                "in-flight per replica averaged %.2f (%s %.2f) for %.1f s on %d replica%s",
                run.mean, relation, line, run.span, replicas, replicas == 1 ? "" : "s");
  return text;
}

}  // namespace

ScaleDecision DecideScale(const AutoscaleSpec& spec, const std::vector<LoadSample>& samples,
                          int replicas) {
  ScaleDecision decision{ScaleDirection::kNone, replicas, ""};
  if (replicas < spec.min) {
    return {ScaleDirection::kUp, replicas + 1,
            "below the minimum of " + std::to_string(spec.min) + " replicas"};
  }
  if (replicas > spec.max) {
    return {ScaleDirection::kDown, replicas - 1,
            "above the maximum of " + std::to_string(spec.max) + " replicas"};
  }
  if (samples.empty()) return decision;
  double interval = spec.polling_interval_s;
  double high = spec.target_in_flight;
  double low = spec.target_in_flight / 2;
  // Small tolerance: samples are taken on a timer that drifts by milliseconds.
  constexpr double kSlack = 1e-3;
  Run above = TrailingRun(samples, interval, [&](double value) { return value > high; });
  if (replicas < spec.max && above.span > 0 && above.span + kSlack >= spec.scale_up_after_s) {
    return {ScaleDirection::kUp, replicas + 1, Describe(">", above, high, replicas)};
  }
  Run below = TrailingRun(samples, interval, [&](double value) { return value < low; });
  if (replicas > spec.min && below.span > 0 && below.span + kSlack >= spec.scale_down_after_s) {
    return {ScaleDirection::kDown, replicas - 1, Describe("<", below, low, replicas)};
  }
  return decision;
}

}  // namespace amlc::runtime::endpoint
