// Implementation notes: a replica is spawned (base's Spawn) from the host's
// main thread in its own session (so a signal to its group reaches its
// workers and nothing else) with SIGTERM as its parent death signal, so it is
// told to stop even when the host is killed with -9. Spawn gives it only
// stdio (not the router's sockets or the pid file's lock) and default
// signals (the host ignores SIGPIPE and blocks the signals it waits for).
// SIGTERM goes to the leader only, which lets `amlc serve` drain its own
// workers; SIGKILL, after the grace period, goes to the whole group.
#include "runtime/serving/endpoint/replica_set.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "base/process.h"

namespace amlc::runtime::endpoint {

namespace {

constexpr double kStopGraceS = 10;       // SIGTERM to SIGKILL
constexpr double kDrainTimeoutS = 300;   // longest wait for in-flight requests

}  // namespace

const char* ReplicaPhaseName(ReplicaPhase phase) {
  switch (phase) {
    case ReplicaPhase::kStarting: return "starting";
    case ReplicaPhase::kReady: return "ready";
    case ReplicaPhase::kDraining: return "draining";
    case ReplicaPhase::kStopping: return "stopping";
  }
  return "unknown";
}

ReplicaSet::ReplicaSet(std::string deployment, HostPaths paths, std::shared_ptr<LoadMeter> meter)
    : deployment_(std::move(deployment)), paths_(std::move(paths)), meter_(std::move(meter)) {}

StatusOr<Replica*> ReplicaSet::Launch(const DeploymentSpec& spec, double now) {
  auto replica = std::make_unique<Replica>();
  replica->index = next_index_++;
  replica->name = deployment_ + "-" + std::to_string(replica->index);
  replica->key = spec.RolloutKey();
  replica->revision = spec.revision;
  std::string stem = paths_.replica(deployment_, replica->index);
  replica->log_path = stem + ".log";
  replica->port_file = stem + ".port";
  std::error_code error;
  std::filesystem::create_directories(paths_.replicas(), error);
  std::filesystem::remove(replica->port_file, error);  // never read a previous run's port

  ProcessSpec process_spec;
  process_spec.argv = spec.command;
  for (const char* flag : {"--port", "0"}) process_spec.argv.emplace_back(flag);
  process_spec.argv.insert(process_spec.argv.end(),
                           {"--port-file", replica->port_file, "--log-file", replica->log_path});
  process_spec.env = EnvironmentWith(spec.env);
  process_spec.parent_death_signal = SIGTERM;

  int log_fd = open(replica->log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Status(StatusCode::kUnavailable, "cannot open " + replica->log_path + ": " +
                                                std::strerror(errno));
  }
  std::string banner = "=== amlc endpoint-host: starting " + replica->name + " (revision " +
                       spec.revision + ")\n";
  ssize_t ignored = write(log_fd, banner.data(), banner.size());
  process_spec.stdout_fd = process_spec.stderr_fd = log_fd;
  StatusOr<Process> started = Spawn(process_spec);
  if (!started.ok()) {
    // The replica's log says why it did not start, as the host's log does.
    std::string failure = "amlc endpoint-host: " + started.status().message() + "\n";
    ignored = write(log_fd, failure.data(), failure.size());
  }
  (void)ignored;
  close(log_fd);
  if (!started.ok()) {
    return Status(StatusCode::kUnavailable, "cannot start " + replica->name + ": " +
                                                started.status().message());
  }
  replica->pid = started->pid();
  replica->started_at_ms = UnixMillis();
  replica->started_s = now;
  replica->phase_since_s = now;
  replicas_.push_back(std::move(replica));
  return replicas_.back().get();
}

bool ReplicaSet::ProbedReady(Replica& replica) {
  ReadinessProbe::Result result = replica.probe.Take();
  if (result == ReadinessProbe::Result::kReady) return true;
  if (result == ReadinessProbe::Result::kInFlight) return false;
  // Read the port file for every probe: a half-written file or a stale port
  // only fails the probe, the next one reads it again.
  std::ifstream in(replica.port_file);
  int port = 0;
  if (!(in >> port) || port <= 0 || port > 65535) return false;
  replica.port = port;
  replica.probe.Start(port);
  return false;
}

void ReplicaSet::Advance(Replica& replica, double now) {
  switch (replica.phase) {
    case ReplicaPhase::kStarting:
      if (ProbedReady(replica)) {
        replica.phase = ReplicaPhase::kReady;
        replica.phase_since_s = now;
        replica.backend = std::make_shared<Backend>(deployment_, replica.revision, replica.pid,
                                                    replica.port, meter_);
      }
      break;
    case ReplicaPhase::kReady:
      break;
    case ReplicaPhase::kDraining:
      if (!replica.backend ||
          (!replica.backend->routed() && replica.backend->in_flight() == 0) ||
          now - replica.phase_since_s > kDrainTimeoutS) {
        if (replica.backend) replica.backend->CloseConnections();
        kill(replica.pid, SIGTERM);
        replica.phase = ReplicaPhase::kStopping;
        replica.phase_since_s = now;
      }
      break;
    case ReplicaPhase::kStopping:
      if (!replica.killed && now - replica.phase_since_s > kStopGraceS) {
        SignalGroup(replica.pid, SIGKILL);
        replica.killed = true;
      }
      break;
  }
}

PollResult ReplicaSet::Poll(double now) {
  PollResult result;
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    Replica& replica = **it;
    if (std::optional<int> status = ReapIfEnded(replica.pid)) {
      // The leader is gone; whatever it left in its group goes too (the group
      // id cannot be reused while any member lives). Not SignalGroup: its
      // fallback to the pid alone could hit a new process once it is reaped.
      kill(-replica.pid, SIGKILL);
      std::error_code error;
      std::filesystem::remove(replica.port_file, error);
      if (replica.backend) replica.backend->CloseConnections();
      bool expected = replica.phase == ReplicaPhase::kDraining ||
                      replica.phase == ReplicaPhase::kStopping;
      result.exits.push_back({std::move(replica), DescribeWaitStatus(*status), expected});
      it = replicas_.erase(it);
      continue;
    }
    ReplicaPhase before = replica.phase;
    Advance(replica, now);
    if (before == ReplicaPhase::kStarting && replica.phase == ReplicaPhase::kReady) {
      result.became_ready.push_back(replica.name);
    }
    ++it;
  }
  return result;
}

void ReplicaSet::Drain(Replica& replica, double now) {
  if (replica.phase == ReplicaPhase::kDraining || replica.phase == ReplicaPhase::kStopping) return;
  replica.phase = ReplicaPhase::kDraining;
  replica.phase_since_s = now;
  Advance(replica, now);  // a never-routed replica is signalled at once
}

void ReplicaSet::KillAll() {
  for (auto& replica : replicas_) {
    SignalGroup(replica->pid, SIGKILL);
    WaitForChild(replica->pid);
  }
  replicas_.clear();
}

nlohmann::json ReplicaSet::StatusJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& replica : replicas_) {
    out.push_back({{"name", replica->name},
                   {"pid", replica->pid},
                   {"port", replica->port},
                   {"revision", replica->revision},
                   {"ready", replica->phase == ReplicaPhase::kReady},
                   {"state", ReplicaPhaseName(replica->phase)},
                   {"started_at", replica->started_at_ms}});
  }
  return out;
}

}  // namespace amlc::runtime::endpoint
