// Implementation notes: apply and the endpoint host share nothing but files.
// desired.json (an endpoint::DesiredState, runtime/serving/endpoint/
// desired_state.h) is written by apply (under an flock on desired.lock, so two
// applies of different deployments of one endpoint do not lose each other's
// changes) and read by the host, which answers in status.json with the
// generation it acted on. The host is started detached, through
// `setsid --fork` (see EnsureEndpointHost), so it outlives the apply that
// started it, like a service, and is never a child of the apply.
#include "runtime/deploy/local_endpoints.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/process.h"
#include "runtime/artifacts/snapshot/file_io.h"

namespace amlc::runtime {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status WriteJson(const std::string& path, const json& value, mode_t mode) {
  std::string text = value.dump(2) + "\n";
  return snapshot::WriteFileAtomically(path, mode, [&](int fd) { return snapshot::WriteAll(fd, text, path); });
}

json ReadJson(const std::string& path) {
  auto text = snapshot::ReadSmallFile(path);
  if (!text.ok()) return json::object();
  json value = json::parse(text.value(), nullptr, false);
  return value.is_object() ? value : json::object();
}

StatusOr<std::string> RandomKey() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status(StatusCode::kInternal, "the system has no randomness");
  static const char* kHex = "0123456789abcdef";
  std::string key;
  for (unsigned char b : bytes) {
    key += kHex[b >> 4];
    key += kHex[b & 15];
  }
  return key;
}

long PidFromFile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return pid;
}

// Whether `pid` runs. A killed host whose parent (init, in a container often
// not a reaper) has not reaped it still answers kill(0): a zombie does not run.
bool ProcessAlive(long pid) {
  if (pid <= 0 || kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] != 'Z';
}

std::string LogTail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string tail;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) tail += "\n  " + all[i];
  return tail;
}

}  // namespace

std::string AmlcExecutable() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? "amlc" : self.string();
}

std::string EndpointDir(const Workspace& workspace, const std::string& endpoint) {
  return workspace.home() + "/endpoints/" + endpoint;
}

std::string KeysFile(const Workspace& workspace, const std::string& endpoint, const std::string& deployment) {
  return EndpointDir(workspace, endpoint) + "/keys/" + deployment + ".json";
}

StatusOr<DeploymentKeys> EnsureDeploymentKeys(const Workspace& workspace, const std::string& endpoint,
                                              const std::string& deployment) {
  std::string path = KeysFile(workspace, endpoint, deployment);
  json keys = ReadJson(path);
  if (keys.value("primary", "").empty() || keys.value("secondary", "").empty()) {
    for (const char* which : {"primary", "secondary"}) {
      if (!keys.value(which, "").empty()) continue;
      auto key = RandomKey();
      if (!key.ok()) return key.status();
      keys[which] = key.value();
    }
    if (Status s = WriteJson(path, keys, 0600); !s.ok()) return s;
  }
  return DeploymentKeys{keys["primary"], keys["secondary"]};
}

StatusOr<DeploymentKeys> RegenerateDeploymentKey(const Workspace& workspace, const std::string& endpoint,
                                                 const std::string& deployment, const std::string& which) {
  if (which != "primary" && which != "secondary") {
    return Status(StatusCode::kInvalidArgument, "regenerate 'primary' or 'secondary', not '" + which + "'");
  }
  auto keys = EnsureDeploymentKeys(workspace, endpoint, deployment);
  if (!keys.ok()) return keys.status();
  auto key = RandomKey();
  if (!key.ok()) return key.status();
  (which == "primary" ? keys->primary : keys->secondary) = key.value();
  json out{{"primary", keys->primary}, {"secondary", keys->secondary}};
  if (Status s = WriteJson(KeysFile(workspace, endpoint, deployment), out, 0600); !s.ok()) return s;
  return keys;
}

std::string DesiredStateFile(const std::string& endpoint_dir) { return endpoint_dir + "/desired.json"; }

StatusOr<int64_t> UpdateDesiredState(const std::string& endpoint_dir,
                                     const std::function<void(endpoint::DesiredState&)>& change) {
  std::error_code error;
  fs::create_directories(endpoint_dir, error);
  std::string lock_path = endpoint_dir + "/desired.lock";
  snapshot::UniqueFd lock(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0 || flock(lock.get(), LOCK_EX) != 0) {
    return Status(StatusCode::kUnavailable, "cannot lock '" + lock_path + "'");
  }
  std::string path = DesiredStateFile(endpoint_dir);
  StatusOr<endpoint::DesiredState> desired = endpoint::ReadDesiredState(path);
  if (desired.status().code() == StatusCode::kNotFound) {
    desired = endpoint::DesiredState{};
    desired->endpoint = fs::path(endpoint_dir).filename().string();
  }
  if (!desired.ok()) return Status(desired.status().code(), path + ": " + desired.status().message());
  change(desired.value());
  desired->generation += 1;
  // Checked as the host will read it, so that a mistake fails this apply
  // instead of being ignored by the host.
  std::string text = endpoint::DesiredStateToJson(desired.value());
  if (auto valid = endpoint::ParseDesiredState(text); !valid.ok()) return valid.status();
  Status written = snapshot::WriteFileAtomically(path, 0600, [&](int fd) { return snapshot::WriteAll(fd, text, path); });
  if (!written.ok()) return written;
  return desired->generation;
}

