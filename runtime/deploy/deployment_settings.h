#ifndef AMLC_RUNTIME_DEPLOY_DEPLOYMENT_SETTINGS_H_
#define AMLC_RUNTIME_DEPLOY_DEPLOYMENT_SETTINGS_H_

// How a web service deployment scales and when its replicas count as ready,
// with every default in one place. The local target (apply writing the
// endpoint host's desired.json), the Kubernetes renderer and the endpoint
// host all take their numbers from here, so one spec scales alike on all of
// them.
//
// Why these numbers:
//   * instance_count 1, workers_per_replica 1: the schema's defaults.
//   * autoscale min 1: neither the endpoint host nor a HorizontalPodAutoscaler
//     scales to zero, so a 0 (which the schema allows, as Azure ML does)
//     becomes 1, with a note.
//   * autoscale max 3: the autoscale block's documented default, also for
//     Azure's scale_settings without max_instances, so the two spellings of
//     "autoscale" behave alike; never below min.
//   * target 1 request in flight per worker: a replica is full when each of
//     its workers has a request; Azure's cpu target of 70 % for the HPA.
//   * scale up after 10 s of load, down after 60 s below half the target: the
//     schema's defaults; a burst waits seconds for capacity, while a replica
//     is given back only after a quiet minute, so load that comes and goes
//     does not make replicas come and go.
//   * load measured every second: the schema's polling_interval.
//   * probes 10 s initial delay, every 10 s, 2 s timeout, 1 success, 30
//     failures: Azure ML's probe defaults (the schema's). A replica that is not
//     ready within initial delay + period x failure threshold (310 s by
//     default) has failed, on every target.

#include <cstdint>
#include <string>
#include <vector>

namespace amlc::compiler::ir {
class Value;
}

namespace amlc::runtime::deploy {

inline constexpr int64_t kDefaultInstanceCount = 1;
inline constexpr int64_t kDefaultWorkersPerReplica = 1;
inline constexpr int64_t kDefaultMinReplicas = 1;
inline constexpr int64_t kDefaultMaxReplicas = 3;
inline constexpr double kDefaultTargetInFlightPerWorker = 1.0;
inline constexpr int64_t kDefaultTargetCpuPercent = 70;
inline constexpr double kDefaultScaleUpAfterS = 10;
inline constexpr double kDefaultScaleDownAfterS = 60;
inline constexpr double kDefaultPollingIntervalS = 1;
inline constexpr int64_t kDefaultProbeInitialDelayS = 10;
inline constexpr int64_t kDefaultProbePeriodS = 10;
inline constexpr int64_t kDefaultProbeTimeoutS = 2;
inline constexpr int64_t kDefaultProbeSuccessThreshold = 1;
inline constexpr int64_t kDefaultProbeFailureThreshold = 30;
/// initial delay + period x failure threshold of the default probe.
inline constexpr double kDefaultReadinessTimeoutS =
    kDefaultProbeInitialDelayS + kDefaultProbePeriodS * kDefaultProbeFailureThreshold;

/// A health probe (readiness_probe, liveness_probe), in seconds.
struct ProbeSettings {
  int64_t initial_delay_s = kDefaultProbeInitialDelayS;
  int64_t period_s = kDefaultProbePeriodS;
  int64_t timeout_s = kDefaultProbeTimeoutS;
  int64_t success_threshold = kDefaultProbeSuccessThreshold;
  int64_t failure_threshold = kDefaultProbeFailureThreshold;

  /// How long a replica may take to become ready before it has failed.
  double ReadyWithinS() const {
    return static_cast<double>(initial_delay_s + period_s * failure_threshold);
  }
  bool operator==(const ProbeSettings&) const = default;
};

/// Scaling on load, from amlc's `autoscale` block or Azure's
/// `scale_settings: {type: target_utilization}`.
struct AutoscaleSettings {
  bool enabled = false;
  /// Enabled by Azure's scale_settings, whose target is cpu only; the
  /// autoscale block's target is requests in flight.
  bool from_scale_settings = false;
  int64_t min = kDefaultMinReplicas;
  int64_t max = kDefaultMaxReplicas;
  double target_in_flight_per_worker = kDefaultTargetInFlightPerWorker;
  int64_t target_cpu_percent = kDefaultTargetCpuPercent;
  double scale_up_after_s = kDefaultScaleUpAfterS;
  double scale_down_after_s = kDefaultScaleDownAfterS;
  double polling_interval_s = kDefaultPollingIntervalS;
  bool operator==(const AutoscaleSettings&) const = default;
};

/// A deployment's replica count, autoscale and probes, defaults applied.
struct DeploymentSettings {
  /// The replicas to start with; inside [min, max] when autoscaling.
  int64_t instance_count = kDefaultInstanceCount;
  int64_t workers_per_replica = kDefaultWorkersPerReplica;
  AutoscaleSettings autoscale;
  ProbeSettings readiness_probe;
  ProbeSettings liveness_probe;
  /// What was adjusted to fit (a min of 0 raised to 1, ...), one sentence each.
  std::vector<std::string> notes;

  /// Requests in flight per replica the autoscaler aims at.
  double TargetInFlightPerReplica() const {
    return autoscale.target_in_flight_per_worker * static_cast<double>(workers_per_replica);
  }
  /// How long new replicas may take to become ready (the readiness probe's window).
  double ReadinessTimeoutS() const { return readiness_probe.ReadyWithinS(); }
};

/// The settings of a deployment's bound spec (the IR resource's spec map).
/// Never fails: sema has checked the fields' types and ranges; absent fields
/// take the defaults above, and values no target can honour (a min of 0, a
/// max below min) are adjusted and named in `notes`.
DeploymentSettings DeploymentSettingsFromSpec(const compiler::ir::Value& spec);

}  // namespace amlc::runtime::deploy

#endif  // AMLC_RUNTIME_DEPLOY_DEPLOYMENT_SETTINGS_H_
