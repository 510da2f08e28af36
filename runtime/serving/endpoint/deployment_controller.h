#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_DEPLOYMENT_CONTROLLER_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_DEPLOYMENT_CONTROLLER_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/serving/endpoint/autoscaler.h"
#include "runtime/serving/endpoint/desired_state.h"
#include "runtime/serving/endpoint/host_files.h"
#include "runtime/serving/endpoint/replica_set.h"
#include "runtime/serving/endpoint/router.h"

namespace amlc::runtime::endpoint {

/// Keeps one deployment's replicas equal to its spec: the right number, of
/// the right revision, restarted when they die, rolled out without a failed
/// request, scaled on load. Driven by Tick from the host's main loop; every
/// method takes the host clock `now` in seconds.
class DeploymentController {
 public:
  DeploymentController(std::string name, HostPaths paths, EventLog& events, HostLog& log);

  /// Takes the deployment's spec from a (re)read desired.json. Instance count
  /// and autoscale changes apply in place; a new revision, command or env
  /// starts a rollout, unless it is the one whose rollout last failed.
  void SetSpec(const DeploymentSpec& spec, double now);
  /// Drains and stops every replica (the deployment left desired.json, or
  /// the host is stopping).
  void Remove(double now);
  /// One supervision step: reap, probe, roll out, restart, scale.
  void Tick(double now);

  /// The ready replicas of the serving revision: what the router may use.
  std::vector<std::shared_ptr<Backend>> Routable() const;
  /// Serving, with replicas wanted: a moment with none ready (its replica
  /// died and is being restarted) is worth waiting out.
  bool Recovering() const { return serving_.has_value() && !removing_ && target_ > 0; }
  /// Still acting on the latest spec (rolling out, scaling to a new
  /// instance_count, being removed).
  bool Converging(double now) const;
  bool removing() const { return removing_; }
  /// Removed and every process ended.
  bool Gone() const { return removing_ && replicas_.empty(); }
  nlohmann::json StatusJson() const;
  /// Ends every process at once (the host's last resort when stopping).
  void KillAll() { replicas_.KillAll(); }

 private:
  void HandleExit(const ReplicaExit& exit, double now);
  void StartRollout(const DeploymentSpec& spec, double now);
  void AdvanceRollout(double now);
  void FailRollout(const std::string& why, const Replica* culprit);
  void AbandonRollout(const std::string& why);
  void DrainStrays(double now);
  void Reconcile(const DeploymentSpec& spec, bool serving, double now);
  void TimeOutStarting(double now);
  void Autoscale(double now);
  int Count(const std::string& key, bool ready_only) const;
  std::string RevisionText(const std::optional<DeploymentSpec>& spec) const;

  std::string name_;
  HostPaths paths_;
  EventLog& events_;
  HostLog& log_;
  std::shared_ptr<LoadMeter> meter_;
  ReplicaSet replicas_;

  DeploymentSpec spec_;                     // the latest desired spec
  bool has_spec_ = false;
  int target_ = 0;                          // replicas wanted (instance_count or autoscaled)
  std::optional<DeploymentSpec> serving_;   // what the routed replicas run
  std::optional<DeploymentSpec> rollout_;   // what the replicas being rolled out run
  double rollout_started_ = 0;
  int64_t rollout_started_ms_ = 0;          // unix time, for the status
  std::string failed_key_;                  // not retried until the spec changes again
  bool failed_ = false;
  bool removing_ = false;
  double scale_pending_until_ = 0;          // an instance_count change is converging
  std::string message_;

  // Restarts: replicas that died, waiting for their replacement; a backoff
  // that grows with failures in a row keeps a crashing replica from spinning.
  std::vector<std::pair<int, std::string>> restarts_;  // (old pid, why)
  int failures_in_a_row_ = 0;
  double next_start_at_ = 0;

  // Autoscale: the load meter's integral at the last sample.
  std::vector<LoadSample> samples_;
  double last_sample_at_ = -1;
  double last_integral_ = 0;
};

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_DEPLOYMENT_CONTROLLER_H_
