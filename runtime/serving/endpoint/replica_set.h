#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_REPLICA_SET_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_REPLICA_SET_H_

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/serving/endpoint/desired_state.h"
#include "runtime/serving/endpoint/host_files.h"
#include "runtime/serving/endpoint/readiness_probe.h"
#include "runtime/serving/endpoint/router.h"

namespace amlc::runtime::endpoint {

/// Where a replica is in its life. Only kReady replicas are ever routed to.
enum class ReplicaPhase {
  kStarting,  // started, not answering /health/ready with 200 yet
  kReady,
  kDraining,  // no new requests; SIGTERM once its in-flight count is 0
  kStopping,  // SIGTERM sent; SIGKILL to its process group after a grace period
};

const char* ReplicaPhaseName(ReplicaPhase phase);

/// One scoring host process.
struct Replica {
  int index = 0;
  std::string name;      // "<deployment>-<index>", also the stem of its .log and .port files
  std::string key;       // DeploymentSpec::RolloutKey of the spec it runs
  std::string revision;
  pid_t pid = -1;
  int port = 0;
  ReplicaPhase phase = ReplicaPhase::kStarting;
  int64_t started_at_ms = 0;  // unix time
  double started_s = 0;       // host clock (seconds)
  double phase_since_s = 0;   // when the current phase began
  bool killed = false;        // SIGKILL sent
  std::string log_path;
  std::string port_file;
  std::shared_ptr<Backend> backend;  // made when it turns ready
  ReadinessProbe probe;              // while starting
};

/// A replica process that ended, as it was just before.
struct ReplicaExit {
  Replica replica;
  std::string how;       // "exit code 1", "killed by signal 9"
  bool expected = false;  // it was draining or stopping
};

struct PollResult {
  std::vector<ReplicaExit> exits;
  std::vector<std::string> became_ready;  // names
};

/// The processes of one deployment: starts them in their own process group
/// with the host's death signal set, reaps them, probes their readiness and
/// takes them through draining and stopping. Policy (how many, which
/// revision, restarts) belongs to the caller.
class ReplicaSet {
 public:
  ReplicaSet(std::string deployment, HostPaths paths, std::shared_ptr<LoadMeter> meter);

  /// Starts one replica running `spec`: its command plus --port 0 --port-file
  /// F --log-file F, stdout and stderr appended to the same log, spec.env on
  /// top of the host's environment. Must be called from the host's main
  /// thread (the death signal follows the thread that spawned it).
  StatusOr<Replica*> Launch(const DeploymentSpec& spec, double now);
  /// Reaps ended processes, probes starting ones, moves draining ones on.
  PollResult Poll(double now);
  /// Stops routing to `replica` (if it was) and stops it once it is idle.
  void Drain(Replica& replica, double now);
  /// Sends SIGKILL to every remaining replica's process group and reaps them.
  void KillAll();

  std::vector<std::unique_ptr<Replica>>& replicas() { return replicas_; }
  const std::vector<std::unique_ptr<Replica>>& replicas() const { return replicas_; }
  bool empty() const { return replicas_.empty(); }
  nlohmann::json StatusJson() const;

 private:
  /// Whether a starting replica has answered its readiness probe; starts
  /// the next probe when none is in flight.
  bool ProbedReady(Replica& replica);
  void Advance(Replica& replica, double now);

  std::string deployment_;
  HostPaths paths_;
  std::shared_ptr<LoadMeter> meter_;
  int next_index_ = 1;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_REPLICA_SET_H_
