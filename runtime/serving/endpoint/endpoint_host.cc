// Implementation notes: one thread owns all supervision (this file's loop and
// the controllers); the router's threads only read the routing table it
// publishes. The loop sleeps in sigtimedwait, so SIGTERM, SIGINT and SIGHUP
// are blocked in every thread and taken here synchronously, with no handler
// and no flag. Each turn (100 ms): notice desired.json changes (stat every
// 200 ms), tick every deployment, publish the routes and the status. A host
// whose state folder was deleted stops by itself: nobody can reach or stop it
// through the folder any more.
#include "runtime/serving/endpoint/endpoint_host.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "runtime/serving/endpoint/deployment_controller.h"
#include "runtime/serving/endpoint/desired_state.h"
#include "runtime/serving/endpoint/host_files.h"
#include "runtime/serving/endpoint/request_gate.h"
#include "runtime/serving/endpoint/router.h"
#include "base/http_front.h"

namespace amlc::runtime::endpoint {

namespace {

constexpr double kTickS = 0.1;
constexpr double kDesiredPollS = 0.2;
constexpr double kStatusRefreshS = 1.0;
constexpr double kShutdownDeadlineS = 15;  // beyond the replicas' own grace period

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What identifies one version of desired.json on disk; the apply side
// replaces it by rename, so the inode changes even within one mtime tick.
struct FileStamp {
  bool exists = false;
  ino_t inode = 0;
  int64_t mtime_ns = 0;
  off_t size = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp Stamp(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return {};
  return {true, info.st_ino, info.st_mtim.tv_sec * 1000000000LL + info.st_mtim.tv_nsec,
          info.st_size};
}

// The port the previous host of this folder listened on (its last status.json), 0 when none.
int PortListenedOnBefore(const HostPaths& paths) {
  std::ifstream in(paths.status());
  nlohmann::json status = nlohmann::json::parse(in, nullptr, false);
  if (!status.is_object()) return 0;
  const nlohmann::json& port = status.contains("port") ? status["port"] : nlohmann::json();
  return port.is_number_integer() && port.get<int>() > 0 && port.get<int>() < 65536 ? port.get<int>() : 0;
}

class EndpointHost {
 public:
  explicit EndpointHost(const std::string& dir)
      : paths_(dir), log_(paths_.log()), events_(paths_.events()) {}

  int Run();

 private:
  int WaitSignal(double seconds);
  bool WaitForDesired();
  /// Starts the router on the desired port or, when desired.json leaves it to
  /// the host, on the port of the host before this one: an endpoint keeps its
  /// scoring URL for its lifetime, across kills and restores.
  StatusOr<int> StartRouter();
  void Reload(double now);
  void Apply(const DesiredState& desired, double now);
  void Tick(double now);
  void PublishStatus(bool force);
  void Shutdown();

