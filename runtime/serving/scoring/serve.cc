// Notes: SIGTERM and SIGINT are blocked before any thread starts (every
// thread inherits the mask) and taken by one thread with sigtimedwait, so
// shutdown runs as ordinary code: stop accepting, let the front finish
// the requests in progress (each is bounded by the request timeout), then
// stop the workers. Workers get the signals unblocked again before exec.
#include "runtime/serving/scoring/serve.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/http_front.h"
#include "runtime/serving/scoring/keys.h"
#include "runtime/serving/scoring/log_pump.h"
#include "runtime/serving/scoring/scoring_server.h"
#include "runtime/serving/scoring/serving_metrics.h"
#include "runtime/serving/scoring/telemetry_writer.h"
#include "runtime/serving/scoring/worker_pool.h"

namespace amlc::runtime::serving {

namespace fs = std::filesystem;

namespace {

Status Invalid(const std::string& message) { return Status(StatusCode::kInvalidArgument, message); }

std::string Absolute(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error);
  return (error ? fs::path(path) : absolute).lexically_normal().string();
}

// temp + rename: a reader never sees a half-written port number.
Status WritePortFile(const std::string& path, int port) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush())
      return Status(StatusCode::kFailedPrecondition, "cannot write the port file " + temp);
  }
  std::error_code error;
  fs::rename(temp, path, error);
  if (error) {
    fs::remove(temp, error);
    return Status(StatusCode::kFailedPrecondition, "cannot write the port file " + path);
  }
  return Status::Ok();
}

// Blocks SIGTERM and SIGINT for this thread and every thread started after
// it (they inherit the mask), so one thread can take them with sigtimedwait;
// restores the caller's mask when it goes.
class StopSignalScope {
 public:
  StopSignalScope() {
    sigemptyset(&stop_signals_);
    sigaddset(&stop_signals_, SIGTERM);
    sigaddset(&stop_signals_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals_, &previous_);
    signal(SIGPIPE, SIG_IGN);  // a worker that dies mid-write is an EPIPE, not our death
    signal(SIGCHLD, SIG_DFL);  // an inherited SIG_IGN would make waitpid miss our workers
  }
  ~StopSignalScope() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;

  const sigset_t& stop_signals() const { return stop_signals_; }

 private:
  sigset_t stop_signals_;
  sigset_t previous_;
};

// The files the server writes to or reads keys from; keys and telemetry are
// null when their options are not given.
struct ServeFiles {
  std::unique_ptr<LogSink> log;
  std::unique_ptr<KeyStore> keys;
  std::unique_ptr<TelemetryWriter> telemetry;
};

StatusOr<ServeFiles> OpenServeFiles(const ServeOptions& options) {
  ServeFiles files;
  auto log = LogSink::Open(options.log_file);
  if (!log.ok()) return log.status();
  files.log = std::move(log.value());
  if (!options.keys_file.empty()) {
    auto opened = KeyStore::Open(options.keys_file);
    if (!opened.ok()) return opened.status();
    files.keys = std::move(opened.value());
  }
  if (!options.telemetry_file.empty()) {
    auto opened = TelemetryWriter::Open(options.telemetry_file, options.telemetry_sample_rate);
    if (!opened.ok()) return opened.status();
    files.telemetry = std::move(opened.value());
  }
  return files;
}

WorkerSpec WorkerSpecFor(const ServeOptions& options) {
  WorkerSpec spec;
  spec.python = options.python;
  spec.entry_script = Absolute(options.entry_script);
  spec.model_dir = options.model_dir.empty() ? "" : Absolute(options.model_dir);
  spec.env = options.env;
  return spec;
}

ServerLimits ServerLimitsFor(const ServeOptions& options) {
  ServerLimits limits;
  limits.max_body_bytes = options.max_body_bytes;
  limits.request_timeout = std::chrono::milliseconds(options.request_timeout_ms);
  limits.queue_wait = std::chrono::milliseconds(options.max_queue_wait_ms);
  return limits;
}

// Tells the log, stdout and the port file (in that order) where the server
// listens.
Status AnnounceListening(const ServeOptions& options, int port, const WorkerSpec& spec,
                         bool has_keys, LogSink& sink) {
  if (!IsLoopbackAddress(options.host) && !has_keys) {
    sink.Line("amlc", "warning: listening on " + options.host +
                          " without --keys-file: anyone who can reach it can score");
  }
  sink.Line("amlc", "listening on " + options.host + ":" + std::to_string(port) + " with " +
                        std::to_string(options.workers) + " worker(s) for " + spec.entry_script);
  // stdout first: whoever waits for the port file then finds the line too.
  if (options.json_events) {
    nlohmann::json event = {{"event", "listening"}, {"host", options.host}, {"port", port},
                            {"workers", options.workers}, {"entry_script", spec.entry_script}};
    std::printf("%s\n", event.dump().c_str());
  } else {
    std::printf("listening on %s:%d\n", options.host.c_str(), port);
  }
  std::fflush(stdout);
  if (!options.port_file.empty()) {
    if (Status written = WritePortFile(options.port_file, port); !written.ok()) return written;
  }
  return Status::Ok();
}

