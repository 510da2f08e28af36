#include "runtime/serving/endpoint/request_gate.h"

#include <cstdlib>

namespace amlc::runtime::endpoint {

std::string FlagValue(const std::vector<std::string>& command, const std::string& flag) {
  for (size_t i = 0; i < command.size(); ++i) {
    if (command[i] == flag && i + 1 < command.size()) return command[i + 1];
    if (command[i].rfind(flag + "=", 0) == 0) return command[i].substr(flag.size() + 1);
  }
  return "";
}

RequestGate RequestGates::For(const DeploymentSpec& spec) {
  auto found = entries_.find(spec.name);
  if (found != entries_.end() && found->second.command == spec.command) return found->second.gate;
  RequestGate gate;
  std::string limit = FlagValue(spec.command, "--max-body-bytes");
  char* end = nullptr;
  long long parsed = limit.empty() ? 0 : std::strtoll(limit.c_str(), &end, 10);
  if (parsed > 0 && end != nullptr && *end == '\0') gate.max_body_bytes = parsed;
  std::string keys_file = FlagValue(spec.command, "--keys-file");
  if (!keys_file.empty()) {
    auto opened = serving::KeyStore::Open(keys_file);
    if (!opened.ok()) return gate;  // not cached: tried again on the next call
    gate.keys = std::shared_ptr<serving::KeyStore>(std::move(opened.value()));
  }
  entries_[spec.name] = {spec.command, gate};
  return gate;
}

}  // namespace amlc::runtime::endpoint
