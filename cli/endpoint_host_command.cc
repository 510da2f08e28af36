#include "cli/endpoint_host_command.h"

#include <memory>

#include "runtime/serving/endpoint/endpoint_host.h"

namespace amlc::cli {

void AddEndpointHostCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<runtime::endpoint::EndpointHostOptions>();
  CLI::App* command = app.add_subcommand(
      "endpoint-host",
      "Run one endpoint: route its scoring requests and supervise its deployments' replicas "
      "(started by apply; follows DIR/desired.json, reports in DIR/status.json)");
  command->add_option("--state-dir", options->state_dir,
                      "The endpoint's folder: desired.json in; status.json, events.jsonl, logs out")
      ->required();
  command->group("");  // internal: started by apply, hidden from `amlc --help` and completion
  command->callback(
      [options, &exit_code] { exit_code = runtime::endpoint::RunEndpointHost(*options); });
}

}  // namespace amlc::cli