// Serves until SIGTERM or SIGINT stops the server, or it stops on its own;
// returns whether a signal asked for the stop.
bool ServeUntilStopSignal(ScoringServer& server, const sigset_t& stop_signals, LogSink& sink) {
  std::atomic<bool> finished{false};
  std::atomic<bool> stop_requested{false};
  std::thread signals([&] {
    timespec tick{0, 100 * 1000 * 1000};
    while (!finished) {
      int received = sigtimedwait(&stop_signals, nullptr, &tick);
      if (received > 0 && !stop_requested) {
        stop_requested = true;
        sink.Line("amlc", std::string("received ") + (received == SIGTERM ? "SIGTERM" : "SIGINT") +
                              ": no new connections; finishing the requests in progress");
      }
      // Again on every tick: a stop that lands before listen() starts is lost.
      if (stop_requested) server.Stop();
    }
  });
  server.Listen();
  finished = true;
  signals.join();
  return stop_requested;
}

}  // namespace

bool IsLoopbackAddress(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Status CheckServeOptions(const ServeOptions& options) {
  std::error_code error;
  if (options.entry_script.empty())
    return Invalid("--entry-script is required: the scoring script (score.py)");
  if (!fs::is_regular_file(options.entry_script, error)) {
    return Invalid("the entry script " + options.entry_script + " is not a file");
  }
  if (!options.model_dir.empty() && !fs::is_directory(options.model_dir, error)) {
    return Invalid("the model folder " + options.model_dir + " is not a folder");
  }
  if (access(options.python.c_str(), X_OK) != 0) {
    return Invalid("the Python interpreter " + options.python +
                   " cannot be run (use --python PATH)");
  }
  if (options.workers < 1 || options.workers > 256)
    return Invalid("--workers must be between 1 and 256");
  if (options.port < 0 || options.port > 65535)
    return Invalid("--port must be between 0 and 65535");
  if (options.request_timeout_ms < 1) return Invalid("--request-timeout-ms must be at least 1");
  if (options.max_queue_wait_ms < 0) return Invalid("--max-queue-wait-ms must not be negative");
  if (options.max_body_bytes < 1 || options.max_body_bytes > (int64_t{1} << 30)) {
    return Invalid("--max-body-bytes must be between 1 and 1073741824");
  }
  if (!(options.telemetry_sample_rate >= 0.0 && options.telemetry_sample_rate <= 1.0)) {
    return Invalid("--telemetry-sample-rate must be between 0.0 and 1.0");
  }
  if (options.host.empty()) return Invalid("--host must not be empty");
  for (const auto& [key, value] : options.env) {
    if (key.empty() || key.find('=') != std::string::npos)
      return Invalid("--env needs KEY=VALUE, got '" + key + "'");
  }
  return Status::Ok();
}

Status Serve(const ServeOptions& options) {
  if (Status checked = CheckServeOptions(options); !checked.ok()) return checked;
  // Before any thread starts, so that every thread inherits the blocked mask.
  StopSignalScope stop_signals;
  // Slow or idle clients each hold a descriptor: the default soft limit (1024)
  // would cap the front's connections far below its own limit.
  RaiseOpenFileLimit();

  auto files = OpenServeFiles(options);
  if (!files.ok()) return files.status();
  WorkerSpec spec = WorkerSpecFor(options);
  LogSink& sink = *files->log;
  LogPump pump(sink);
  WorkerPool pool(spec, options.workers, sink, pump);
  ServingMetrics metrics;
  ScoringServer server(pool, metrics, files->keys.get(), files->telemetry.get(), sink,
                       ServerLimitsFor(options));
  server.set_answer_headers(options.answer_headers);

  auto port = server.Bind(options.host, options.port);
  if (!port.ok()) return port.status();
  if (Status announced = AnnounceListening(options, port.value(), spec, files->keys != nullptr, sink);
      !announced.ok()) {
    return announced;
  }
  pool.Start();

  bool stop_requested = ServeUntilStopSignal(server, stop_signals.stop_signals(), sink);

  sink.Line("amlc", "stopping the workers");
  pool.Stop(std::chrono::milliseconds(2000));
  if (files->telemetry) files->telemetry->Close();
  sink.Line("amlc", "stopped");
  pump.Stop(1000);
  if (!stop_requested) return Status(StatusCode::kInternal, "the HTTP server stopped on its own");
  return Status::Ok();
}

}  // namespace amlc::runtime::serving
