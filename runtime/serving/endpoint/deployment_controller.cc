// Implementation notes: the controller never blocks. Each Tick looks at the
// replicas (reaped, probed by ReplicaSet::Poll) and moves the deployment one
// step towards its spec:
//   * a rollout starts `target_` replicas of the new spec next to the serving
//     ones; only when all of them are ready does `serving_` switch to the new
//     spec, which is the moment the router starts using them (Routable) and
//     the old ones become strays that are drained;
//   * a rollout that is not ready in time, or whose replica exits, drains its
//     replicas (never routed, so they are signalled at once) and leaves the
//     serving ones alone;
//   * the serving set is kept at `target_` replicas: dead ones are replaced
//     (after a backoff when they keep dying), extra ones drained;
//   * the autoscaler moves `target_` by one, then waits for a full new window
//     of samples.
#include "runtime/serving/endpoint/deployment_controller.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/file_tail.h"

namespace amlc::runtime::endpoint {

namespace {

std::string Quote(const std::string& text) { return nlohmann::json(text).dump(); }

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", seconds);
  return text;
}

// Delay before the n-th replica start after failures in a row: the first
// replacement is immediate, then 0.5 s doubling up to 10 s.
double Backoff(int failures_in_a_row) {
  if (failures_in_a_row <= 1) return 0;
  return std::min(10.0, 0.5 * std::pow(2.0, failures_in_a_row - 2));
}

bool Live(const Replica& replica) {
  return replica.phase == ReplicaPhase::kStarting || replica.phase == ReplicaPhase::kReady;
}

}  // namespace

DeploymentController::DeploymentController(std::string name, HostPaths paths, EventLog& events,
                                           HostLog& log)
    : name_(std::move(name)), paths_(std::move(paths)), events_(events), log_(log),
      meter_(std::make_shared<LoadMeter>()), replicas_(name_, paths_, meter_) {}

std::string DeploymentController::RevisionText(const std::optional<DeploymentSpec>& spec) const {
  return spec ? Quote(spec->revision) : "null";
}

int DeploymentController::Count(const std::string& key, bool ready_only) const {
  int count = 0;
  for (const auto& replica : replicas_.replicas()) {
    if (replica->key != key) continue;
    if (ready_only ? replica->phase == ReplicaPhase::kReady : Live(*replica)) ++count;
  }
  return count;
}

void DeploymentController::SetSpec(const DeploymentSpec& spec, double now) {
  int before = target_;
  if (!has_spec_ || removing_ || spec.instance_count != spec_.instance_count ||
      spec.autoscale.enabled != spec_.autoscale.enabled) {
    target_ = spec.InitialReplicas();
  } else if (spec.autoscale.enabled) {
    target_ = std::clamp(target_, spec.autoscale.min, spec.autoscale.max);
  }
  if (has_spec_ && serving_ && target_ != before) {
    scale_pending_until_ = now + spec.readiness_timeout_s;
    log_.Write(name_ + ": replicas " + std::to_string(before) + " -> " + std::to_string(target_));
  }
  spec_ = spec;
  has_spec_ = true;
  removing_ = false;
  std::string key = spec.RolloutKey();
  if (serving_ && key == serving_->RolloutKey()) {
    serving_ = spec;
    if (rollout_) AbandonRollout("desired.json went back to revision " + spec.revision);
    failed_ = false;
    failed_key_.clear();
    return;
  }
  if (rollout_ && key == rollout_->RolloutKey()) {
    rollout_ = spec;
    return;
  }
  if (key == failed_key_) return;  // retried only when the spec changes again
  if (rollout_) AbandonRollout("superseded by revision " + spec.revision);
  StartRollout(spec, now);
}

void DeploymentController::Remove(double now) {
  if (!removing_) log_.Write(name_ + ": removing every replica");
  removing_ = true;
  serving_.reset();
  rollout_.reset();
  scale_pending_until_ = 0;
  for (auto& replica : replicas_.replicas()) replicas_.Drain(*replica, now);
}

