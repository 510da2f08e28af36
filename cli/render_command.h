#ifndef AMLC_CLI_RENDER_COMMAND_H_
#define AMLC_CLI_RENDER_COMMAND_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc render DIR --target kubernetes|iot-edge -o OUT`: the
/// deployments of the specs as files for targets amlc does not run itself
/// (Kubernetes manifests, Azure IoT Edge deployment manifests).
void AddRenderCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RENDER_COMMAND_H_