  HostPaths paths_;
  HostLog log_;
  EventLog events_;
  PidLock lock_;
  sigset_t signals_{};
  std::unique_ptr<Router> router_;
  RequestGates gates_;
  std::optional<DesiredState> desired_;
  std::string desired_error_;
  FileStamp stamp_;
  std::string host_;
  int port_ = 0;
  std::map<std::string, std::unique_ptr<DeploymentController>> controllers_;
  int64_t acked_generation_ = -1;
  bool stopped_ = false;
  std::string last_status_;
  double last_status_at_ = -1e9;
};

// Sleeps until a signal we wait for arrives or `seconds` pass; 0 = none came.
int EndpointHost::WaitSignal(double seconds) {
  timespec timeout{static_cast<time_t>(seconds),
                   static_cast<long>((seconds - static_cast<double>(static_cast<time_t>(seconds))) *
                                     1e9)};
  siginfo_t info;
  int signal = sigtimedwait(&signals_, &info, &timeout);
  return signal > 0 ? signal : 0;
}

int EndpointHost::Run() {
  std::error_code error;
  std::filesystem::create_directories(paths_.replicas(), error);
  if (error) {
    std::fprintf(stderr, "amlc: error: cannot create %s: %s\n", paths_.replicas().c_str(),
                 error.message().c_str());
    return 1;
  }
  if (Status locked = lock_.Acquire(paths_.pid_file()); !locked.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", locked.message().c_str());
    return 1;
  }
  // Blocked before any thread starts, so that every thread inherits the mask
  // and only sigtimedwait in this loop ever takes them.
  sigemptyset(&signals_);
  for (int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals_, signal);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a client or replica that hangs up must not end the host
  // Each client connection (slow ones too) holds a descriptor: the default
  // soft limit (1024) would cap the router far below its connection limit.
  RaiseOpenFileLimit();
  log_.Write("endpoint host started (pid " + std::to_string(getpid()) + ") for " + paths_.dir);
  if (!WaitForDesired()) {
    Shutdown();
    return 0;
  }
  StatusOr<int> port = StartRouter();
  if (!port.ok()) {
    desired_error_ = port.status().message();
    log_.Write("cannot start: " + desired_error_);
    std::fprintf(stderr, "amlc: error: %s\n", desired_error_.c_str());
    router_.reset();
    Shutdown();
    return 1;
  }
  host_ = desired_->host;
  port_ = port.value();
  log_.Write("endpoint '" + desired_->endpoint + "' listening on " + host_ + ":" +
             std::to_string(port_));
  Apply(*desired_, Now());
  double last_check = Now();
  while (true) {
    int signal = WaitSignal(kTickS);
    if (signal == SIGTERM || signal == SIGINT) {
      log_.Write(std::string("received ") + strsignal(signal) + ": stopping");
      break;
    }
    double now = Now();
    bool reload = signal == SIGHUP;
    if (now - last_check >= kDesiredPollS) {
      last_check = now;
      if (!lock_.StillHeld()) {
        log_.Write("the state folder or its pid file is gone: stopping");
        break;
      }
      FileStamp stamp = Stamp(paths_.desired());
      reload = reload || !(stamp == stamp_);
    }
    if (reload) Reload(now);
    Tick(now);
  }
  Shutdown();
  return 0;
}

StatusOr<int> EndpointHost::StartRouter() {
  int earlier = desired_->port == 0 ? PortListenedOnBefore(paths_) : 0;
  router_ = std::make_unique<Router>(desired_->endpoint);
  StatusOr<int> port = router_->Start(desired_->host, earlier != 0 ? earlier : desired_->port);
  if (!port.ok() && earlier != 0) {
    log_.Write("port " + std::to_string(earlier) + ", where this endpoint listened before, is taken (" +
               port.status().message() + "); listening on a new one, so its scoring URL changes");
    router_ = std::make_unique<Router>(desired_->endpoint);
    port = router_->Start(desired_->host, 0);
  }
  return port;
}

bool EndpointHost::WaitForDesired() {
  while (true) {
    stamp_ = Stamp(paths_.desired());
    StatusOr<DesiredState> desired = ReadDesiredState(paths_.desired());
    if (desired.ok()) {
      desired_ = desired.value();
      desired_error_.clear();
      return true;
    }
    if (desired_error_ != desired.status().message()) {
      desired_error_ = desired.status().message();
      log_.Write("waiting for a valid desired.json: " + desired_error_);
    }
    PublishStatus(false);
    int signal = WaitSignal(kDesiredPollS);
    if (signal == SIGTERM || signal == SIGINT) return false;
  }
}

void EndpointHost::Reload(double now) {
  stamp_ = Stamp(paths_.desired());
  StatusOr<DesiredState> desired = ReadDesiredState(paths_.desired());
  if (!desired.ok()) {
    // Keep running what was last applied; the status says why the new file is ignored.
    if (desired_error_ != desired.status().message()) {
      log_.Write("desired.json ignored: " + desired.status().message());
    }
    desired_error_ = desired.status().message();
    return;
  }
  desired_error_.clear();
  Apply(desired.value(), now);
}

void EndpointHost::Apply(const DesiredState& desired, double now) {
  if (desired.host != host_ || (desired.port != 0 && desired.port != port_)) {
    log_.Write("desired.json asks for " + desired.host + ":" + std::to_string(desired.port) +
               "; the host keeps listening on " + host_ + ":" + std::to_string(port_) +
               " until it is restarted");
  }
  for (const auto& [name, spec] : desired.deployments) {
    auto& controller = controllers_[name];
    if (!controller) controller = std::make_unique<DeploymentController>(name, paths_, events_, log_);
    controller->SetSpec(spec, now);
  }
  for (auto& [name, controller] : controllers_) {
    if (!desired.deployments.count(name)) controller->Remove(now);
  }
  desired_ = desired;
  log_.Write("applying generation " + std::to_string(desired.generation));
}

void EndpointHost::Tick(double now) {
  bool converging = false;
  for (auto it = controllers_.begin(); it != controllers_.end();) {
    it->second->Tick(now);
    if (it->second->Gone()) {
      it = controllers_.erase(it);
      continue;
    }
    converging = converging || it->second->Converging(now);
    ++it;
  }
  std::vector<Route> routes;
  std::set<std::string> known;
  for (const auto& [name, spec] : desired_->deployments) {
    known.insert(name);
    const DeploymentController& controller = *controllers_.at(name);
    routes.push_back({name, desired_->TrafficOf(name), controller.Routable(), gates_.For(spec),
                      controller.Recovering()});
  }
  router_->SetRoutes(std::move(routes), std::move(known), desired_->pin_header);
  if (!converging) acked_generation_ = desired_->generation;
  PublishStatus(false);
}

void EndpointHost::PublishStatus(bool force) {
  nlohmann::json deployments = nlohmann::json::object();
  for (const auto& [name, controller] : controllers_) {
    nlohmann::json entry = controller->StatusJson();
    entry["traffic"] = desired_ ? desired_->TrafficOf(name) : 0;
    deployments[name] = entry;
  }
  nlohmann::json document = {{"pid", getpid()},
                             {"endpoint", desired_ ? desired_->endpoint : ""},
                             {"host", host_},
                             {"port", port_},
                             {"generation", acked_generation_},
                             {"desired_generation", desired_ ? desired_->generation : -1},
                             {"deployments", deployments}};
  if (!desired_error_.empty()) document["error"] = desired_error_;
  if (stopped_) document["stopped"] = true;
  std::string body = document.dump();
  double now = Now();
  if (!force && body == last_status_ && now - last_status_at_ < kStatusRefreshS) return;
  document["updated_at"] = UnixMillis();
  std::string text = document.dump(2);
  if (Status written = WriteFileAtomically(paths_.status(), text + "\n"); !written.ok()) {
    log_.Write(written.message());
  }
  if (router_) router_->SetStatusDocument(text);
  last_status_ = body;
  last_status_at_ = now;
}

void EndpointHost::Shutdown() {
  // Stop accepting first and answer what is in flight; the replicas are still
  // up for that. Then every replica drains (idle now) and is stopped.
  if (router_) {
    router_->Stop();
    router_->SetRoutes({}, {}, "");  // lets every replica count as unrouted
  }
  double now = Now();
  for (auto& [name, controller] : controllers_) controller->Remove(now);
  double deadline = now + kShutdownDeadlineS;
  while (Now() < deadline) {
    bool all_gone = true;
    for (auto& [name, controller] : controllers_) {
      controller->Tick(Now());
      all_gone = all_gone && controller->Gone();
    }
    PublishStatus(false);
    if (all_gone) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& [name, controller] : controllers_) controller->KillAll();
  controllers_.clear();
  stopped_ = true;
  PublishStatus(true);
  log_.Write("stopped");
  lock_.Release();
}

}  // namespace

int RunEndpointHost(const EndpointHostOptions& options) {
  EndpointHost host(options.state_dir);
  return host.Run();
}

}  // namespace amlc::runtime::endpoint
