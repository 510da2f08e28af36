#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_ENDPOINT_HOST_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_ENDPOINT_HOST_H_

#include <string>

namespace amlc::runtime::endpoint {

struct EndpointHostOptions {
  std::string state_dir;  // holds desired.json; gets status.json, events.jsonl, logs
};

/// Runs one endpoint: its router (the load-balancing front) and the
/// supervision of its deployments' replicas, following DIR/desired.json
/// (re-read when it changes and on SIGHUP) and reporting in DIR/status.json.
/// Returns the process exit code once SIGTERM or SIGINT has stopped every
/// replica: 0; or 1 at once when it cannot start (another host holds DIR,
/// the address cannot be bound), with the reason on stderr.
int RunEndpointHost(const EndpointHostOptions& options);

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_ENDPOINT_HOST_H_
