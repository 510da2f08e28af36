// `amlc serve`: parses flags and hands them to runtime/serving. The
// interface is fixed: the local endpoint host runs this command as a replica.
#include "cli/serve_command.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/output.h"
#include "runtime/serving/scoring/serve.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

struct ServeFlags {
  runtime::serving::ServeOptions options;
  std::vector<std::string> env;
  std::vector<std::string> headers;  // --answer-header 'NAME: VALUE'
};

void Serve(ServeFlags& flags, int& exit_code) {
  for (const std::string& pair : flags.env) {
    size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      std::fprintf(stderr, "amlc: error: --env needs KEY=VALUE, got '%s'\n", pair.c_str());
      exit_code = kExitUsage;
      return;
    }
    flags.options.env[pair.substr(0, equals)] = pair.substr(equals + 1);
  }
  for (const std::string& pair : flags.headers) {
    size_t colon = pair.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::fprintf(stderr, "amlc: error: --answer-header needs 'NAME: VALUE', got '%s'\n", pair.c_str());
      exit_code = kExitUsage;
      return;
    }
    std::string value = pair.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    flags.options.answer_headers[pair.substr(0, colon)] = value;
  }
  if (Status checked = runtime::serving::CheckServeOptions(flags.options); !checked.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", checked.message().c_str());
    exit_code = kExitUsage;
    return;
  }
  Status served = runtime::serving::Serve(flags.options);
  if (!served.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", served.message().c_str());
    exit_code = 1;
  }
  if (flags.options.json_events) {
    json event = served.ok() ? json{{"event", "stopped"}, {"exit_code", exit_code}}
                             : json{{"event", "error"}, {"message", served.message()}, {"exit_code", exit_code}};
    std::printf("%s\n", event.dump().c_str());
  }
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  auto& o = flags->options;
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve an Azure ML scoring script (init()/run()) over HTTP with N Python workers");
  serve
      ->add_option("--entry-script", o.entry_script,
                   "The scoring script (defines init() and run(raw_data))")
      ->required();
  serve->add_option("--model-dir", o.model_dir,
                    "The model folder, given to the script as AZUREML_MODEL_DIR");
  serve->add_option("--python", o.python, "Python interpreter of the workers")
      ->capture_default_str();
  serve->add_option("--workers", o.workers, "Worker processes (one request at a time each)")
      ->capture_default_str();
  serve->add_option("--host", o.host, "Address to listen on (loopback unless you pass another)")
      ->capture_default_str();
  serve->add_option("--port", o.port, "Port to listen on (0 = a free port)")->capture_default_str();
  serve->add_option("--port-file", o.port_file, "Write the port listened on to this file");
  serve->add_option("--keys-file", o.keys_file,
                    "JSON {\"primary\": KEY, \"secondary\": KEY}: POST /score then needs "
                    "'Authorization: Bearer KEY'; "
                    "re-read when it changes");
  serve
      ->add_option("--request-timeout-ms", o.request_timeout_ms,
                   "Longest run() call; over it the request gets 504 and the worker is restarted")
      ->capture_default_str();
  serve->add_option("--max-body-bytes", o.max_body_bytes, "Largest request body (larger: 413)")
      ->capture_default_str();
  serve
      ->add_option("--max-queue-wait-ms", o.max_queue_wait_ms,
                   "How long a request waits for a free worker before 503")
      ->capture_default_str();
  serve->add_option("--telemetry-file", o.telemetry_file,
                    "Append one JSON line per scoring request here");
  serve
      ->add_option("--telemetry-sample-rate", o.telemetry_sample_rate,
                   "Share of requests whose bodies are recorded in the telemetry file (0.0 to 1.0)")
      ->capture_default_str();
  serve->add_option("--env", flags->env, "KEY=VALUE for the workers' environment (repeatable)");
  serve->add_option("--answer-header", flags->headers,
                    "'NAME: VALUE' sent with every answer, e.g. the deployment's lineage (repeatable)");
  serve->add_option("--log-file", o.log_file,
                    "Append the host's and the workers' log here (default: stderr)");
  serve->add_flag("--json", o.json_events,
                  "Print JSON events on stdout: {\"event\": \"listening\", \"host\", \"port\", ...} once bound, "
                  "{\"event\": \"stopped\"|\"error\", \"exit_code\", ...} at the end");
  serve->callback([flags, &exit_code] { Serve(*flags, exit_code); });
}

}  // namespace amlc::cli
