#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_REQUEST_GATE_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_REQUEST_GATE_H_

// What the endpoint host checks on a request's head before it reads the
// body, per deployment: the key and the body size limit. Both come from the
// replica's own command line (`amlc serve ... --keys-file F --max-body-bytes
// N`), so the host refuses exactly what the replica would have refused,
// without the body ever crossing the host.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/serving/endpoint/desired_state.h"
#include "runtime/serving/scoring/keys.h"

namespace amlc::runtime::endpoint {

/// amlc serve's default --max-body-bytes, also the limit of a deployment
/// whose command does not say (a replica that is not amlc serve).
constexpr int64_t kDefaultMaxBodyBytes = 10 * 1024 * 1024;

struct RequestGate {
  std::shared_ptr<serving::KeyStore> keys;  // null: the host checks no key
  int64_t max_body_bytes = kDefaultMaxBodyBytes;
};

/// The gates of an endpoint's deployments, kept while their commands stay
/// the same (a KeyStore re-reads its file when it changes).
class RequestGates {
 public:
  /// The gate of `spec`. When its keys file cannot be read yet the gate has
  /// no keys (the replica, which reads the same file, still checks) and the
  /// next call tries again.
  RequestGate For(const DeploymentSpec& spec);

 private:
  struct Entry {
    std::vector<std::string> command;
    RequestGate gate;
  };
  std::map<std::string, Entry> entries_;  // by deployment name
};

/// The value of `--flag V` or `--flag=V` in `command`, "" when absent.
std::string FlagValue(const std::vector<std::string>& command, const std::string& flag);

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_REQUEST_GATE_H_