void DeploymentController::StartRollout(const DeploymentSpec& spec, double now) {
  std::string reason = !serving_                             ? "new deployment"
                       : spec.revision != serving_->revision ? "revision changed"
                       : spec.command != serving_->command   ? "command changed"
                                                             : "environment changed";
  rollout_ = spec;
  rollout_started_ = now;
  rollout_started_ms_ = UnixMillis();
  failed_ = false;
  failed_key_.clear();
  message_ = "rolling out revision " + spec.revision;
  events_.Append(name_, "rollout_started", RevisionText(serving_), Quote(spec.revision), reason);
  log_.Write(name_ + ": rollout of revision " + spec.revision + " started (" + reason + ")");
}

void DeploymentController::AdvanceRollout(double now) {
  if (!rollout_) return;
  std::string key = rollout_->RolloutKey();
  int ready = Count(key, /*ready_only=*/true);
  if (ready >= target_) {
    std::string from = RevisionText(serving_);
    serving_ = rollout_;
    rollout_.reset();
    failures_in_a_row_ = 0;
    restarts_.clear();
    std::string reason = std::to_string(ready) + " replica" + (ready == 1 ? "" : "s") +
                         " ready after " + Seconds(now - rollout_started_);
    events_.Append(name_, "rollout_succeeded", from, Quote(serving_->revision), reason);
    log_.Write(name_ + ": revision " + serving_->revision + " serves: " + reason);
    DrainStrays(now);
    return;
  }
  if (now - rollout_started_ > rollout_->readiness_timeout_s) {
    const Replica* culprit = nullptr;
    for (const auto& replica : replicas_.replicas()) {
      if (replica->key == key && replica->phase == ReplicaPhase::kStarting && !culprit) {
        culprit = replica.get();
      }
    }
    FailRollout("its replicas were not ready within " + Seconds(rollout_->readiness_timeout_s) +
                    " (" + std::to_string(ready) + " of " + std::to_string(target_) + " ready)",
                culprit);
  }
}

void DeploymentController::FailRollout(const std::string& why, const Replica* culprit) {
  std::string revision = rollout_->revision;
  failed_key_ = rollout_->RolloutKey();
  failed_ = true;
  rollout_.reset();
  message_ = "rollout of revision " + revision + " failed: " + why;
  if (serving_) message_ += "; revision " + serving_->revision + " keeps serving";
  if (culprit) {
    message_ += "\nlast lines of " + culprit->log_path + ":\n" + LastLines(culprit->log_path, 10);
  }
  events_.Append(name_, "rollout_failed", RevisionText(serving_), Quote(revision), message_);
  log_.Write(name_ + ": " + message_);
  // Its replicas are strays now: the next DrainStrays stops them.
}

void DeploymentController::AbandonRollout(const std::string& why) {
  events_.Append(name_, "rollout_failed", RevisionText(serving_), Quote(rollout_->revision),
                 "abandoned: " + why);
  log_.Write(name_ + ": rollout of revision " + rollout_->revision + " abandoned: " + why);
  rollout_.reset();
}

void DeploymentController::DrainStrays(double now) {
  std::string serving = serving_ ? serving_->RolloutKey() : "";
  std::string rolling = rollout_ ? rollout_->RolloutKey() : "";
  for (auto& replica : replicas_.replicas()) {
    if (!Live(*replica) || replica->key == serving || replica->key == rolling) continue;
    log_.Write(name_ + ": draining " + replica->name + " (revision " + replica->revision + ")");
    replicas_.Drain(*replica, now);
  }
}

