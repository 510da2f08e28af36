#ifndef AMLC_RUNTIME_SERVING_SCORING_SERVE_H_
#define AMLC_RUNTIME_SERVING_SCORING_SERVE_H_

// `amlc serve`: one scoring replica. Runs an Azure ML scoring script
// (init() once per worker, run(raw_data) per request) in N Python worker
// processes behind a C++ HTTP front until SIGTERM or SIGINT, then drains
// the requests in progress, stops the workers and returns.

#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"

namespace amlc::runtime::serving {

struct ServeOptions {
  std::string entry_script;
  std::string model_dir;  // "" = AZUREML_MODEL_DIR as inherited
  std::string python = "/usr/bin/python3";
  int workers = 1;
  std::string host = "127.0.0.1";
  int port = 0;           // 0 = any free port
  std::string port_file;  // the bound port is written here (atomically)
  std::string keys_file;  // "" = no authentication
  int request_timeout_ms = 5000;
  int64_t max_body_bytes = 10 * 1024 * 1024;
  int max_queue_wait_ms = 1000;
  std::string telemetry_file;
  double telemetry_sample_rate = 0.0;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> answer_headers;  // sent with every answer (lineage)
  std::string log_file;  // "" = stderr
  bool json_events = false;  // stdout: {"event": "listening", ...} instead of "listening on HOST:PORT"
};

/// What is wrong with the options (kInvalidArgument), before anything starts.
Status CheckServeOptions(const ServeOptions& options);

/// Serves until SIGTERM/SIGINT. Prints "listening on HOST:PORT" (or its
/// JSON event) on stdout once the port is bound. Ok after a clean shutdown; an error when the
/// replica could not start (bad options, port taken, unwritable files).
Status Serve(const ServeOptions& options);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackAddress(const std::string& host);

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_SERVE_H_
