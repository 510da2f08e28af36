// Implementation notes: the binder has already filled the schema's defaults
// into every block the spec wrote (an `autoscale:` with only `max` has its
// min, windows and polling interval here); the fallbacks below are for the
// blocks it did not write, and for Azure's scale_settings, whose schema has
// no defaults. Both use the constants of the header, which equal the
// schema's.
#include "runtime/deploy/deployment_settings.h"

#include <algorithm>

#include "compiler/ir/value.h"

namespace amlc::runtime::deploy {

namespace {

using compiler::ir::Value;

// The map under `key`, or nullptr when the spec has none.
const Value* MapAt(const Value& spec, const char* key) {
  const Value* value = spec.Find(key);
  return value && value->is_map() ? value : nullptr;
}

bool BoolAt(const Value* map, const char* key, bool fallback) {
  const Value* value = map ? map->Find(key) : nullptr;
  return value && value->type() == Value::Type::kBool ? value->as_bool() : fallback;
}

ProbeSettings ProbeOf(const Value* probe) {
  ProbeSettings out;
  if (!probe) return out;
  out.initial_delay_s = probe->IntAt("initial_delay", out.initial_delay_s);
  out.period_s = probe->IntAt("period", out.period_s);
  out.timeout_s = probe->IntAt("timeout", out.timeout_s);
  out.success_threshold = probe->IntAt("success_threshold", out.success_threshold);
  out.failure_threshold = probe->IntAt("failure_threshold", out.failure_threshold);
  return out;
}

// amlc's autoscale block: present means on unless `enabled: false`.
AutoscaleSettings FromAutoscaleBlock(const Value& block) {
  AutoscaleSettings out;
  out.enabled = BoolAt(&block, "enabled", true);
  out.min = block.IntAt("min", out.min);
  out.max = block.IntAt("max", out.max);
  out.target_in_flight_per_worker = block.NumberAt("target_in_flight_per_worker", out.target_in_flight_per_worker);
  out.scale_up_after_s = block.NumberAt("scale_up_after", out.scale_up_after_s);
  out.scale_down_after_s = block.NumberAt("scale_down_after", out.scale_down_after_s);
  out.polling_interval_s = block.NumberAt("polling_interval", out.polling_interval_s);
  return out;
}

// Azure's scale_settings: autoscale only with type target_utilization.
AutoscaleSettings FromScaleSettings(const Value& settings) {
  AutoscaleSettings out;
  out.enabled = settings.StringAt("type") == "target_utilization";
  out.from_scale_settings = out.enabled;
  out.min = settings.IntAt("min_instances", out.min);
  out.max = settings.IntAt("max_instances", out.max);
  out.target_cpu_percent = settings.IntAt("target_utilization_percentage", out.target_cpu_percent);
  out.polling_interval_s = settings.NumberAt("polling_interval", out.polling_interval_s);
  return out;
}

// Fits min and max to what every target can run, saying what changed.
void FitRange(AutoscaleSettings& autoscale, std::vector<std::string>& notes) {
  if (autoscale.min < 1) {
    notes.push_back("no target scales to zero replicas: the minimum is 1, not " + std::to_string(autoscale.min));
    autoscale.min = 1;
  }
  if (autoscale.max < autoscale.min) {
    notes.push_back("the maximum of " + std::to_string(autoscale.max) + " replicas is raised to the minimum, " +
                    std::to_string(autoscale.min));
    autoscale.max = autoscale.min;
  }
}

}  // namespace

DeploymentSettings DeploymentSettingsFromSpec(const Value& spec) {
  DeploymentSettings out;
  out.instance_count = spec.IntAt("instance_count", out.instance_count);
  out.workers_per_replica = spec.IntAt("workers_per_replica", out.workers_per_replica);
  // The autoscale block, when written, decides; scale_settings is Azure's older spelling.
  if (const Value* block = MapAt(spec, "autoscale")) {
    out.autoscale = FromAutoscaleBlock(*block);
  } else if (const Value* settings = MapAt(spec, "scale_settings")) {
    out.autoscale = FromScaleSettings(*settings);
  }
  if (out.autoscale.enabled) {
    FitRange(out.autoscale, out.notes);
    out.instance_count = std::clamp(out.instance_count, out.autoscale.min, out.autoscale.max);
  }
  out.readiness_probe = ProbeOf(MapAt(spec, "readiness_probe"));
  out.liveness_probe = ProbeOf(MapAt(spec, "liveness_probe"));
  return out;
}

}  // namespace amlc::runtime::deploy