void DeploymentController::Reconcile(const DeploymentSpec& spec, bool serving, double now) {
  std::string key = spec.RolloutKey();
  std::vector<Replica*> live;
  for (auto& replica : replicas_.replicas()) {
    if (replica->key == key && Live(*replica)) live.push_back(replica.get());
  }
  for (int missing = target_ - static_cast<int>(live.size()); missing > 0; --missing) {
    if (serving && now < next_start_at_) break;
    StatusOr<Replica*> launched = replicas_.Launch(spec, now);
    if (!launched.ok()) {
      message_ = launched.status().message();
      log_.Write(name_ + ": " + message_);
      next_start_at_ = now + Backoff(++failures_in_a_row_ + 1);
      break;
    }
    Replica& started = *launched.value();
    log_.Write(name_ + ": started " + started.name + " (pid " + std::to_string(started.pid) +
               ", revision " + started.revision + ")");
    if (serving && !restarts_.empty()) {
      auto [old_pid, why] = restarts_.front();
      restarts_.erase(restarts_.begin());
      events_.Append(name_, "replica_restarted", std::to_string(old_pid),
                     std::to_string(started.pid), why);
    }
  }
  int extra = static_cast<int>(live.size()) - target_;
  if (extra <= 0) return;
  // Fewest losses first: replicas not ready yet, then the newest.
  std::sort(live.begin(), live.end(), [](const Replica* a, const Replica* b) {
    if (a->phase != b->phase) return a->phase == ReplicaPhase::kStarting;
    return a->index > b->index;
  });
  for (int i = 0; i < extra; ++i) {
    log_.Write(name_ + ": draining " + live[i]->name + " (more replicas than " +
               std::to_string(target_) + ")");
    replicas_.Drain(*live[i], now);
  }
}

void DeploymentController::TimeOutStarting(double now) {
  if (!serving_) return;
  std::string key = serving_->RolloutKey();
  for (auto& replica : replicas_.replicas()) {
    if (replica->key != key || replica->phase != ReplicaPhase::kStarting) continue;
    if (now - replica->started_s <= spec_.readiness_timeout_s) continue;
    std::string why = replica->name + " was not ready within " +
                      Seconds(spec_.readiness_timeout_s);
    log_.Write(name_ + ": " + why + "; replacing it");
    replicas_.Drain(*replica, now);
    next_start_at_ = now + Backoff(++failures_in_a_row_);
    restarts_.emplace_back(replica->pid, why);
  }
}

void DeploymentController::HandleExit(const ReplicaExit& exit, double now) {
  const Replica& replica = exit.replica;
  if (exit.expected) {
    log_.Write(name_ + ": " + replica.name + " stopped (" + exit.how + ")");
    return;
  }
  std::string why = replica.name + " (pid " + std::to_string(replica.pid) + ") exited" +
                    (replica.phase == ReplicaPhase::kReady ? "" : " before it was ready") +
                    ": " + exit.how;
  events_.Append(name_, "replica_exited", std::to_string(replica.pid), "null", why);
  log_.Write(name_ + ": " + why + "; last lines of its log:\n" + LastLines(replica.log_path, 5));
  if (rollout_ && replica.key == rollout_->RolloutKey()) {
    FailRollout(why, &replica);
    return;
  }
  if (serving_ && replica.key == serving_->RolloutKey()) {
    next_start_at_ = now + Backoff(++failures_in_a_row_);
    restarts_.emplace_back(replica.pid, why);
  }
}