endpoint::DeploymentSpec ScaledDeploymentSpec(const deploy::DeploymentSettings& settings) {
  // Saturated, so that a count too large for the host stays too large and is
  // named by the validation instead of wrapping into range.
  auto count = [](int64_t value) { return static_cast<int>(std::clamp<int64_t>(value, INT_MIN, INT_MAX)); };
  endpoint::DeploymentSpec spec;
  spec.instance_count = count(settings.instance_count);
  spec.readiness_timeout_s = settings.ReadinessTimeoutS();
  endpoint::AutoscaleSpec& autoscale = spec.autoscale;
  autoscale.enabled = settings.autoscale.enabled;
  autoscale.min = count(settings.autoscale.min);
  autoscale.max = count(settings.autoscale.max);
  autoscale.target_in_flight = settings.TargetInFlightPerReplica();
  autoscale.scale_up_after_s = settings.autoscale.scale_up_after_s;
  autoscale.scale_down_after_s = settings.autoscale.scale_down_after_s;
  autoscale.polling_interval_s = settings.autoscale.polling_interval_s;
  return spec;
}

bool EndpointHostRunning(const std::string& endpoint_dir) {
  return ProcessAlive(PidFromFile(endpoint_dir + "/endpoint-host.pid"));
}

Status EnsureEndpointHost(const std::string& endpoint_dir) {
  if (EndpointHostRunning(endpoint_dir)) return Status::Ok();
  std::string amlc = AmlcExecutable();
  std::string log = endpoint_dir + "/endpoint-host.out";
  // Not spawned directly: it would be our child, and in a long-lived process
  // (the reconciler) every host that ended would stay our zombie, holding its
  // pid, since nothing here waits for it. util-linux's `setsid --fork` is a
  // short-lived intermediate: it forks the host into a new session and exits
  // at once, we reap it here, and init adopts the host (the double fork this
  // did by hand before).
  ProcessSpec spec;
  spec.argv = {"setsid", "--fork", amlc, "endpoint-host", "--state-dir", endpoint_dir};
  spec.new_session = false;  // setsid makes the host's session
  spec.output_file = log;
  StatusOr<Process> intermediate = Spawn(spec);
  if (!intermediate.ok()) {
    return Status(StatusCode::kUnavailable, "cannot start the endpoint host: " + intermediate.status().message());
  }
  (void)intermediate->Wait();  // returns at once: the intermediate only forks
  // Wait until it has taken its pid file, so a second apply does not start another.
  for (int i = 0; i < 100 && !EndpointHostRunning(endpoint_dir); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!EndpointHostRunning(endpoint_dir)) {
    return Status(StatusCode::kUnavailable, "the endpoint host did not start:" + LogTail(log, 10));
  }
  return Status::Ok();
}

Status StopEndpointHost(const std::string& endpoint_dir, double timeout_seconds) {
  long pid = PidFromFile(endpoint_dir + "/endpoint-host.pid");
  if (pid <= 0 || kill(static_cast<pid_t>(pid), SIGTERM) != 0) return Status::Ok();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (ProcessAlive(pid)) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(static_cast<pid_t>(pid), SIGKILL);
      return Status(StatusCode::kUnavailable, "the endpoint host did not stop in time; killed it");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Ok();
}

json ReadHostStatus(const std::string& endpoint_dir) { return ReadJson(endpoint_dir + "/status.json"); }

StatusOr<json> WaitForHost(const std::string& endpoint_dir, int64_t generation, const std::string& deployment,
                           double timeout_seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (true) {
    json status = ReadHostStatus(endpoint_dir);
    if (status.value("generation", int64_t{0}) >= generation) {
      if (deployment.empty()) return status;
      json entry = status.contains("deployments") && status["deployments"].contains(deployment)
                       ? status["deployments"][deployment]
                       : json::object();
      if (entry.value("state", "") != "Updating" && !entry.empty()) return entry;
    }
    if (!EndpointHostRunning(endpoint_dir)) {
      return Status(StatusCode::kUnavailable,
                    "the endpoint host stopped:" + LogTail(endpoint_dir + "/endpoint-host.log", 10));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      // A host that refused desired.json says why (e.g. one started by another amlc version).
      std::string refused = status.value("error", "");
      return Status(StatusCode::kUnavailable, "the endpoint host did not report the new state in time" +
                                                  (refused.empty() ? "" : ": it says " + refused));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace amlc::runtime