void DeploymentController::Autoscale(double now) {
  const AutoscaleSpec& autoscale = spec_.autoscale;
  if (!autoscale.enabled || !serving_ || rollout_ || removing_) {
    samples_.clear();
    last_sample_at_ = -1;
    return;
  }
  if (last_sample_at_ < 0) {
    last_sample_at_ = now;
    last_integral_ = meter_->Integral();
    return;
  }
  if (now - last_sample_at_ < autoscale.polling_interval_s) return;
  double integral = meter_->Integral();
  double average = (integral - last_integral_) / (now - last_sample_at_);
  last_integral_ = integral;
  last_sample_at_ = now;
  std::string key = serving_->RolloutKey();
  int ready = Count(key, /*ready_only=*/true);
  // While replicas come and go the per-replica load means little: start
  // a new window once the set is settled.
  if (ready == 0 || ready != target_ || Count(key, /*ready_only=*/false) != target_) {
    samples_.clear();
    return;
  }
  samples_.push_back({now, average / ready});
  double keep = std::max(autoscale.scale_up_after_s, autoscale.scale_down_after_s) +
                2 * autoscale.polling_interval_s;
  std::erase_if(samples_, [&](const LoadSample& sample) { return sample.time_s < now - keep; });
  ScaleDecision decision = DecideScale(autoscale, samples_, target_);
  if (decision.direction == ScaleDirection::kNone) return;
  const char* event = decision.direction == ScaleDirection::kUp ? "scale_up" : "scale_down";
  events_.Append(name_, event, std::to_string(target_), std::to_string(decision.to),
                 decision.reason);
  log_.Write(name_ + ": " + event + " " + std::to_string(target_) + " -> " +
             std::to_string(decision.to) + ": " + decision.reason);
  target_ = decision.to;
  samples_.clear();
}

void DeploymentController::Tick(double now) {
  PollResult polled = replicas_.Poll(now);
  for (const std::string& name : polled.became_ready) {
    log_.Write(name_ + ": " + name + " is ready");
    failures_in_a_row_ = 0;
  }
  for (const ReplicaExit& exit : polled.exits) HandleExit(exit, now);
  if (removing_) {
    for (auto& replica : replicas_.replicas()) replicas_.Drain(*replica, now);
    return;
  }
  AdvanceRollout(now);
  DrainStrays(now);
  if (serving_) Reconcile(*serving_, /*serving=*/true, now);
  if (rollout_) Reconcile(*rollout_, /*serving=*/false, now);
  TimeOutStarting(now);
  Autoscale(now);
  if (scale_pending_until_ > 0 &&
      (now > scale_pending_until_ || !serving_ ||
       Count(serving_->RolloutKey(), /*ready_only=*/true) == target_)) {
    scale_pending_until_ = 0;
  }
}

std::vector<std::shared_ptr<Backend>> DeploymentController::Routable() const {
  std::vector<std::shared_ptr<Backend>> out;
  if (!serving_ || removing_) return out;
  std::string key = serving_->RolloutKey();
  for (const auto& replica : replicas_.replicas()) {
    if (replica->key == key && replica->phase == ReplicaPhase::kReady) {
      out.push_back(replica->backend);
    }
  }
  return out;
}

bool DeploymentController::Converging(double) const {
  return removing_ || rollout_.has_value() || scale_pending_until_ > 0;
}

nlohmann::json DeploymentController::StatusJson() const {
  std::string state = "Succeeded";
  std::string message = message_;
  if (removing_) {
    state = "Updating";
    message = "being removed: draining and stopping its replicas";
  } else if (rollout_) {
    state = "Updating";
  } else if (failed_) {
    state = "Failed";
  } else if (scale_pending_until_ > 0) {
    state = "Updating";
    message = "scaling to " + std::to_string(target_) + " replicas";
  } else if (!serving_) {
    state = "Updating";
  }
  if (state == "Succeeded") {
    int ready = Count(serving_->RolloutKey(), /*ready_only=*/true);
    message = "revision " + serving_->revision + ": " + std::to_string(ready) + " of " +
              std::to_string(target_) + " replicas ready";
    if (!restarts_.empty()) message += "; restarting after: " + restarts_.back().second;
  }
  nlohmann::json out = {{"state", state},
                        {"message", message},
                        {"revision", serving_ ? serving_->revision : ""},
                        {"desired_replicas", target_},
                        {"replicas", replicas_.StatusJson()}};
  if (rollout_) {
    out["rollout"] = {{"revision", rollout_->revision}, {"started_at", rollout_started_ms_}};
  }
  return out;
}

}  // namespace amlc::runtime::endpoint
